"""The tensor engine's backward pass: the chain rule over a graph of Tensors, newest node first.

`Tensor.backward()` and `grad()` both end here. Each op's `backward` (ops.py) turns dL/d(out) into
dL/d(input) for each input; this module only decides the order, sums the gradients that meet at
a node (summed back to its shape where it was broadcast), writes or returns them, and releases
the graph as it goes unless it is kept. It reads nodes through their fields and never imports
`Tensor`: a node is recognised as a `graph.Node`, and a constant gradient that must join a
recorded graph becomes a leaf of the root's own class (`from_numpy`).
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any

import numpy as np

from . import tensor_checks as checks
from .anomaly import anomaly_mode, check_backward
from .formulas import unbroadcast
from .graph import Node, away, grad_mode, set_mode
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
    """The chain rule over the graph behind `roots`, newest node first.

    `pending` holds dL/d(node) for the nodes reached so far, and `frontier` is a heap of the ops
    among them by creation tick. Every user of a node is newer than it, so when the newest pending
    op comes off the heap its gradient is complete (PyTorch's engine also runs the newest ready node
    first). No walk or sort beforehand: a node is found when a gradient reaches it, and (unless
    `retain_graph`) an op passed is let go at once, so the arrays of the graph behind it are freed
    as the pass goes. A node no gradient reaches is not visited. Leaves have nothing to pass on:
    they wait in `pending` and get their sums when the heap is empty. Without
    `inputs` (that is `backward()`), leaves accumulate into `.grad` and, with `retain_graph`,
    intermediate results keep this pass's gradient; with `inputs` (`grad()`), nothing is written
    and the inputs' gradients are returned. With `create_graph`, gradients are Tensors and each
    op's backward records a graph.
    """
    wanted = None if inputs is None else dict.fromkeys(inputs)
    pending: dict[Node, Any] = {}
    owned: set[Node] = set()  # nodes whose pending gradient is an array only the engine holds
    # (-tick, id, node): heapq pops the newest first; the id breaks a tie (a copied node keeps its tick)
    # so that two Tensors are never compared (their < is elementwise).
    frontier: list[tuple[int, int, Node]] = []
    for root, seed in zip(roots, seeds):
        if create_graph and not isinstance(seed, Node):
            seed = type(root).from_numpy(seed)
        elif not create_graph and isinstance(seed, Node):
            seed = np.array(seed.data)
        if root not in pending and root._op is not None:
            heappush(frontier, (-root._order, id(root), root))
        _hand_over(pending, owned, root, seed, not create_graph, create_graph)
    was_enabled = grad_mode.enabled
    if create_graph and not was_enabled:  # asked for a graph: record it even inside no_grad, as PyTorch does
        set_mode(grad_mode, True)
    try:
        while frontier:
            node = heappop(frontier)[2]
            g = pending.pop(node)
            if wanted is not None and node in wanted:
                wanted[node] = _returned(g, node in owned)
            op = node._op
            if wanted is None:
                # An intermediate result shows this pass's gradient when the graph is kept (to draw
                # it); otherwise the gradient is let go once passed on, as in PyTorch. The root keeps its own.
                node.grad = g if retain_graph or node is roots[0] else None
            saved = node._saved
            if saved is FREED:
                raise checks.graph_freed(op.__name__)
            parents = node._parents
            if create_graph:
                saved = op.saved_tensors(parents, node, saved)
            needs = node._needs  # which inputs wanted a gradient, fixed when the op ran (as in PyTorch)
            if last_write[0] > node._order:  # something was written in place since this node was made
                check_versions(node)
            grads = op.backward(saved, g, needs)
            if away.count and anomaly_mode.enabled:
                shapes = [None if p is None else p.shape for p in parents]
                check_backward(op.__name__, [d.data if isinstance(d, Node) else d for d in grads], shapes, node._order)
            if not retain_graph:  # release: what it saved and its links to its inputs (and so the graph behind)
                node._saved, node._parents = FREED, ()
            for parent, grad, need in zip(parents, grads, needs):
                if not need or grad is None:
                    continue
                if parent not in pending:
                    if parent._op is not None:
                        heappush(frontier, (-parent._order, id(parent), parent))
                    data = parent.data
                    # The usual edge: the first gradient to reach this input, an array of its dtype.
                    if not create_graph and type(grad) is np.ndarray and grad.dtype == data.dtype:
                        if grad.shape != data.shape:  # a broadcast input (a bias): summed back, a new array
                            grad = np.asarray(unbroadcast(grad, data.shape))  # (a 0-d sum is a NumPy scalar)
                            owned.add(parent)
                        elif grad is not g and grad.base is None:  # a new array (not g, not a view of it): ours
                            owned.add(parent)
                        pending[parent] = grad
                        continue
                # Any other edge: a second gradient to add, a NumPy scalar, a cast, a graph.
                fresh = grad is not g and type(grad) is np.ndarray and grad.base is None
                _hand_over(pending, owned, parent, grad, fresh, create_graph)
        for leaf, g in pending.items():  # only leaves are left, each with its whole gradient
            if wanted is None:
                if leaf.requires_grad:  # (a leaf switched off since the forward pass gets none, as in PyTorch)
                    _to_leaf(leaf, g, leaf in owned)
            elif leaf in wanted:
                wanted[leaf] = _returned(g, leaf in owned)
    finally:
        if create_graph and not was_enabled:
            set_mode(grad_mode, False)
    if wanted is None:
        return ()
    # One entry per input, in order; an input given twice gets its gradient twice, as two arrays.
    found, given = [], set()
    for x in inputs:
        g = wanted[x]
        found.append(g.copy() if x in given and type(g) is np.ndarray else g)
        given.add(x)
    return tuple(found)


def _returned(g: Any, ours: bool) -> Any:
    """A gradient `grad()` returns: the caller gets an array of its own."""
    return g.copy() if type(g) is np.ndarray and not ours else g


def _hand_over(
    pending: dict[Node, Any], owned: set[Node], node: Node, grad: Any, fresh: bool, create_graph: bool
) -> None:
    """Add `grad` into dL/d(node), summed back to the node's shape and cast to its dtype; in place
    when the engine owns the buffer, which saves an allocation per edge."""
    if grad.shape != node.data.shape:
        grad = unbroadcast(grad, node.data.shape)
        fresh = type(grad) is np.ndarray  # a sum is a new array; a Node is never added into
    if not isinstance(grad, Node):
        if type(grad) is not np.ndarray:
            grad = np.asarray(grad)  # NumPy gives scalars for 0-d results
        if grad.dtype != node.data.dtype:
            grad = grad.astype(node.data.dtype)
            fresh = True
        if create_graph:  # a constant gradient (no path to an input) joins as a leaf
            grad = type(node).from_numpy(grad)
            fresh = False
    total = pending.get(node)
    if total is None:
        pending[node] = grad
        if fresh:
            owned.add(node)
    elif node in owned:
        total += grad  # ours alone: add in place
    else:
        total = total + grad
        if not isinstance(total, Node):
            total = np.asarray(total)  # (0-d arrays add up to a NumPy scalar; a gradient is an array)
            owned.add(node)  # a new array: ours to add into
        pending[node] = total


def _to_leaf(node: Node, grad: Any, fresh: bool) -> None:
    """Accumulate into a leaf's `.grad`, which the leaf owns (optimizers update it in place)."""
    if node.grad is None:
        # A borrowed gradient is copied: the same array may have been handed to another input (x + x),
        # and in-place updates of one leaf's grad must never change another's.
        node.grad = grad if fresh or isinstance(grad, Node) else grad.copy()
    elif isinstance(node.grad, Node) and not isinstance(grad, Node):
        node.grad = type(node).from_numpy(
            np.asarray(node.grad.data + grad)
        )  # a first-order pass adds numbers, records nothing
    else:
        node.grad += grad
