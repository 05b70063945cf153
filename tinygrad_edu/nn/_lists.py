"""The value engine's arrays are Python lists: a sample is a list of numbers (or Values), a batch a list of them.

This is the list maths nn's functions run on that engine, the counterpart of the tensor engine's
ops: `linear` makes one `weighted_sum` node per output (the article's Σ wᵢ xᵢ + b), `elementwise`
applies a Value op to every item, and `is_batch` / `as_sample` / `flatten` read the nesting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import MixedEngineError, ShapeError
from ..fused import weighted_sum
from ..value import Value
from .engines import engine_of


def is_batch(x: Any) -> bool:
    """True for a list of samples (a list of lists, or a 2-D array) rather than one sample."""
    if isinstance(x, np.ndarray):
        return x.ndim == 2
    return isinstance(x, (list, tuple)) and len(x) > 0 and isinstance(x[0], (list, tuple, np.ndarray))


def as_sample(x: Any, n: int, where: str) -> list[Any]:
    """One sample as a list of `n` numbers or Values, or an error that names the fix."""
    if engine_of(x, None) == "tensor":
        raise MixedEngineError(
            f"{where}: got a Tensor, but this layer uses the value engine (lists of numbers or Values); "
            "pass x.data.tolist(), or build the model with engine='tensor'"
        )
    if isinstance(x, np.ndarray):
        x = x.tolist()
    elif type(x) is Value:
        x = [x]
    if len(x) != n:
        raise ShapeError(f"{where}: expected {n} inputs (in_features), got a sample of {len(x)}")
    return list(x)


def linear(x: Any, weight: list[list[Value]], bias: list[Value] | None = None) -> Any:
    """yᵢ = Σⱼ Wᵢⱼ xⱼ + bᵢ with one `weighted_sum` node per output; a list of samples maps over them."""
    if is_batch(x):
        return [linear(sample, weight, bias) for sample in x]
    x = as_sample(x, len(weight[0]), "Linear(engine='value')")
    if bias is None:
        return [weighted_sum(row, x) for row in weight]
    return [weighted_sum(row, x, b) for row, b in zip(weight, bias)]


def elementwise(x: Any, op: Callable[[Value], Value]) -> Any:
    """`op` (`Value.sigmoid`, `Value.relu`, ...) on a Value or on every Value of a nested list.

    Plain numbers become constant Values first, so an activation can also take raw inputs.
    """
    if type(x) is Value:
        return op(x)
    if engine_of(x, None) == "tensor":
        raise MixedEngineError(f"{op.__name__}: got a Tensor where the value engine expects a Value or a list of them")
    if isinstance(x, np.ndarray):
        x = x.tolist()
    if isinstance(x, (list, tuple)):
        return [elementwise(item, op) for item in x]
    return op(Value(x, requires_grad=False))


def flatten(x: Any) -> list[Any]:
    """The leaves of a nested list (Values or numbers), in order; a lone leaf becomes a 1-list."""
    if isinstance(x, np.ndarray):
        return x.reshape(-1).tolist()
    if not isinstance(x, (list, tuple)):
        return [x]
    out: list[Any] = []
    stack = [iter(x)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, (list, tuple, np.ndarray)):
                stack.append(iter(item.tolist() if isinstance(item, np.ndarray) else item))
                break
            out.append(item)
        else:
            stack.pop()
    return out
