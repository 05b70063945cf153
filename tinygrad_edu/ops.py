"""The tensor engine's derivative table: every op's forward and backward, side by side.

Each op is a class with two static methods:

* `forward(*arrays, *args) -> (out, saved)`: compute the result with NumPy and keep what the
  backward pass will need (`saved`); never the result Tensor itself, so the graph has no cycles.
* `backward(saved, g, needs) -> grads`: given `g` = dL/d(out), return dL/d(input) for each input
  (`None` where `needs[i]` is False, so no work is wasted on inputs that need no gradient).

Gradients may come back with a broadcast shape; the engine sums them back to each input's shape
(`unbroadcast`) where they land. The first line of each docstring is the maths; the docs' op
reference is generated from it, so docs and code cannot drift. `torch` names PyTorch's twin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ShapeError

Array = np.ndarray

# log(0) = -inf, x/0 = ±inf, exp(1000) = inf, as in PyTorch: returned without NumPy's RuntimeWarning
# (detect_anomaly() turns them into errors). Only ops whose finite inputs can produce them pay for it.
_quiet = np.errstate(all="ignore")


class Op:
    """Base of the table: an op is forward + backward, with no state of its own."""

    torch = ""
    # True when backward always returns newly allocated arrays that nothing else holds, so the
    # engine may hand them to a leaf's .grad without a defensive copy. False (copy) is the safe default.
    fresh = False
    # Which input values backward reads, as PyTorch saves them: reads[i] lists the inputs that the
    # gradient of input i is computed from. Backward checks those were not changed in place since
    # the forward pass (a version counter). None (the safe default): every input, for every gradient.
    reads: tuple[tuple[int, ...], ...] | None = None
    reads_out = False  # backward reads the op's own result (eˣ, tanh, softmax, ...)

    @staticmethod
    def forward(*args: Any) -> tuple[Array, Any]:
        raise NotImplementedError

    @staticmethod
    def backward(saved: Any, g: Array, needs: tuple[bool, ...]) -> tuple[Array | None, ...]:
        raise NotImplementedError


def unbroadcast(grad: Array, shape: tuple[int, ...]) -> Array:
    """Sum `grad` back to `shape`, undoing NumPy broadcasting.

    Broadcasting copies an input along new leading axes and along axes of size 1; the gradient of a
    copy is the sum of the gradients of its copies, so sum over exactly those axes.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:  # the gradient must land exactly on its input's shape
        raise ShapeError(f"unbroadcast: a gradient of shape {grad.shape} cannot be summed back to {shape}")
    return grad


# ------------------------------------------------------------------------ elementwise, binary


class Add(Op):
    """z = x + y    ·  dz/dx = 1, dz/dy = 1"""

    torch = "torch.add"
    reads = ()

    @staticmethod
    def forward(x, y):
        return x + y, None

    @staticmethod
    def backward(saved, g, needs):
        return g, g


class Sub(Op):
    """z = x - y    ·  dz/dx = 1, dz/dy = -1"""

    torch = "torch.sub"
    reads = ()

    @staticmethod
    def forward(x, y):
        return x - y, None

    @staticmethod
    def backward(saved, g, needs):
        return g, (-g if needs[1] else None)


class Mul(Op):
    """z = x * y    ·  dz/dx = y, dz/dy = x"""

    torch = "torch.mul"
    reads = ((1,), (0,))
    fresh = True

    @staticmethod
    def forward(x, y):
        return x * y, (x, y)

    @staticmethod
    def backward(saved, g, needs):
        x, y = saved
        return (g * y if needs[0] else None), (g * x if needs[1] else None)


class Div(Op):
    """z = x / y    ·  dz/dx = 1/y, dz/dy = -x/y²"""

    torch = "torch.div"
    reads = ((1,), (0, 1))
    fresh = True

    @staticmethod
    def forward(x, y):
        if (type(y) is float or type(y) is int) and abs(y) >= 1:
            return x / y, (x, y)  # x / n: cannot divide by zero or overflow, so skip the errstate cost
        with np.errstate(all="ignore"):
            return x / y, (x, y)

    @staticmethod
    def backward(saved, g, needs):
        x, y = saved
        gx = g / y
        return (gx if needs[0] else None), (-gx * x / y if needs[1] else None)


