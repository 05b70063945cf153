"""The tensor engine's backward pass: the chain rule over a graph of Tensors, newest node first.

`Tensor.backward()` and `grad()` both end here. Each op's `backward` (ops.py) turns dL/d(out) into
dL/d(input) for each input; this module decides the order, sums the gradients that meet at a node,
writes or returns them, and releases the graph as it goes unless it is kept. It never imports
`Tensor`: a node is a `graph.Node`, and a constant that joins a recorded graph is made with `from_numpy`.
"""

from __future__ import annotations

from contextlib import nullcontext
from heapq import heappop, heappush
from typing import Any

import numpy as np

from . import tensor_checks as checks
from .anomaly import anomaly_mode, check_backward
from .formulas import unbroadcast
from .graph import Node, away, enable_grad
from .retention import is_graph_kept
from .versions import check_versions, last_write

FREED = object()  # marks a node whose saved arrays were released by backward


def is_released(node: Any) -> bool:
    """True for a tensor node whose graph a backward pass released (its inputs and saved arrays are gone)."""
    return getattr(node, "_saved", None) is FREED


def seed(caller: str, out: Any, gradient: Any) -> Any:
    """dL/d(out) to start from: ones for a one-element output, else the caller's, checked."""
    if gradient is None:
        if out.data.size != 1:
            raise checks.gradient_not_implied(caller, out.shape)
        return np.ones(out.data.shape, dtype=out.data.dtype)
    if type(gradient) is not type(out):
        gradient = np.array(gradient, dtype=out.data.dtype)  # a copy: the engine may add into it
    if gradient.shape != out.shape:
        raise checks.seed_shape(caller, gradient.shape, out.shape)
    return gradient


def keeps_graph(retain_graph: bool | None, create_graph: bool) -> bool:
    """Whether a pass keeps the graph: as asked, else when it records one, or inside `keep_graph()`."""
    return (create_graph if retain_graph is None else retain_graph) or is_graph_kept()


def backprop(
    roots: tuple[Node, ...],
    seeds: tuple[Any, ...],
    retain_graph: bool,
    create_graph: bool,
    inputs: tuple[Node, ...] | None = None,
) -> tuple[Any, ...]:
    """The chain rule over the graph behind `roots`, newest node first (HIPS autograd's `backward_pass`).

    Every user of a node is newer than it, so the newest node with a gradient has its whole gradient:
    its op's backward turns it into one per input, and `Totals.add` adds each into that input's total.
    Nodes are found as gradients reach them, and (unless `retain_graph`) each is released as the loop
    passes it, so memory is freed as the pass goes. Leaves wait until the end: `backward()` (no `inputs`)
    accumulates them into `.grad`, `grad()` returns the inputs'. With `create_graph` gradients are Tensors.
    """
    totals = Totals(create_graph)
    for root, start in zip(roots, seeds):
        totals.add(root, _as_seed(root, start, create_graph), None)
    wanted = None if inputs is None else dict.fromkeys(inputs)
    frontier, pending, add = totals.frontier, totals.pending, totals.add
    with enable_grad() if create_graph else nullcontext():  # asked for a graph: record it even in no_grad
        while frontier:
            node = heappop(frontier)[2]  # the newest op with a gradient: its gradient is complete
            g = pending.pop(node)
            if wanted is None:  # backward(): an intermediate result shows it while the graph is kept, to draw it
                node.grad = g if retain_graph or node is roots[0] else None
            elif node in wanted:  # grad(): kept to return
                wanted[node] = g
            parents, needs = node._parents, node._needs  # needs: which inputs wanted a gradient in the forward pass
            saved = node._saved
            if saved is FREED:
                raise checks.graph_freed(node._op.__name__)
            if create_graph:  # what the op saved, as Tensors, so that its backward records a graph
                saved = node._op.saved_tensors(parents, node, saved)
            if last_write[0] > node._order:  # something was written in place since this node was made
                check_versions(node)
            grads = node._op.backward(saved, g, needs)
            if away.count and anomaly_mode.enabled:
                _check_anomaly(node, parents, grads)
            if not retain_graph:  # release: what it saved and its links to its inputs (and so the graph behind)
                node._saved, node._parents = FREED, ()
            for parent, grad, need in zip(parents, grads, needs):
                if need and grad is not None:
                    add(parent, grad, g)
    return _leaves_done(totals, wanted, inputs)


