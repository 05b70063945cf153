"""`grad()`: the gradients of outputs with respect to chosen inputs, and gradients that are graphs.

Like `torch.autograd.grad`. `backward()` fills `.grad` of every node; `grad()` returns just the
gradients asked for and touches no `.grad`. With `create_graph=True` the chain rule itself is
recorded: each local derivative is taken from the op's rule in Value ops (`sweep.RULES`, written
above each op in value.py), so a gradient is a Value with a graph of its own, which can be differentiated
again (a second derivative, a Hessian) and drawn like any other graph.

This module is the scalar engine's side; for Tensors `grad()` hands over to the tensor engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import GraphError, MixedEngineError, ShapeError
from .sweep import as_node, sweep
from .tensor import Tensor, grad_tensors
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
    (default 1.0 each: the gradient of their sum). An input the outputs do not depend on is an
    error unless `allow_unused=True`, when its entry is `None`. On the Value engine an entry is a
    float, or a Value with a graph when `create_graph=True`; `retain_graph` is accepted for
    PyTorch's sake (the scalar engine always keeps its graph). No `.grad` is changed.
    """
    outs, ins = _as_list(outputs, "outputs"), _as_list(inputs, "inputs")
    seeds = None if grad_outputs is None else _as_list(grad_outputs, "grad_outputs")
    # a seed may be a number or an array (weights for a Tensor output), which belongs to no engine
    nodes = outs + ins + [s for s in seeds or () if not isinstance(s, (int, float, np.ndarray, np.generic))]
    kinds = {type(n) for n in nodes}
    if kinds == {Tensor}:
        return tuple(grad_tensors(outs, ins, seeds, retain_graph, create_graph, allow_unused))
    if kinds != {Value}:
        if Value in kinds and Tensor in kinds:
            raise MixedEngineError("grad: outputs and inputs mix Values and Tensors; use one engine for all of them")
        raise GraphError(f"grad: expected Values or Tensors, got {', '.join(sorted(k.__name__ for k in kinds))}")
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
            result.append(as_node(grads[x], outs[0]) if create_graph else float(grads[x]))
    return tuple(result)


def _as_list(x: Any, what: str) -> list[Any]:
    if isinstance(x, (list, tuple)):
        if not x and what != "grad_outputs":
            raise GraphError(f"grad: {what} is empty; give at least one node")
        return list(x)
    if isinstance(x, Sequence) and not isinstance(x, str):
        return list(x)
    return [x]


def _named(x: Any) -> str:
    return f" ({x.name})" if x.name else ""