class Pow(Op):
    """z = x ** y   ·  dz/dx = y x^(y-1), dz/dy = x^y ln x  (0 where x = 0 and y >= 0)"""

    torch = "torch.pow"
    reads = ((0, 1), (0, 1))
    reads_out = True
    fresh = True

    @staticmethod
    @_quiet
    def forward(x, y):
        out = x**y
        return out, (x, y, out)

    @staticmethod
    def backward(saved, g, needs):
        x, y, out = saved
        gx = gy = None
        if needs[0] and np.any(np.equal(y, 0)):
            # d(x^0)/dx = 0 everywhere, also at x = 0 where y x^(y-1) would be 0 * inf (as in PyTorch)
            nonzero = np.not_equal(y, 0)
            gx = g * nonzero * y * x ** np.where(nonzero, y - 1, 0)
        elif needs[0]:
            gx = g * y * x ** (y - 1)
        if needs[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gy = g * out * np.log(x)
            # PyTorch's convention: 0^y ln 0 counts as 0 for y >= 0, the limit from the right.
            gy = np.where((x == 0) & (y >= 0), 0.0, gy).astype(gy.dtype, copy=False)
        return gx, gy


class Maximum(Op):
    """z = max(x, y) elementwise  ·  g goes to the larger input (split evenly on ties)"""

    torch = "torch.maximum"
    reads = ((0, 1), (0, 1))
    fresh = True

    @staticmethod
    def forward(x, y):
        return np.maximum(x, y), (x, y)

    @staticmethod
    def backward(saved, g, needs):
        x, y = saved
        share = np.where(x > y, 1.0, np.where(x == y, 0.5, 0.0)).astype(g.dtype, copy=False)
        return g * share, g * (1 - share)


# ------------------------------------------------------------------------ elementwise, unary


class Neg(Op):
    """z = -x       ·  dz/dx = -1"""

    torch = "torch.neg"
    reads = ()
    fresh = True

    @staticmethod
    def forward(x):
        return -x, None

    @staticmethod
    def backward(saved, g, needs):
        return (-g,)


class Exp(Op):
    """z = eˣ       ·  dz/dx = eˣ = z"""

    torch = "torch.exp"
    reads = ()
    reads_out = True
    fresh = True

    @staticmethod
    @_quiet
    def forward(x):
        out = np.exp(x)
        return out, out

    @staticmethod
    def backward(out, g, needs):
        return (g * out,)


class Log(Op):
    """z = ln x     ·  dz/dx = 1/x"""

    torch = "torch.log"
    reads = ((0,),)
    fresh = True

    @staticmethod
    @_quiet
    def forward(x):
        return np.log(x), x

    @staticmethod
    def backward(x, g, needs):
        return (g / x,)


class Tanh(Op):
    """z = tanh x   ·  dz/dx = 1 - z²"""

    torch = "torch.tanh"
    reads = ()
    reads_out = True
    fresh = True

    @staticmethod
    def forward(x):
        out = np.tanh(x)
        return out, out

    @staticmethod
    def backward(out, g, needs):
        return (g * (1 - out * out),)


class Sigmoid(Op):
    """z = 1/(1+e⁻ˣ) ·  dz/dx = z(1 - z)   (the article's a * (1 - a))"""

    torch = "torch.sigmoid"
    reads = ()
    reads_out = True
    fresh = True

    @staticmethod
    def forward(x):
        # e^-x overflows to inf for very negative x; 1/(1+inf) = 0 is still the right answer.
        # Written in place (one array, no temporaries): this op runs on every hidden layer.
        with np.errstate(over="ignore"):
            out = np.asarray(np.exp(-x))  # asarray: a 0-d input gives a NumPy scalar
        out += 1
        np.reciprocal(out, out=out)
        return out, out

    @staticmethod
    def backward(out, g, needs):
        local = 1 - out  # s(1 - s), then times g, in one buffer
        local *= out
        local *= g
        return (local,)


class Relu(Op):
    """z = max(0,x) ·  dz/dx = 1 where x > 0, else 0"""

    torch = "torch.relu"
    reads = ()
    reads_out = True
    fresh = True

    @staticmethod
    def forward(x):
        out = np.maximum(x, 0)
        return out, x > 0

    @staticmethod
    def backward(positive, g, needs):
        return (g * positive,)


class Abs(Op):
    """z = |x|      ·  dz/dx = sign(x)  (0 at 0, as in PyTorch)"""

    torch = "torch.abs"
    reads = ((0,),)
    fresh = True

    @staticmethod
    def forward(x):
        return np.abs(x), np.sign(x)

    @staticmethod
    def backward(sign, g, needs):
        return (g * sign,)


class Clip(Op):
    """z = min(max(x, lo), hi)  ·  dz/dx = 1 where lo <= x <= hi, else 0"""

    torch = "torch.clamp"
    reads = ((0,),)
    fresh = True

    @staticmethod
    def forward(x, lo, hi):
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        return np.clip(x, lo, hi), inside

    @staticmethod
    def backward(inside, g, needs):
        return (g * inside,)


# ------------------------------------------------------------------------ linear algebra


class MatMul(Op):
    """z = x @ y    ·  dz/dx = g @ yᵀ, dz/dy = xᵀ @ g  (1-D operands act as a row / a column)"""

    torch = "torch.matmul"
    reads = ((1,), (0,))
    fresh = True

    @staticmethod
    def forward(x, y):
        return x @ y, (x, y)

    @staticmethod
    def backward(saved, g, needs):
        x, y = saved
        # Promote 1-D operands the way matmul does, so one formula serves every case.
        # (y first: for 1-D @ 1-D, g is 0-d and must become (1,) before it can become (1, 1).)
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        if y.ndim == 1:
            g = np.expand_dims(g, -1)
        if x.ndim == 1:
            g = np.expand_dims(g, -2)
        gx = gy = None
        if needs[0]:
            gx = unbroadcast(g @ np.swapaxes(y2, -1, -2), x2.shape).reshape(x.shape)
        if needs[1]:
            gy = unbroadcast(np.swapaxes(x2, -1, -2) @ g, y2.shape).reshape(y.shape)
        return gx, gy


class Linear(Op):
    """z = x @ Wᵀ + b  ·  dz/dx = g @ W, dz/dW = gᵀ @ x, dz/db = Σ g over the batch"""

    torch = "torch.nn.functional.linear"
    reads = ((1,), (0,), ())
    fresh = True

    @staticmethod
    def forward(x, w, b):
        out = x @ w.T
        if b is not None:
            out += b  # `out` is a fresh array, so adding in place is safe and saves a copy
        return out, (x, w)

    @staticmethod
    def backward(saved, g, needs):
        x, w = saved
        if g.ndim != 2:  # fold any leading batch axes into one
            g2, x = g.reshape(-1, g.shape[-1]), x.reshape(-1, x.shape[-1])
        else:
            g2 = g
        gx = (g @ w) if needs[0] else None
        gw = (g2.T @ x) if needs[1] else None
        gb = g2.sum(axis=0) if needs[2] else None
        return gx, gw, gb


# ------------------------------------------------------------------------ reductions


def _spread(g: Array, shape: tuple[int, ...]) -> Array:
    """Broadcast `g` to `shape` as a fresh array (faster than np.broadcast_to for small arrays)."""
    out = np.empty(shape, dtype=g.dtype)
    out[...] = g
    return out


def _expand(g: Array, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Array:
    """Give a reduced gradient its reduced axes back, so it broadcasts against the input."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    elif axis is None and not keepdims:
        g = np.reshape(g, (1,) * len(shape))
    return g


class Sum(Op):
    """z = Σ x over axis  ·  dz/dx = 1 for every summed element"""

    torch = "torch.sum"
    reads = ()
    fresh = True

    @staticmethod
    def forward(x, axis, keepdims):
        return x.sum(axis=axis, keepdims=keepdims), (x.shape, axis, keepdims)

    @staticmethod
    def backward(saved, g, needs):
        shape, axis, keepdims = saved
        return (_spread(_expand(g, shape, axis, keepdims), shape),)


class Mean(Op):
    """z = Σ x / n over axis  ·  dz/dx = 1/n"""

    torch = "torch.mean"
    reads = ()
    fresh = True

    @staticmethod
    def forward(x, axis, keepdims):
        out = x.mean(axis=axis, keepdims=keepdims)
        return out, (x.shape, axis, keepdims, x.size // max(out.size, 1))

    @staticmethod
    def backward(saved, g, needs):
        shape, axis, keepdims, n = saved
        return (_spread(_expand(g, shape, axis, keepdims) / n, shape),)


class Max(Op):
    """z = max x over axis  ·  dz/dx = 1 at the maximum (split evenly between ties), else 0"""

    torch = "torch.amax"
    reads = ((0,),)
    reads_out = True
    fresh = True

    @staticmethod
    def forward(x, axis, keepdims):
        out = x.max(axis=axis, keepdims=True)
        is_max = x == out
        share = is_max / is_max.sum(axis=axis, keepdims=True)
        return (out if keepdims else np.squeeze(out, axis=axis)), (share.astype(x.dtype), axis, keepdims)

    @staticmethod
    def backward(saved, g, needs):
        share, axis, keepdims = saved
        return (_expand(g, share.shape, axis, keepdims) * share,)


# ------------------------------------------------------------------------ shape and indexing


class Reshape(Op):
    """z = x viewed with a new shape  ·  dz/dx = g reshaped back"""

    torch = "torch.reshape"
    reads = ()

    @staticmethod
    def forward(x, shape):
        return x.reshape(shape), x.shape

    @staticmethod
    def backward(shape, g, needs):
        return (g.reshape(shape),)


class Permute(Op):
    """z = x with its axes reordered  ·  dz/dx = g with the inverse order"""

    torch = "torch.permute"
    reads = ()

    @staticmethod
    def forward(x, axes):
        return np.transpose(x, axes), axes

    @staticmethod
    def backward(axes, g, needs):
        # argsort needs the axes as non-negative numbers: permute(-1, 0, 1) means (2, 0, 1)
        inverse = None if axes is None else tuple(np.argsort([a % g.ndim for a in axes]))
        return (np.transpose(g, inverse),)


class Index(Op):
    """z = x[index]  ·  dz/dx = g scattered back to where it was read (repeats add up)"""

    torch = "torch.Tensor.__getitem__"
    reads = ()
    fresh = True

    @staticmethod
    def forward(x, index):
        return x[index], (x.shape, x.dtype, index)

    @staticmethod
    def backward(saved, g, needs):
        shape, _dtype, index = saved
        grad = np.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            grad[index] = g  # slices and ints never read an element twice
        else:
            np.add.at(grad, index, g)  # integer arrays may repeat an element: add, don't overwrite
        return (grad,)


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


class Concatenate(Op):
    """z = [x₁ x₂ …] joined along axis  ·  dz/dxᵢ = the slice of g where xᵢ landed"""

    torch = "torch.cat"
    reads = ()

    @staticmethod
    def forward(*xs, axis):
        return np.concatenate(xs, axis=axis), (axis, np.cumsum([x.shape[axis] for x in xs])[:-1])

    @staticmethod
    def backward(saved, g, needs):
        axis, splits = saved
        return tuple(np.split(g, splits, axis=axis))


# ------------------------------------------------------------------------ softmax family


class Softmax(Op):
    """s = eˣ / Σ eˣ  ·  dL/dx = s (g - Σ g s)"""

    torch = "torch.softmax"
    reads = ()
    reads_out = True
    fresh = True

    @staticmethod
    def forward(x, axis):
        shifted = x - x.max(axis=axis, keepdims=True, initial=-np.inf)  # shift by the max: no overflow
        if x.size == 0:  # initial= lets an empty axis through: an empty result, as in PyTorch
            return shifted, (shifted, axis)
        e = np.exp(shifted)
        out = e / e.sum(axis=axis, keepdims=True)
        return out, (out, axis)

    @staticmethod
    def backward(saved, g, needs):
        s, axis = saved
        return (s * (g - (g * s).sum(axis=axis, keepdims=True)),)


class LogSoftmax(Op):
    """z = x - log Σ eˣ  ·  dL/dx = g - softmax(x) Σ g"""

    torch = "torch.log_softmax"
    reads = ()
    reads_out = True
    fresh = True

    @staticmethod
    def forward(x, axis):
        shifted = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
        if x.size == 0:  # an empty axis: an empty result, as in PyTorch
            return shifted, (shifted, axis)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        return out, (out, axis)

    @staticmethod
    def backward(saved, g, needs):
        out, axis = saved
        return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)


class CrossEntropy(Op):
    """L = mean of -log softmax(x)[target]  ·  dL/dx = (softmax(x) - onehot(target)) / n"""

    torch = "torch.nn.functional.cross_entropy"
    reads = ()
    fresh = True

    @staticmethod
    def forward(logits, target):
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        rows = np.arange(len(target))
        loss = (np.log(total[:, 0]) - shifted[rows, target]).sum() / len(target)
        return np.asarray(loss, dtype=logits.dtype), (e / total, rows, target)

    @staticmethod
    def backward(saved, g, needs):
        probs, rows, target = saved
        grad = probs.copy()
        grad[rows, target] -= 1
        grad *= g / len(target)
        return (grad,)


# Every op in the table, in reading order (the docs' op reference is generated from this).
TABLE: tuple[type[Op], ...] = (
    Add, Sub, Mul, Div, Pow, Maximum, Neg, Exp, Log, Tanh, Sigmoid, Relu, Abs, Clip,
    MatMul, Linear, Sum, Mean, Max, Reshape, Permute, Index, Concatenate,
    Softmax, LogSoftmax, CrossEntropy,
)  # fmt: skip
