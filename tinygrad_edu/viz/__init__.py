"""Drawing the backprop graph: `draw` returns a `graphviz.Digraph`, `render` writes it to a file.

This is the only part of tinygrad_edu that imports `graphviz`; it reads the graph through
`tinygrad_edu.graph.walk` and never changes it.
"""

from .draw import draw
from .html import Steps, steps, to_html
from .rendering import RenderError, render

__all__ = ["RenderError", "Steps", "draw", "render", "steps", "to_html"]
