"""Functions over tensors that are not methods, as PyTorch's `torch.cat`, `torch.stack`, `F.linear` and
`F.cross_entropy`: each checks its arguments (`tensor_checks.py`) and records one op (`ops.py`).

`matmul` stays in `tensor.py`, since `Tensor.__matmul__` is it. Ops are recorded through `tensor._apply`,
read from the module at each call, because `tinygrad_edu.compile` records a step by swapping that one function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import number_checks, ops, promotion, tensor
from . import tensor_checks as checks
from .tensor import Tensor, _operand, _raw


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b in one op (PyTorch's `F.linear`): weight is (out, in), x is (..., in)."""
    checks.check_linear(x.data.shape, weight.data.shape, None if bias is None else bias.data.shape)
    promotion.check_linear(x.data, weight.data, None if bias is None else bias.data)
    return tensor._apply(ops.Linear, (x, weight, bias))


def cross_entropy(logits: Tensor, target: Any) -> Tensor:
    """Mean of -log softmax(logits)[target] over the batch; `target` holds class indices."""
    labels = np.asarray(_raw(target))
    shape = logits.data.shape
    checks.check_cross_entropy(shape, labels)
    number_checks.check_numbers(checks.class_indices, target if type(target) is Tensor else labels, shape[1])
    return tensor._apply(ops.CrossEntropy, (logits,), labels)


# ids of the Tensors that stand for NumPy arrays in a compiled step (compile/tensor_code.py): its array
# arguments, and what it computes from them alone (`x / 16`), which eager computed as arrays. Where the library
# casts an array to a layer's dtype, it casts these too, so the trace does what eager did
array_arguments: set[int] = set()


def _cast(t: Tensor, dtype: Any, shape: tuple[int, ...] | None = None) -> Tensor:
    """`t` as `dtype` (in `shape`), as one op: a loss's target stays in the graph (a compiled step reads each
    batch's), where `t.data.astype(...)` would be a copy of the first call's numbers."""
    return tensor._apply(ops.Reshape, (t,), t.shape if shape is None else shape, cast=np.dtype(dtype))


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (`torch.cat`)."""
    if not tensors:
        raise checks.nothing_to_join("concatenate")
    operands = tuple(_operand(t, "concatenate") for t in tensors)
    dtype = promotion.result_dtype(*operands)  # torch.cat's: float32 with int64 is float32 (NumPy: float64)
    cast = dtype if len({np.result_type(_raw(t)) for t in operands} - {dtype}) else None
    return tensor._apply(ops.Concatenate, operands, axis=axis, cast=cast)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along a new axis (`torch.stack`): each gets a size-1 axis, then concatenate."""
    if not tensors:
        raise checks.nothing_to_join("stack")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise checks.unequal_shapes(shapes)
    expanded = []
    for t in tensors:
        shape = list(t.shape)
        shape.insert(axis if axis >= 0 else len(shape) + 1 + axis, 1)
        expanded.append(t.reshape(shape))
    return concatenate(expanded, axis=axis)
