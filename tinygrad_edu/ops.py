"""The tensor engine's derivative table: every op's forward and backward, side by side.

Each op is a class with two static methods:

* `forward(*arrays, *args) -> (out, saved)`: compute the result with NumPy and keep what the
  backward pass will need (`saved`); never the result Tensor itself, so the graph has no cycles.
* `backward(saved, g, needs) -> grads`: given `g` = dL/d(out), return dL/d(input) for each input
  (`None` where `needs[i]` is False). It returns `g` itself, a view of `g`, or a new array, never
  an array it saved: the engine keeps new arrays as gradients without copying them.

Each backward is one formula (written with the helpers in formulas.py) that runs on NumPy arrays
in a first-order `backward()` and on Tensors under `backward(create_graph=True)`, so a gradient can
be differentiated again. Gradients may come back with a broadcast shape; the engine sums them back
to each input's shape where they land. The first line of each docstring is the maths, and the
docs' op reference is generated from it. `torch` names PyTorch's twin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .formulas import (
    data_of,
    exp,
    expand,
    g_times_s_1_minus_s,
    log,
    minus_onehot,
    mT,
    permute,
    scatter,
    sigmoid,
    unbroadcast,
    unreduce,
)
from .quiet import quiet, quietly

Array = np.ndarray
Saved = int | str | None  # what one saved item is: input i, "out" (the result), or None (a constant)

# log(0) = -inf, x/0 = ±inf, exp(1000) = inf, as in PyTorch: returned without NumPy's RuntimeWarning
# (detect_anomaly() turns them into errors). Only ops whose finite inputs can produce them pay for it (quiet.py).


class Op:
    """Base of the table: an op is forward + backward, with no state of its own.

    Each op declares, on its class line: `torch`, PyTorch's twin; `reads`, which input values its
    backward reads, as PyTorch saves them (reads[i] lists the inputs the gradient of input i is
    computed from; backward checks those were not changed in place since the forward pass; None,
    the safe default: every input for every gradient); `reads_out`, whether backward reads the
    op's own result; `saves`, what `saved` holds, for `backward(create_graph=True)`, which needs
    each saved input or output as its Tensor: input i, "out", or None (a constant such as a mask or
    a shape), a tuple when `saved` is one; None (the default): only constants.
    """

    torch = ""
    reads: tuple[tuple[int, ...], ...] | None = None
    reads_out = False
    saves: Saved | tuple[Saved, ...] = None

    def __init_subclass__(
        cls, torch: str = "", reads: Any = None, reads_out: bool = False, saves: Any = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.torch, cls.reads, cls.reads_out, cls.saves = torch, reads, reads_out, saves

    @staticmethod
    def forward(*args: Any) -> tuple[Array, Any]:
        raise NotImplementedError

    @staticmethod
    def backward(saved: Any, g: Array, needs: tuple[bool, ...]) -> tuple[Array | None, ...]:
        raise NotImplementedError

    @classmethod
    def saved_tensors(cls, parents: tuple[Any, ...], out: Any, saved: Any) -> Any:
        """`saved` with each saved input or output swapped for its Tensor, as `saves` says."""

        def tensor(what: Saved, item: Any) -> Any:
            if what == "out":
                return out
            return item if what is None or parents[what] is None else parents[what]  # type: ignore[index]

        if cls.saves is None:
            return saved
        if isinstance(cls.saves, tuple):
            return tuple(tensor(what, item) for what, item in zip(cls.saves, saved))
        return tensor(cls.saves, saved)


# ------------------------------------------------------------------------ elementwise, binary


class Add(Op, torch="torch.add", reads=()):
    """z = x + y    ·  dz/dx = 1, dz/dy = 1"""

    @staticmethod
    def forward(x, y):
        return x + y, None

    @staticmethod
    def backward(saved, g, needs):
        return g, g


class Sub(Op, torch="torch.sub", reads=()):
    """z = x - y    ·  dz/dx = 1, dz/dy = -1"""

    @staticmethod
    def forward(x, y):
        return x - y, None

    @staticmethod
    def backward(saved, g, needs):
        return g, (-g if needs[1] else None)


class Mul(Op, torch="torch.mul", reads=((1,), (0,)), saves=(0, 1)):
    """z = x * y    ·  dz/dx = y, dz/dy = x"""

    @staticmethod
    def forward(x, y):
        return x * y, (x, y)

    @staticmethod
    def backward(saved, g, needs):
        x, y = saved
        return (g * y if needs[0] else None), (g * x if needs[1] else None)


class Div(Op, torch="torch.div", reads=((1,), (0, 1)), saves=(0, 1)):
    """z = x / y    ·  dz/dx = 1/y, dz/dy = -x/y²"""

    @staticmethod
    def forward(x, y):
        if (type(y) is float or type(y) is int) and abs(y) >= 1:
            return x / y, (x, y)  # x / n: cannot divide by zero or overflow, so skip the errstate cost
        with quiet():
            return x / y, (x, y)

    @staticmethod
    def backward(saved, g, needs):
        x, y = saved
        gx = g / y
        return (gx if needs[0] else None), (-gx * x / y if needs[1] else None)


class Pow(Op, torch="torch.pow", reads=((0, 1), (0, 1)), reads_out=True, saves=(0, 1, "out")):
    """z = x ** y   ·  dz/dx = y x^(y-1), dz/dy = x^y ln x  (0 where x = 0 and y >= 0)"""

    @staticmethod
    @quietly
    def forward(x, y):
        out = x**y
        return out, (x, y, out)

    @staticmethod
    def backward(saved, g, needs):
        x, y, out = saved
        gx = gy = None
        if needs[0]:
            # d(x^0)/dx = 0 everywhere, also at x = 0 where y x^(y-1) would be 0 * inf (as in PyTorch)
            nonzero = np.not_equal(data_of(y), 0)
            gx = g * y * x ** (y - 1) if nonzero.all() else g * nonzero * y * x ** ((y - 1) * nonzero)
        if needs[1]:
            # PyTorch's convention: 0^y ln 0 counts as 0 for y >= 0, the limit from the right; so
            # take ln 1 = 0 there instead of ln 0 = -inf.
            at_zero = (data_of(x) == 0) & (data_of(y) >= 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                gy = g * out * log(x + at_zero if at_zero.any() else x)
        return gx, gy


class Maximum(Op, torch="torch.maximum", reads=((0, 1), (0, 1))):
    """z = max(x, y) elementwise  ·  g goes to the larger input (split evenly on ties, to both at NaN, as in PyTorch)"""

    @staticmethod
    def forward(x, y):
        out = np.maximum(x, y)
        tie = np.where(x == y, 0.5, 1.0)
        share_x = np.where(x < y, 0.0, tie).astype(out.dtype, copy=False)
        share_y = np.where(x > y, 0.0, tie).astype(out.dtype, copy=False)
        return out, (share_x, share_y)

    @staticmethod
    def backward(shares, g, needs):
        return g * shares[0], g * shares[1]


# ------------------------------------------------------------------------ elementwise, unary


class Neg(Op, torch="torch.neg", reads=()):
    """z = -x       ·  dz/dx = -1"""

    @staticmethod
    def forward(x):
        return -x, None

    @staticmethod
    def backward(saved, g, needs):
        return (-g,)


class Exp(Op, torch="torch.exp", reads=(), reads_out=True, saves="out"):
    """z = eˣ       ·  dz/dx = eˣ = z"""

    @staticmethod
    @quietly
    def forward(x):
        out = np.exp(x)
        return out, out

    @staticmethod
    def backward(out, g, needs):
        return (g * out,)


class Log(Op, torch="torch.log", reads=((0,),), saves=0):
    """z = ln x     ·  dz/dx = 1/x"""

    @staticmethod
    @quietly
    def forward(x):
        return np.log(x), x

    @staticmethod
    def backward(x, g, needs):
        return (g / x,)


class Tanh(Op, torch="torch.tanh", reads=(), reads_out=True, saves="out"):
    """z = tanh x   ·  dz/dx = 1 - z²"""

    @staticmethod
    def forward(x):
        out = np.tanh(x)
        return out, out

    @staticmethod
    def backward(out, g, needs):
        return (g * (1 - out * out),)


class Sigmoid(Op, torch="torch.sigmoid", reads=(), reads_out=True, saves="out"):
    """z = 1/(1+e⁻ˣ) ·  dz/dx = z(1 - z)   (the article's a * (1 - a))"""

    @staticmethod
    def forward(x):
        out = sigmoid(x)
        return out, out

    @staticmethod
    def backward(out, g, needs):
        return (g_times_s_1_minus_s(g, out),)


class Relu(Op, torch="torch.relu", reads=(), reads_out=True):
    """z = max(0,x) ·  dz/dx = 0 where x <= 0, else 1 (also at NaN, as in PyTorch and Value.relu)"""

    @staticmethod
    def forward(x):
        out = np.maximum(x, 0)
        return out, ~(x <= 0)

    @staticmethod
    def backward(positive, g, needs):
        return (g * positive,)


class Abs(Op, torch="torch.abs", reads=((0,),)):
    """z = |x|      ·  dz/dx = sign(x)  (0 at 0 and at NaN, as in PyTorch)"""

    @staticmethod
    def forward(x):
        return np.abs(x), np.nan_to_num(np.sign(x), nan=0.0)

    @staticmethod
    def backward(sign, g, needs):
        return (g * sign,)


class Clip(Op, torch="torch.clamp", reads=((0,),)):
    """z = min(max(x, lo), hi)  ·  dz/dx = 1 where lo <= x <= hi, else 0"""

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


class MatMul(Op, torch="torch.matmul", reads=((1,), (0,)), saves=(0, 1)):
    """z = x @ y    ·  dz/dx = g @ yᵀ, dz/dy = xᵀ @ g  (1-D operands act as a row / a column)"""

    @staticmethod
    def forward(x, y):
        return x @ y, (x, y)

    @staticmethod
    def backward(saved, g, needs):
        x, y = saved
        if x.ndim == 2 and y.ndim == 2:  # plain matrices: the docstring's formula, nothing else
            return (g @ y.T if needs[0] else None), (x.T @ g if needs[1] else None)
        # Promote 1-D operands the way matmul does, so one formula serves every case.
        # (y first: for 1-D @ 1-D, g is 0-d and must become (1,) before it can become (1, 1).)
        x2 = x.reshape(1, -1) if x.ndim == 1 else x
        y2 = y.reshape(-1, 1) if y.ndim == 1 else y
        if y.ndim == 1:
            g = g.reshape((*g.shape, 1))
        if x.ndim == 1:
            g = g.reshape((*g.shape[:-1], 1, g.shape[-1]))
        gx = unbroadcast(g @ mT(y2), x2.shape).reshape(x.shape) if needs[0] else None
        gy = unbroadcast(mT(x2) @ g, y2.shape).reshape(y.shape) if needs[1] else None
        return gx, gy


class Linear(Op, torch="torch.nn.functional.linear", reads=((1,), (0,), ()), saves=(0, 1)):
    """z = x @ Wᵀ + b  ·  dz/dx = g @ W, dz/dW = gᵀ @ x, dz/db = Σ g over the batch"""

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


class Sum(Op, torch="torch.sum", reads=()):
    """z = Σ x over axis  ·  dz/dx = 1 for every summed element"""

    @staticmethod
    def forward(x, axis, keepdims):
        return x.sum(axis=axis, keepdims=keepdims), (x.shape, axis, keepdims)

    @staticmethod
    def backward(saved, g, needs):
        shape, axis, keepdims = saved
        return (expand(unreduce(g, shape, axis, keepdims), shape),)


class Mean(Op, torch="torch.mean", reads=()):
    """z = Σ x / n over axis  ·  dz/dx = 1/n"""

    @staticmethod
    def forward(x, axis, keepdims):
        out = x.mean(axis=axis, keepdims=keepdims)
        return out, (x.shape, axis, keepdims, x.size // max(out.size, 1))

    @staticmethod
    def backward(saved, g, needs):
        shape, axis, keepdims, n = saved
        return (expand(unreduce(g, shape, axis, keepdims) / n, shape),)


class Max(Op, torch="torch.amax", reads=((0,),), reads_out=True):
    """z = max x over axis  ·  dz/dx = 1 at the maximum (split evenly between ties), else 0"""

    @staticmethod
    def forward(x, axis, keepdims):
        out = x.max(axis=axis, keepdims=True)
        is_max = x == out
        share = is_max / is_max.sum(axis=axis, keepdims=True)
        return (out if keepdims else np.squeeze(out, axis=axis)), (share.astype(x.dtype), axis, keepdims)

    @staticmethod
    def backward(saved, g, needs):
        share, axis, keepdims = saved
        return (unreduce(g, share.shape, axis, keepdims) * share,)


class Expand(Op, torch="torch.Tensor.expand", reads=()):
    """z = x broadcast to a shape  ·  dz/dx = g summed over the copies (unbroadcast)"""

    @staticmethod
    def forward(x, shape):
        return expand(x, shape), np.shape(x)

    @staticmethod
    def backward(shape, g, needs):
        return (unbroadcast(g, shape),)


# ------------------------------------------------------------------------ shape and indexing


class Reshape(Op, torch="torch.reshape", reads=()):
    """z = x viewed with a new shape  ·  dz/dx = g reshaped back"""

    @staticmethod
    def forward(x, shape):
        return x.reshape(shape), x.shape

    @staticmethod
    def backward(shape, g, needs):
        return (g.reshape(shape),)


class Permute(Op, torch="torch.permute", reads=()):
    """z = x with its axes reordered  ·  dz/dx = g with the inverse order"""

    @staticmethod
    def forward(x, axes):
        return np.transpose(x, axes), axes

    @staticmethod
    def backward(axes, g, needs):
        n = g.ndim
        # argsort needs the axes as non-negative numbers: permute(-1, 0, 1) means (2, 0, 1)
        order = range(n - 1, -1, -1) if axes is None else [a % n for a in axes]
        return (permute(g, tuple(int(i) for i in np.argsort(order))),)


class Index(Op, torch="torch.Tensor.__getitem__", reads=()):
    """z = x[index]  ·  dz/dx = g scattered back to where it was read (repeats add up)"""

    @staticmethod
    def forward(x, index):
        return x[index], (x.shape, index)

    @staticmethod
    def backward(saved, g, needs):
        shape, index = saved
        return (scatter(g, shape, index),)


class Scatter(Op, torch="torch.Tensor.index_put(accumulate=True)", reads=()):
    """z = zeros(shape) with x added at index  ·  dz/dx = g[index]  (the backward of x[index])"""

    @staticmethod
    def forward(x, shape, index):
        return scatter(x, shape, index), index

    @staticmethod
    def backward(index, g, needs):
        return (g[index],)


class Concatenate(Op, torch="torch.cat", reads=()):
    """z = [x₁ x₂ …] joined along axis  ·  dz/dxᵢ = the slice of g where xᵢ landed"""

    @staticmethod
    def forward(*xs, axis):
        out = np.concatenate(xs, axis=axis)
        axis %= out.ndim
        ends = np.cumsum([x.shape[axis] for x in xs]).tolist()
        return out, (axis, ends)

    @staticmethod
    def backward(saved, g, needs):
        axis, ends = saved
        lead = (slice(None),) * axis
        return tuple(g[(*lead, slice(start, end))] for start, end in zip([0, *ends], ends))


# ------------------------------------------------------------------------ softmax family


class Softmax(Op, torch="torch.softmax", reads=(), reads_out=True, saves=("out", None)):
    """s = eˣ / Σ eˣ  ·  dL/dx = s (g - Σ g s)"""

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


class LogSoftmax(Op, torch="torch.log_softmax", reads=(), reads_out=True, saves=("out", None)):
    """z = x - log Σ eˣ  ·  dL/dx = g - softmax(x) Σ g"""

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
        return (g - exp(out) * g.sum(axis=axis, keepdims=True),)


class CrossEntropy(Op, torch="torch.nn.functional.cross_entropy", reads=()):
    """L = mean of -log softmax(x)[target]  ·  dL/dx = (softmax(x) - onehot(target)) / n"""

    @staticmethod
    @quietly
    def forward(logits, target):
        shifted = logits - np.fmax.reduce(logits, axis=1, keepdims=True)  # (max's NaNs come out alike; quicker)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        rows = np.arange(len(target))
        loss = (np.log(total[:, 0]) - shifted[rows, target]).sum() / len(target)
        return np.asarray(loss, dtype=logits.dtype), (e / total, rows, target)

    @staticmethod
    def backward(saved, g, needs):
        probs, rows, target = saved
        return (minus_onehot(probs, rows, target) * (g / len(target)),)

    @staticmethod
    def saved_tensors(parents, out, saved):
        return parents[0].softmax(axis=1), saved[1], saved[2]


# Every op in the table, in reading order (the docs' op reference is generated from this).
TABLE: tuple[type[Op], ...] = (
    Add, Sub, Mul, Div, Pow, Maximum, Neg, Exp, Log, Tanh, Sigmoid, Relu, Abs, Clip,
    MatMul, Linear, Sum, Mean, Max, Expand, Reshape, Permute, Index, Scatter, Concatenate,
    Softmax, LogSoftmax, CrossEntropy,
)  # fmt: skip
