"""`grad()`: the gradients of outputs with respect to chosen inputs, and gradients that are graphs.

Like `torch.autograd.grad`. `backward()` fills `.grad` of every node; `grad()` returns just the
gradients asked for and touches no `.grad`. With `create_graph=True` the chain rule itself is
recorded: each local derivative is taken from the op's rule in Value ops (`value.RULES`, written
above each op), so a gradient is a Value with a graph of its own, which can be differentiated
again (a second derivative, a Hessian) and drawn like any other graph.

This module is the scalar engine's side; for Tensors `grad()` hands over to the tensor engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from .errors import GraphError, MixedEngineError, ShapeError
from .graph import set_grad_enabled
from .value import RULES, Value

_by_order = attrgetter("_order")


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Any, ...]:
    """d(outputs)/d(inputs), one entry per input, as `torch.autograd.grad` computes it.

    `outputs` and `inputs` are one node or a sequence of nodes; `grad_outputs` weights each output
    (default 1.0 each: the gradient of their sum). An input the outputs do not depend on is an
    error unless `allow_unused=True`, when its entry is `None`. On the Value engine an entry is a
    float, or a Value with a graph when `create_graph=True`; `retain_graph` is accepted for
    PyTorch's sake (the scalar engine always keeps its graph). No `.grad` is changed.
    """
    outs, ins = _as_list(outputs, "outputs"), _as_list(inputs, "inputs")
    seeds = None if grad_outputs is None else _as_list(grad_outputs, "grad_outputs")
    nodes = outs + ins + [s for s in seeds or () if not isinstance(s, (int, float))]
    engines = {"Value" if type(n) is Value else type(n).__name__ for n in nodes}
    if engines == {"Tensor"}:
        from .tensor import grad_tensors  # the tensor engine's side of grad()

        return tuple(grad_tensors(outs, ins, seeds, retain_graph, create_graph, allow_unused))
    if engines != {"Value"}:
        if "Value" in engines and "Tensor" in engines:
            raise MixedEngineError("grad: outputs and inputs mix Values and Tensors; use one engine for all of them")
        raise GraphError(f"grad: expected Values or Tensors, got {', '.join(sorted(engines))}")
    if seeds is None:
        seeds = [1.0] * len(outs)
    if len(seeds) != len(outs):
        raise ShapeError(f"grad: {len(outs)} outputs but {len(seeds)} grad_outputs; give one per output")
    for k, out in enumerate(outs):
        if not out.requires_grad:
            raise GraphError(
                f"grad: output {k} does not require grad, so nothing it depends on does either "
                "(was it computed under no_grad, or from constants only?)"
            )
    for k, x in enumerate(ins):
        if not x.requires_grad:
            raise GraphError(f"grad: input {k} does not require grad; create it with Value(x) (the default)")
    grads = sweep(outs, seeds, create_graph)
    result: list[Any] = []
    for k, x in enumerate(ins):
        if x not in grads:
            if not allow_unused:
                raise GraphError(
                    f"grad: input {k}{_named(x)} is not used to compute the outputs, so it has no gradient; "
                    "pass allow_unused=True to get None for it instead"
                )
            result.append(None)
        else:
            result.append(_as_value(grads[x]) if create_graph else float(grads[x]))
    return tuple(result)


def backward_graph(root: Value, seed: Any) -> None:
    """`root.backward(create_graph=True)`: every `.grad` below root becomes a Value with a graph.

    Leaves accumulate (a float they held is added to), intermediate nodes show this pass only.
    """
    for node, g in sweep([root], [seed], create_graph=True).items():
        g = _as_value(g)
        is_leaf = node._a is None and node._many is None
        node.grad = g + node.grad if is_leaf and node.grad is not None else g


def sweep(outputs: list[Value], seeds: list[Any], create_graph: bool) -> dict[Value, Any]:
    """The chain rule from `outputs` down, into a dict (node -> gradient) instead of `.grad`.

    Like `Value.backward`: the nodes below the outputs, newest first (every user of a node comes
    before it), each passing its gradient to its parents. Under `create_graph` the local
    derivatives are the ops' rules in Value ops and the products and sums are recorded, so each
    gradient is a graph.
    """
    seen = set(outputs)
    stack = list(seen)
    while stack:
        for parent in stack.pop()._parents:
            if parent.requires_grad and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    grads: dict[Value, Any] = {}
    for out, seed in zip(outputs, seeds):
        grads[out] = grads[out] + seed if out in grads else seed
    with set_grad_enabled(create_graph):  # record the chain rule only when a graph is asked for
        for node in sorted(seen, key=_by_order, reverse=True):  # newest first, as in Value.backward
            if node not in grads or (node._a is None and node._many is None):
                continue  # no gradient reached it, or a leaf: nothing to pass on
            g = grads[node]
            local = graph_locals(node) if create_graph else node._locals
            for parent, d in zip(node._parents, local):
                if parent.requires_grad:
                    contribution = d * g
                    grads[parent] = grads[parent] + contribution if parent in grads else contribution
    return grads


def graph_locals(node: Value) -> tuple[Any, ...]:
    """d(node)/d(parent) for each parent, from the op's rule in Value ops (see `value.RULES`)."""
    op = "Σw·x" if node._many is not None else "**" if node._op.startswith("**") else node._op
    b = node._b if node._b is not None else node._db  # the second parent, or the op's constant
    return RULES[op](node, node._a, b)


def _as_value(g: Any) -> Value:
    return g if type(g) is Value else Value(g, requires_grad=False)


def _as_list(x: Any, what: str) -> list[Any]:
    if isinstance(x, (list, tuple)):
        if not x and what != "grad_outputs":
            raise GraphError(f"grad: {what} is empty; give at least one node")
        return list(x)
    if isinstance(x, Sequence) and not isinstance(x, str):
        return list(x)
    return [x]


def _named(x: Any) -> str:
    label = getattr(x, "label", None) or getattr(x, "name", None)
    return f" ({label})" if label else ""
