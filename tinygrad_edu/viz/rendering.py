"""`render`: draw the graph and write it to a file, with the system `dot` or a WebAssembly fallback.

Three promises. The file appears whole or not at all (written to a temporary file in the same
folder, then `os.replace`d, so a reader never sees half an SVG). `format="dot"` always works, as it
needs no program. And rendering never hangs: `dot` runs in a child process with a timeout; past
it, the collapsed view is tried, and past that the `.dot` source is left with a message.
"""

from __future__ import annotations

import math
import os
import subprocess
import warnings
from pathlib import Path
from typing import Any

from ..errors import ArgumentError, RenderError
from ..files import write_atomic
from .draw import draw
from .layout import INSTALL_HELP, NoLayoutProgramError, layout

__all__ = ["FORMATS", "INSTALL_HELP", "NoLayoutProgramError", "RenderError", "layout", "render"]

FORMATS = ("svg", "png", "pdf", "dot")
FALLBACK_MAX_NODES = 200  # what the collapsed view draws after `dot` ran out of time


def render(
    root: Any,
    path: str | os.PathLike,
    format: str | None = None,  # noqa: A002 (graphviz's name)
    timeout: float = 30.0,
    **draw_kwargs: Any,
) -> str:
    """Draw the graph ending in `root` (see `draw` for the keywords) and write it to `path`; returns `path`.

    `root` may also be a drawing already made (a `graphviz.Digraph`, such as a check report's `draw()`):
    it is laid out as it is, and past the timeout its DOT source is left instead, as it cannot be collapsed.

    `format` is 'svg', 'png', 'pdf' or 'dot' (the DOT source itself); by default the suffix of
    `path` picks it (else svg), and a format that contradicts the suffix (PNG bytes in `x.svg`) is
    refused. Without the `dot` program,
    'svg' is made by the optional WebAssembly build when installed; otherwise the DOT source is
    written next to `path` (same name, `.dot`) and a `RenderError` says how to install Graphviz.
    """
    suffix = os.path.splitext(os.fspath(path))[1][1:].lower()
    suffix = suffix if suffix in FORMATS else None
    format = format or suffix or "svg"  # noqa: A001
    if format not in FORMATS:
        raise ArgumentError(f"render: format={format!r}; use one of {', '.join(FORMATS)}")
    if suffix is not None and suffix != format:
        raise ArgumentError(
            f"render: format={format!r} but the file name {os.fspath(path)} ends in .{suffix}; "
            f"name it ...{format}, or leave out format= (the suffix picks it)"
        )
    if not (timeout > 0 and math.isfinite(timeout)):
        raise ArgumentError(f"render: timeout={timeout} s; it must be a positive, finite number of seconds")
    import graphviz  # on the first drawing, as draw does, so importing tinygrad_edu stays light

    drawn = isinstance(root, graphviz.Digraph)
    if drawn and draw_kwargs:
        raise ArgumentError(
            f"render: root is already a drawing, so draw's keywords ({', '.join(draw_kwargs)}) cannot apply; "
            "pass them to draw, or pass the graph's root node instead of the drawing"
        )
    path = Path(path)
    source = root.source if drawn else draw(root, **draw_kwargs).source
    if format == "dot":
        _write_atomic(path, source.encode())
        return str(path)
    try:
        image = layout(source, format, timeout)
    except NoLayoutProgramError:
        dot_path = _dot_path(path)
        _write_atomic(dot_path, source.encode())
        raise RenderError(
            f"render: the Graphviz program `dot` is not installed, so no {format} can be made here; "
            f"the DOT source was written to {dot_path} instead. {INSTALL_HELP}"
        ) from None
    except subprocess.TimeoutExpired:
        fallback = {**draw_kwargs, "collapse": True}
        fallback["max_nodes"] = min(draw_kwargs.get("max_nodes", 500), FALLBACK_MAX_NODES)
        if drawn or fallback == draw_kwargs:
            _give_up(path, source, f"`dot` did not finish within {timeout:g} s")
        warnings.warn(
            f"render: `dot` did not finish within {timeout:g} s, so the collapsed view "
            f"(max_nodes={fallback['max_nodes']}) was drawn instead; pass a larger timeout= for the full graph",
            RuntimeWarning,
            stacklevel=2,
        )
        source = draw(root, **fallback).source
        try:
            image = layout(source, format, timeout)
        except subprocess.TimeoutExpired:
            _give_up(path, source, f"`dot` did not finish within {timeout:g} s, even on the collapsed view")
    _write_atomic(path, image)
    return str(path)


def _give_up(path: Path, source: str, why: str) -> None:
    """Leave the DOT source next to `path` and say what happened and what to do."""
    dot_path = _dot_path(path)
    _write_atomic(dot_path, source.encode())
    raise RenderError(
        f"render: {why}; the DOT source was written to {dot_path} instead. "
        f"Pass a larger timeout= or a smaller max_nodes=, or run `dot -T{path.suffix[1:] or 'svg'} {dot_path}` yourself"
    )


def _dot_path(path: Path) -> Path:
    dot_path = path.with_suffix(".dot")
    return dot_path if dot_path != path else path.with_suffix(".gv")


def _write_atomic(path: Path, data: bytes) -> None:
    write_atomic(path, lambda file: file.write(data))