class Totals:
    """dL/d(node) summed so far for each node a gradient reached, and the ops among them, newest first.
    Totals in `owned` are arrays only the engine holds: gradients are added into them in place."""

    __slots__ = ("create_graph", "frontier", "owned", "pending")

    def __init__(self, create_graph: bool) -> None:
        self.create_graph = create_graph
        self.pending: dict[Node, Any] = {}
        self.owned: set[Node] = set()
        # (-tick, id, node): the newest first; id breaks a tie (a copied node keeps its tick), never Tensor's <
        self.frontier: list[tuple[int, int, Node]] = []

    def add(self, node: Node, grad: Any, upstream: Any) -> None:
        """Add `grad` into dL/d(node). `upstream` is the gradient it was computed from: an op may hand
        that back unchanged (or a view of it), and then the array is not ours to add into."""
        data = node.data
        if type(grad) is not np.ndarray or grad.shape != data.shape or grad.dtype != data.dtype:
            grad, ours = self._conform(node, grad)
        else:
            ours = grad is not upstream and grad.base is None
        total = self.pending.get(node)
        if total is None:
            self.pending[node] = grad
            if ours:
                self.owned.add(node)
            if node._op is not None:
                heappush(self.frontier, (-node._order, id(node), node))
        elif node in self.owned:
            total += grad
        else:
            total = total + grad
            if not isinstance(total, Node):  # a new array, ours to add into (0-d arrays add up to a NumPy scalar)
                total = np.asarray(total)
                self.owned.add(node)
            self.pending[node] = total

    def _conform(self, node: Node, grad: Any) -> tuple[Any, bool]:
        """`grad` made the node's kind (and whether it is ours): summed back where it was broadcast, an array
        (NumPy gives scalars for 0-d), cast to its dtype, a leaf under create_graph (a constant)."""
        ours = False
        if grad.shape != node.data.shape:
            grad = unbroadcast(grad, node.data.shape)
            ours = type(grad) is np.ndarray  # a sum is a new array; a Node is never added into
        if isinstance(grad, Node):
            return grad, False
        if type(grad) is not np.ndarray:
            grad = np.asarray(grad)
        if grad.dtype != node.data.dtype:
            grad, ours = grad.astype(node.data.dtype), True
        if self.create_graph:
            return type(node).from_numpy(grad), False
        return grad, ours


def _as_seed(root: Node, start: Any, create_graph: bool) -> Any:
    """The seed as the pass needs it: a Tensor when it records a graph, else an array."""
    if create_graph != isinstance(start, Node):
        start = type(root).from_numpy(start) if create_graph else np.array(start.data)
    return start


def _check_anomaly(node: Node, parents: tuple[Any, ...], grads: tuple[Any, ...]) -> None:
    """Under detect_anomaly: stop at the first op whose backward made an inf or NaN."""
    shapes = [None if p is None else p.shape for p in parents]
    check_backward(node._op.__name__, [d.data if isinstance(d, Node) else d for d in grads], shapes, node._order)


def _leaves_done(totals: Totals, wanted: dict[Node, Any] | None, inputs: tuple[Node, ...] | None) -> tuple[Any, ...]:
    """`grad()`'s bookkeeping: the leaves' totals into `.grad`, or the inputs' gradients returned in order."""
    for leaf, g in totals.pending.items():  # only leaves are left, each with its whole gradient
        if wanted is None:
            if leaf.requires_grad:  # (a leaf switched off since the forward pass gets none, as in PyTorch)
                _to_leaf(leaf, g, leaf in totals.owned)
        elif leaf in wanted:
            wanted[leaf] = g
    if wanted is None or inputs is None:
        return ()
    # The caller gets arrays of its own, one per input (an input given twice gets two).
    return tuple(g.copy() if type(g) is np.ndarray else g for g in map(wanted.get, inputs))


def _to_leaf(node: Node, grad: Any, fresh: bool) -> None:
    """Accumulate into a leaf's `.grad`, which the leaf owns (optimizers update it in place)."""
    if node.grad is None:
        # A borrowed gradient is copied: the same array may have been handed to another input (x + x),
        # and in-place updates of one leaf's grad must never change another's.
        node.grad = grad if fresh or isinstance(grad, Node) else grad.copy()
    elif isinstance(node.grad, Node) and not isinstance(grad, Node):  # a first-order pass records nothing
        node.grad = type(node).from_numpy(np.asarray(node.grad.data + grad))
    else:
        node.grad += grad
