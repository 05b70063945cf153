"""Drawing the backprop graph: `draw` returns a `graphviz.Digraph`, `render` writes it to a file.

This is the only part of tinygrad_edu that imports `graphviz` (on the first drawing, so importing
tinygrad_edu stays light); it reads the graph through `tinygrad_edu.graph.walk` and never changes
it. It learns which module made which node from `record_modules()`, through nn's public forward
hooks. `Value.draw()` and `Tensor.draw()` (the engine's, in `graph.Node`) call `draw` here.
"""

from .draw import draw
from .html import Steps, steps, to_html
from .modules import ModuleCalls, record_modules
from .rendering import RenderError, render

__all__ = ["ModuleCalls", "RenderError", "Steps", "draw", "record_modules", "render", "steps", "to_html"]
__all__ += ["LiveView", "live", "record"]  # watch training: a live page, or a recording (live_view.py)


def __getattr__(name: str) -> object:
    """`live`, `record`, `LiveView` load live_view.py (and its web server) on first use, not at import: its
    3,400 objects made every full pass of the cyclic GC longer, in every process that trains on Values."""
    if name in ("LiveView", "live", "record"):
        from . import live_view

        return getattr(live_view, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
