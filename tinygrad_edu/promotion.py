"""The dtype of a binary op's result: PyTorch's type promotion, so the numbers a learner sees carry over.

Operands come in three kinds, and a later kind has a say only when it is of a higher category
(bool < integer < floating):

1. tensors with at least one axis (and NumPy arrays or lists with one);
2. zero-dimensional tensors (and 0-d NumPy arrays);
3. Python numbers and NumPy scalars: bool, int (as int64), float (as float32, the default dtype).

So `float32 tensor * np.float64(2)` stays float32 (a scalar does not widen a tensor, as NumPy's
float64 would), `int64 tensor * 0.5` is float32, and `float32 * float64` tensors give float64.
Within a kind, an integer with a float gives the float (`int64 + float16 -> float16`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .graph import Node

DEFAULT_FLOAT = np.dtype(np.float32)  # PyTorch's default dtype: what a Python float becomes
_INT64 = np.dtype(np.int64)
_BOOL = np.dtype(np.bool_)


def promote_types(a: np.dtype | None, b: np.dtype | None) -> np.dtype | None:
    """`torch.promote_types`: NumPy's, except that an integer or bool with a float gives that float."""
    if a is None or b is None:
        return b if a is None else a
    if a.kind == "f" and b.kind in "biu":
        return a
    if b.kind == "f" and a.kind in "biu":
        return b
    return np.promote_types(a, b)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """PyTorch's `combine_categories`: `lower` (a lesser kind) counts only if it is of a higher category."""
    if higher is None:
        return lower
    if higher.kind in "fc":
        return higher
    if higher.kind == "b" or (lower is not None and lower.kind in "fc"):
        return promote_types(higher, lower)
    return higher


def _kind(x: Any) -> tuple[int, np.dtype] | None:
    """(0 tensor with axes, 1 zero-dimensional, 2 number) and the dtype it counts as; None if unknown."""
    array = x.data if isinstance(x, Node) else x
    if isinstance(array, np.ndarray):
        return (0 if array.ndim else 1), array.dtype
    if isinstance(x, (bool, np.bool_)):
        return 2, _BOOL
    if isinstance(x, (int, np.integer)):
        return 2, _INT64
    if isinstance(x, (float, np.floating)):
        return 2, DEFAULT_FLOAT
    return None


def result_dtype(*operands: Any) -> np.dtype | None:
    """The dtype PyTorch gives `x op y` for these operands (None when one is not a number PyTorch knows)."""
    found: list[np.dtype | None] = [None, None, None]
    for x in operands:
        kind = _kind(x)
        if kind is None:
            return None
        found[kind[0]] = promote_types(found[kind[0]], kind[1])
    return _combine(found[0], _combine(found[1], found[2]))


def cast_for(x: Any, y: Any, true_division: bool = False) -> np.dtype | None:
    """The dtype to cast both operands of `x op y` to first, or None where NumPy already gives PyTorch's dtype.

    Two tensors of one dtype, or a float tensor and a Python number (the usual cases), are tested first and
    need no cast; true division of integers gives the default float, as in PyTorch.
    """
    tx, ty = isinstance(x, Node), isinstance(y, Node)
    if tx and ty and x.data.dtype == y.data.dtype and (not true_division or x.data.dtype.kind in "fc"):
        return None
    if (tx and type(y) in (float, int) and x.data.dtype.kind == "f") or (
        ty and type(x) in (float, int) and y.data.dtype.kind == "f"
    ):
        return None
    dtype = result_dtype(x, y)
    if dtype is not None and true_division and dtype.kind in "biu":
        return DEFAULT_FLOAT
    return dtype
