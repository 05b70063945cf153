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

import threading
from types import TracebackType


class _Retention(threading.local):
    """Per thread: how many `keep_graph()` blocks are open (a depth, so they nest)."""

    depth = 0


_retention = _Retention()


def is_graph_kept() -> bool:
    """True inside `keep_graph()` on this thread."""
    return _retention.depth > 0


class keep_graph:  # noqa: N801 (a context manager, named like no_grad)
    """Context manager: `backward()` inside keeps the graph and every intermediate gradient."""

    def __enter__(self) -> keep_graph:
        _retention.depth += 1
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        _retention.depth -= 1
