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

from .errors import DTypeMismatchError
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


def float_cast(x: Node, *bounds: Any) -> np.dtype | None:
    """The dtype to cast `x` to before an op of real numbers (exp, log, tanh, sigmoid, softmax), or None.

    An integer or bool tensor gives the default float, as in PyTorch (NumPy would give float64). With
    `bounds` (clip's min and max), the dtype of `x` and the bounds: int64 clipped to 0.5 gives float32.
    """
    if x.data.dtype.kind not in "biu":  # a float tensor (the usual case): nothing to do
        return None
    dtype = result_dtype(x, *(b for b in bounds if b is not None)) if bounds else DEFAULT_FLOAT
    return None if dtype == x.data.dtype else dtype


# ---------------------------------------------------------------------- matmul and linear: no promotion


def check_matmul(x: Any, y: Any) -> None:
    """`x @ y` of two arrays with axes must have one dtype (numbers fail matmul's own shape check)."""
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.ndim and y.ndim and x.dtype != y.dtype:
        wider = promote_types(x.dtype, y.dtype)
        check_same_dtype("matmul", (x, y), f"Cast one operand first, e.g. Tensor(a.astype(np.{wider})) for an array a.")


def check_linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> None:
    """A layer's input must have the layer's dtype, as in PyTorch's `nn.Linear`."""
    if x.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        check_same_dtype(
            "linear",
            (x, weight, bias),
            f"Cast the input to the layer's dtype, e.g. Tensor(x.astype(np.{weight.dtype})), or build the model "
            f"with dtype=np.{x.dtype} (a NumPy array or a list passed to a layer is read in its dtype).",
        )


def check_same_dtype(op: str, arrays: tuple[Any, ...], fix: str) -> None:
    """matmul and linear do not promote, as in PyTorch (`torch.mm`, `F.linear`): operands of two dtypes are refused.

    A float32 model fed float64 data would otherwise run, and train, in float64 without a word. `arrays` are
    the operands' arrays (a bias may be None); the error names the op, each dtype and shape, and `fix`.
    """
    dtypes = {a.dtype for a in arrays if a is not None}
    if len(dtypes) > 1:
        operands = " and ".join(f"{a.dtype} {a.shape}" for a in arrays if a is not None)
        raise DTypeMismatchError(
            f"{op}: operands have different dtypes ({operands}); {op} does not promote dtypes, as in PyTorch "
            f"(its RuntimeError: 'expected m1 and m2 to have the same dtype'). {fix}"
        )
