"""What the backward formulas in ops.py are written with, for NumPy arrays and Tensors alike.

NumPy arrays and Tensors share +, -, *, /, **, @, reshape, sum and indexing; these helpers name
the rest once, so each op's backward stays a single formula: on arrays in a first-order
`backward()` (fast, nothing recorded), on Tensors under `backward(create_graph=True)` (each step
recorded, so the gradient can be differentiated again). A Tensor is recognised as "not NumPy":
this module never imports the engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ShapeError
from .quiet import quiet

Array = np.ndarray
_NUMPY = (np.ndarray, np.generic, int, float)  # a first-order backward works on these; else on Tensors


def unbroadcast(grad: Array, shape: tuple[int, ...]) -> Array:
    """Sum `grad` back to `shape`, undoing NumPy broadcasting.

    Broadcasting copies an input along new leading axes and along axes of size 1; the gradient of a
    copy is the sum of the gradients of its copies, so sum over exactly those axes.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=0 if extra == 1 else tuple(range(extra)))  # (a bias: summed over the batch)
    if grad.shape != shape:
        grad = grad.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1), keepdims=True)
    if grad.shape != shape:  # the gradient must land exactly on its input's shape
        raise ShapeError(f"unbroadcast: a gradient of shape {grad.shape} cannot be summed back to {shape}")
    return grad


def unreduce(g: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    """Give a reduced gradient its reduced axes back (size 1), so it broadcasts against the input."""
    if keepdims:
        return g
    if axis is None:
        return g.reshape((1,) * len(shape))
    axes = {int(a) % len(shape) for a in (axis if isinstance(axis, (tuple, list)) else (axis,))}
    return g.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))


def exp(a: Any) -> Any:
    return np.exp(a) if isinstance(a, _NUMPY) else a.exp()


def log(a: Any) -> Any:
    return np.log(a) if isinstance(a, _NUMPY) else a.log()


def data_of(a: Any) -> Any:
    """The numbers: for masks and tests on values, which are constants to differentiation."""
    return a if isinstance(a, _NUMPY) else a.data


def mT(a: Any) -> Any:  # noqa: N802 (PyTorch's name)
    """The last two axes swapped: the matrix transpose, batched (PyTorch's `.mT`)."""
    if isinstance(a, np.ndarray):
        return a.swapaxes(-1, -2)
    n = a.ndim
    return a.permute(*range(n - 2), n - 1, n - 2)


def permute(a: Any, axes: tuple[int, ...]) -> Any:
    return np.transpose(a, axes) if isinstance(a, _NUMPY) else a.permute(axes)


def expand(a: Any, shape: tuple[int, ...]) -> Any:
    """`a` broadcast to `shape` as a new array (PyTorch's `expand`; its gradient is `unbroadcast`)."""
    if not isinstance(a, _NUMPY):
        return a.expand(shape)
    out = np.empty(shape, dtype=np.result_type(a))  # a new array: faster than np.broadcast_to for small ones
    out[...] = a
    return out


def scatter(a: Any, shape: tuple[int, ...], index: Any) -> Any:
    """zeros(shape) with `a` added at `index`: the gradient of `x[index]`."""
    if not isinstance(a, _NUMPY):
        return a._scatter(shape, index)
    out = np.zeros(shape, dtype=np.result_type(a))
    if _is_basic(index):
        out[index] = a  # slices and ints never read an element twice
    else:
        np.add.at(out, index, a)  # integer arrays may repeat an element: add, don't overwrite
    return out


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


def sigmoid(x: Array) -> Array:
    """1 / (1 + e⁻ˣ), written into one buffer: no temporaries on every hidden layer's activations."""
    out = np.negative(x)  # -x in a new array, which e^, +1 and 1/ then reuse (one array, not two)
    # e^-x overflows to inf for very negative x; 1/(1+inf) = 0 is still the right answer.
    with quiet():
        if isinstance(out, np.ndarray) and out.dtype.kind == "f":
            np.exp(out, out=out)
        else:  # integers (e^ makes floats), or a 0-d input, whose negative is a NumPy scalar
            out = np.asarray(np.exp(out))
    out += 1
    return np.reciprocal(out, out=out)


def g_times_s_1_minus_s(g: Any, s: Any) -> Any:
    """g * (s * (1 - s)), for arrays written into one buffer (sigmoid's backward at every hidden layer)."""
    if not isinstance(s, _NUMPY):
        return g * (s * (1 - s))
    out = 1 - s
    out *= s
    out *= g
    return out


def minus_onehot(p: Any, rows: Array, target: Array) -> Any:
    """p - onehot(target): 1 taken off each row's target column (for arrays, in one copy of p)."""
    if isinstance(p, _NUMPY):
        out = p.copy()
        out[rows, target] -= 1
        return out
    onehot = np.zeros(p.shape, dtype=p.dtype)
    onehot[rows, target] = 1
    return p - onehot
