"""The tensor engine's backward pass: the chain rule over a graph of Tensors, newest node first.

`Tensor.backward()` and `grad()` both end here. Each op's `backward` (ops.py) turns dL/d(out) into
dL/d(input) for each input; this module orders the nodes, sums the gradients that meet at a node,
writes or returns them, and releases the graph as it goes unless it is kept. It never imports `Tensor`.
"""

from __future__ import annotations

from contextlib import nullcontext
from heapq import heappop, heappush
from sys import getrefcount, implementation, version_info
from typing import Any

import numpy as np

from . import tensor_checks as checks
from .anomaly import anomaly_mode, check_tensor_backward
from .formulas import unbroadcast
from .graph import Node, away, enable_grad
from .retention import is_graph_kept
from .versions import check_versions, last_write


def seed(caller: str, out: Any, gradient: Any) -> Any:
    """dL/d(out) to start from: ones for a one-element output, else the caller's, checked."""
    if gradient is None:
        if out.data.size != 1:
            raise checks.gradient_not_implied(caller, out.shape)
        return np.ones(out.data.shape, dtype=out.data.dtype)
    if type(gradient) is not type(out):
        gradient = np.array(gradient, dtype=out.data.dtype)
    if gradient.shape != out.shape:
        raise checks.seed_shape(caller, gradient.shape, out.shape)
    return gradient


def keeps_graph(retain_graph: bool | None, create_graph: bool) -> bool:
    """Whether a pass keeps the graph: as asked, else when it records one, or inside `keep_graph()`."""
    return (create_graph if retain_graph is None else retain_graph) or is_graph_kept()


def backprop(roots: tuple, seeds: tuple, retain_graph: bool, create_graph: bool, inputs: tuple | None = None) -> tuple:
    """The chain rule over the graph behind `roots`, newest node first (HIPS autograd's `backward_pass`).

    Every user of a node is newer than it, so the newest node with a gradient has its whole gradient: its
    op's backward turns it into one per input, and `Totals.add` adds each into that input's total. Each node
    is released as the loop passes it (unless `retain_graph`); the leaves' totals, left at the end, go to
    `.grad` (or `grad()` returns its inputs'). With `create_graph` gradients are Tensors."""
    totals = Totals(create_graph, inputs or ())
    for root, start in zip(roots, seeds):
        totals.add(root, _as_seed(root, start, create_graph))
    take = totals.take if inputs else totals.pending.pop  # only grad() keeps a total as the loop passes it
    frontier, add, loss = totals.frontier, totals.add, roots[0]
    check = away.count and anomaly_mode.enabled  # read the thread-local only when some thread switched a mode
    with enable_grad() if create_graph else nullcontext():  # asked for a graph: record it even in no_grad
        while frontier:
            node = heappop(frontier)[2]  # the newest op with a gradient: its gradient is complete
            g = take(node)
            if inputs is None:  # an intermediate result shows its gradient while the graph is kept, for draw
                node.grad = g if retain_graph or node is loss else None
            parents, needs, saved = node._parents, node._needs, node._saved  # needs: inputs that want a gradient
            if saved is checks.FREED:
                raise checks.graph_freed(node._op.__name__)
            if create_graph:  # what the op saved, as Tensors, so that its backward records a graph
                saved = node._op.saved_tensors(parents, node, saved)
            if last_write[0] > node._order:  # something was written in place since this node was made
                check_versions(node)
            grads = node._op.backward(saved, g, needs)
            if check:
                check_tensor_backward(node, grads)  # under detect_anomaly: stop at an inf or NaN
            if not retain_graph:
                release(node)
            for parent, grad, need in zip(parents, grads, needs):
                if need and grad is not None:
                    add(parent, grad)
        g = grads = grad = None  # the last op's arrays: now only the totals hold them (see `_sole`)
    return totals.done(inputs)


def release(node: Node) -> None:
    """Let go of what the node saved and of its links to its inputs (and so of the graph behind it)."""
    node._saved, node._parents = checks.FREED, ()


