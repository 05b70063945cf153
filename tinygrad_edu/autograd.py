"""`grad()`: the gradients of outputs with respect to chosen inputs, and gradients that are graphs.

Like `torch.autograd.grad`. `backward()` fills `.grad` of every node; `grad()` returns just the
gradients asked for and touches no `.grad`. This is its one entry point for both engines: the
arguments are checked here once, then the engine of the nodes runs the chain rule (the tensor
engine's `tensor_backward.backprop`, the scalar engine's `sweep`). With `create_graph=True` the
chain rule itself is recorded: on the Value engine each local derivative is taken from the op's
rule in Value ops (`sweep.RULES`, written above each op in value.py), so a gradient is a node with
a graph of its own, which can be differentiated again (a second derivative, a Hessian) and drawn
like any other graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import GraphError, MixedEngineError, ShapeError
from .sweep import as_node, sweep
from .tensor import Tensor
from .tensor_backward import backprop, keeps_graph, seed
from .value import Value


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
    (default: 1 each, the gradient of their sum; needed for a Tensor output of more than one
    element). An input the outputs do not depend on is an error unless `allow_unused=True`, when
    its entry is `None`. On the Value engine an entry is a float, or a Value with a graph when
    `create_graph=True`; on the Tensor engine a NumPy array, or a Tensor with a graph. The scalar
    engine always keeps its graph (`retain_graph` is accepted for PyTorch's sake); the tensor
    engine releases it unless `retain_graph` or `create_graph`. No `.grad` is changed.
    """
    outs, ins = _as_list(outputs, "outputs"), _as_list(inputs, "inputs")
    seeds = None if grad_outputs is None else _as_list(grad_outputs, "grad_outputs")
    engine = _engine(outs, ins, seeds)
    if seeds is None:
        seeds = [None] * len(outs)
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
            raise GraphError(
                f"grad: input {k}{_named(x)} does not require grad, so it has no gradient; "
                "create it with requires_grad=True (a Value's default)"
            )
    if engine is Tensor:
        found = _grad_tensors(outs, ins, seeds, retain_graph, create_graph)
    else:
        found = _grad_values(outs, ins, seeds, create_graph)
    for k, (x, g) in enumerate(zip(ins, found)):
        if g is None and not allow_unused:
            raise GraphError(
                f"grad: input {k}{_named(x)} is not used to compute the outputs, so it has no gradient; "
                "pass allow_unused=True to get None for it instead"
            )
    return tuple(found)


def _engine(outs: list[Any], ins: list[Any], seeds: list[Any] | None) -> type:
    """Tensor or Value: the one engine all the nodes belong to."""
    # a seed may be a number or an array (weights for a Tensor output), which belongs to no engine
    nodes = outs + ins + [s for s in seeds or () if not isinstance(s, (int, float, np.ndarray, np.generic))]
    kinds = {type(n) for n in nodes}
    if kinds == {Tensor} or kinds == {Value}:
        return kinds.pop()
    if Value in kinds and Tensor in kinds:
        raise MixedEngineError("grad: outputs and inputs mix Values and Tensors; use one engine for all of them")
    raise GraphError(f"grad: expected Values or Tensors, got {', '.join(sorted(k.__name__ for k in kinds))}")


def _grad_tensors(
    outs: list[Tensor], ins: list[Tensor], seeds: list[Any], retain_graph: bool | None, create_graph: bool
) -> tuple[Any, ...]:
    """The tensor engine's half: arrays (or Tensors with a graph), None for an input not reached."""
    starts = tuple(seed("grad", out, g) for out, g in zip(outs, seeds))
    return backprop(tuple(outs), starts, keeps_graph(retain_graph, create_graph), create_graph, tuple(ins))


def _grad_values(outs: list[Value], ins: list[Value], seeds: list[Any], create_graph: bool) -> list[Any]:
    """The scalar engine's half: floats (or Values with a graph), None for an input not reached."""
    grads = sweep(outs, [1.0 if s is None else s for s in seeds], create_graph)
    if create_graph:
        return [as_node(grads[x], outs[0]) if x in grads else None for x in ins]
    return [float(grads[x]) if x in grads else None for x in ins]


def _as_list(x: Any, what: str) -> list[Any]:
    if isinstance(x, (list, tuple)):
        if not x and what != "grad_outputs":
            raise GraphError(f"grad: {what} is empty; give at least one node")
        return list(x)
    if isinstance(x, Sequence) and not isinstance(x, str):
        return list(x)
    return [x]


def _named(x: Any) -> str:
    if type(x) is Tensor:
        return f" (shape {x.shape})"
    return f" ({x.name})" if x.name else ""
