"""`keep_graph()`: ask the tensor engine's `backward` to keep the graph, for drawing it afterwards.

By default `Tensor.backward()` releases the graph behind its output as PyTorch does: the arrays
saved for backward, the links to the intermediate results and their gradients all go, so a loss
kept in a list (`losses.append(loss)`) holds one number, not a whole step's activations.
Drawings, the step-through page and `train --graph` want that graph after backward, with a
gradient on every node: inside `with keep_graph():` every `backward()` behaves as if given
`retain_graph=True`. The setting is per thread, like grad mode. The scalar `Value` engine always
keeps its graph (it is small, and drawing it is the point).
"""

from __future__ import annotations

from .graph import Mode, Switch

_kept = Mode(False, f"{__name__}._kept")  # per thread: whether backward keeps the graph


def is_graph_kept() -> bool:
    """True inside `keep_graph()` on this thread."""
    return _kept.enabled


class keep_graph(Switch):  # noqa: N801 (a context manager, named like no_grad)
    """Context manager and decorator: `backward()` inside keeps the graph and every intermediate gradient."""

    def __init__(self) -> None:
        super().__init__(_kept, True)
