"""Drawing the backprop graph: `draw` returns a `graphviz.Digraph`, `render` writes it to a file.

This is the only part of tinygrad_edu that imports `graphviz` (on the first drawing, so importing
tinygrad_edu stays light); it reads the graph through `tinygrad_edu.graph.walk` and never changes
it. It learns which module made which node from `record_modules()`, through nn's public forward
hooks, and gives `Value` and `Tensor` their `.draw()` convenience method.
"""

from typing import Any

from ..errors import RenderError
from .draw import attach_methods, draw
from .modules import ModuleCalls, record_modules

attach_methods()

# The page and the file writer load on first use: `import tinygrad_edu` imports this package (for
# `.draw()`), and they bring subprocess, threads and the page's assets.
_LAZY = {"Steps": "html", "steps": "html", "to_html": "html", "render": "rendering"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'tinygrad_edu.viz' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


__all__ = ["ModuleCalls", "RenderError", "Steps", "draw", "record_modules", "render", "steps", "to_html"]