class Totals:
    """dL/d(node) summed so far for each node a gradient reached, and the ops among them, newest first."""

    __slots__ = ("create_graph", "frontier", "kept", "pending")

    def __init__(self, create_graph: bool, inputs: tuple[Node, ...]) -> None:
        self.create_graph = create_graph
        self.pending: dict[Node, Any] = {}
        self.kept = dict.fromkeys(inputs)  # grad()'s inputs: their totals are kept for the end
        self.frontier: list = []  # (-tick, id, node): newest first; id breaks a tie (never Tensor's <)

    def add(self, node: Node, grad: Any) -> None:
        """Add `grad` into dL/d(node) (HIPS autograd's `add_outgrads`)."""
        data = node.data
        if type(grad) is not np.ndarray or grad.shape != data.shape or grad.dtype != data.dtype:
            grad = self._conform(node, grad)
        total = self.pending.get(node)
        if total is None:
            self.pending[node] = grad
            if node._op is not None:
                heappush(self.frontier, (-node._order, id(node), node))
        else:  # a new array: an op may hand one array to two inputs (x + x), so none is added into in place
            total = total + grad
            self.pending[node] = total if isinstance(total, Node) else np.asarray(total)  # 0-d: not a scalar

    def take(self, node: Node) -> Any:
        """A node's whole gradient, as the loop passes it; a `grad()` input's is also kept to return."""
        g = self.pending.pop(node)
        if node in self.kept:
            self.kept[node] = g
        return g

    def _conform(self, node: Node, grad: Any) -> Any:
        """`grad` made the node's kind: summed back where broadcast, of its dtype, a Tensor under create_graph."""
        if grad.shape != node.data.shape:
            grad = unbroadcast(grad, node.data.shape)
        if isinstance(grad, Node):
            return grad
        grad = np.asarray(grad, dtype=node.data.dtype)
        return type(node).from_numpy(grad) if self.create_graph else grad

    def done(self, inputs: tuple[Node, ...] | None) -> tuple[Any, ...]:
        """`grad()`'s bookkeeping: the leaves' totals into `.grad`, or the inputs' gradients returned in order."""
        while self.pending:  # only leaves are left, each with its whole gradient
            leaf, g = self.pending.popitem()
            sole = _sole(g)  # (asked here, where `g` is the only name for it, before any call holds it too)
            if inputs is None and leaf.requires_grad:  # (a leaf switched off since the forward pass gets none)
                _to_leaf(leaf, g, sole)
            elif leaf in self.kept:
                self.kept[leaf] = g
        if inputs is None:
            return ()
        return tuple(g.copy() if type(g) is np.ndarray else g for g in map(self.kept.get, inputs))  # arrays of its own


def _as_seed(root: Node, start: Any, create_graph: bool) -> Any:
    """The seed as the pass needs it: a Tensor when it records a graph, else an array."""
    if create_graph != isinstance(start, Node):
        start = type(root).from_numpy(start) if create_graph else np.array(start.data)
    return start


def _to_leaf(node: Node, grad: Any, sole: bool) -> None:
    """Accumulate into a leaf's `.grad`, an array of its own (optimizers update it in place; x + x hands
    one array to two leaves): `grad` itself where nothing else holds it (`sole`), else a copy."""
    if node.grad is None:
        node.grad = grad if sole or isinstance(grad, Node) else grad.copy()
    elif isinstance(node.grad, Node) and not isinstance(grad, Node):  # a first-order pass records nothing
        node.grad = type(node).from_numpy(np.asarray(node.grad.data + grad))
    else:
        node.grad += grad


def _sole(grad: Any) -> bool:
    """Whether only the caller's name holds `grad` and its memory: then a leaf keeps it as its `.grad` (as
    PyTorch's AccumulateGrad steals an unshared gradient). A speed helper: copying every leaf's gradient cost
    2.8% of digits' batch-32 step (123.3 vs 119.9 µs, median of 30 rounds)."""
    return type(grad) is np.ndarray and grad.base is None and getrefcount(grad) <= _SOLE


# getrefcount where `sole = _sole(g)` asks, for an array one name holds: name, argument, getrefcount's own, on
# CPython 3.11-3.13 (3.10 counts its stack too; a tracer reading frames, more). Elsewhere 0: every grad is copied.
_SOLE = 3 if implementation.name == "cpython" and (3, 11) <= version_info[:2] <= (3, 13) else 0
