"""The tensor engine's derivative table: every op's forward and backward, side by side.

Each op is a class with two static methods:

* `forward(*arrays, *args) -> (out, saved)`: compute the result with NumPy and keep what the
  backward pass will need (`saved`); never the result Tensor itself, so the graph has no cycles.
* `backward(saved, g, needs) -> grads`: given `g` = dL/d(out), return dL/d(input) for each input
  (`None` where `needs[i]` is False, so no work is wasted on inputs that need no gradient).
  It returns `g` itself, a view of `g`, or a new array, never an array it saved: the engine keeps
  new arrays as gradients without copying them.

One formula, two engines. Each backward is written with operators and the few helpers below, so the
same line runs on NumPy arrays (a first-order `backward()`: fast, nothing recorded) and on Tensors
(`backward(create_graph=True)`: `saved` and `g` are Tensors, so the gradient is itself a graph that
can be differentiated again). `saved_tensors` says which saved arrays become which Tensors, like
`ctx.saved_tensors` in PyTorch; masks and shapes stay constants (their derivative is zero).

Gradients may come back with a broadcast shape; the engine sums them back to each input's shape
(`unbroadcast`) where they land. The first line of each docstring is the maths; the docs' op
reference is generated from it, so docs and code cannot drift. `torch` names PyTorch's twin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ShapeError

Array = np.ndarray
_NUMPY = (np.ndarray, np.generic, int, float)  # a first-order backward works on these; else on Tensors

# log(0) = -inf, x/0 = ±inf, exp(1000) = inf, as in PyTorch: returned without NumPy's RuntimeWarning
# (detect_anomaly() turns them into errors). Only ops whose finite inputs can produce them pay for it.
_quiet = np.errstate(all="ignore")


class Op:
    """Base of the table: an op is forward + backward, with no state of its own."""

    torch = ""
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

    @staticmethod
    def saved_tensors(parents: tuple[Any, ...], out: Any, saved: Any) -> Any:
        """`saved` for `backward(create_graph=True)`: each saved input or output as its Tensor.

        `parents` are the input Tensors (None for a constant input), `out` the result Tensor. The
        default keeps `saved` as it is: right for ops that save only shapes, axes and masks.
        """
        return saved


def _inputs(parents: tuple[Any, ...], saved: tuple[Any, ...]) -> tuple[Any, ...]:
    """The saved inputs as Tensors, keeping a constant input (no parent) as the saved constant."""
    return tuple(a if p is None else p for p, a in zip(parents, saved))


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


# ------------------------------------------------------------------------ one formula, two engines
# NumPy arrays and Tensors share +, -, *, /, **, @, reshape, sum and indexing; these helpers name
# the rest once, so each backward below stays a single formula for both.


def _graph_apply(op: type[Op], inputs: tuple[Any, ...], *args: Any) -> Any:
    from .tensor import _apply  # at call time: tensor.py imports this module

    return _apply(op, inputs, *args)


def exp(a: Any) -> Any:
    return np.exp(a) if isinstance(a, _NUMPY) else a.exp()


def log(a: Any) -> Any:
    return np.log(a) if isinstance(a, _NUMPY) else a.log()


def data_of(a: Any) -> Any:
    """The numbers: for masks and tests on values, which are constants to differentiation."""
    return a if isinstance(a, _NUMPY) else a.data


def expand(a: Any, shape: tuple[int, ...]) -> Any:
    """`a` broadcast to `shape` as a new array (PyTorch's `expand`; its gradient is `unbroadcast`)."""
    if isinstance(a, _NUMPY):
        return Expand.forward(a, shape)[0]
    return _graph_apply(Expand, (a,), shape)


def mT(a: Any) -> Any:  # noqa: N802 (PyTorch's name)
    """The last two axes swapped: the matrix transpose, batched (PyTorch's `.mT`)."""
    if isinstance(a, np.ndarray):
        return a.swapaxes(-1, -2)
    n = a.ndim
    return a.permute(*range(n - 2), n - 1, n - 2)


def permute(a: Any, axes: tuple[int, ...]) -> Any:
    return np.transpose(a, axes) if isinstance(a, _NUMPY) else a.permute(axes)


def sigmoid(x: Array) -> Array:
    """1 / (1 + e⁻ˣ), written into one buffer: no temporaries on every hidden layer's activations."""
    # e^-x overflows to inf for very negative x; 1/(1+inf) = 0 is still the right answer.
    with np.errstate(over="ignore"):
        out = np.asarray(np.exp(-x))  # asarray: a 0-d input gives a NumPy scalar
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


def scatter(a: Any, shape: tuple[int, ...], index: Any) -> Any:
    """zeros(shape) with `a` added at `index`: the gradient of `x[index]`."""
    if isinstance(a, _NUMPY):
        return Scatter.forward(a, shape, index)[0]
    return _graph_apply(Scatter, (a,), shape, index)


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

    @staticmethod
    def forward(x, y):
        return x * y, (x, y)

    @staticmethod
    def backward(saved, g, needs):
        x, y = saved
        return (g * y if needs[0] else None), (g * x if needs[1] else None)

    @staticmethod
    def saved_tensors(parents, out, saved):
        return _inputs(parents, saved)


class Div(Op):
    """z = x / y    ·  dz/dx = 1/y, dz/dy = -x/y²"""

    torch = "torch.div"
    reads = ((1,), (0, 1))

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

    @staticmethod
    def saved_tensors(parents, out, saved):
        return _inputs(parents, saved)


class Pow(Op):
    """z = x ** y   ·  dz/dx = y x^(y-1), dz/dy = x^y ln x  (0 where x = 0 and y >= 0)"""

    torch = "torch.pow"
    reads = ((0, 1), (0, 1))
    reads_out = True

    @staticmethod
    @_quiet
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

    @staticmethod
    def saved_tensors(parents, out, saved):
        return (*_inputs(parents, saved[:2]), out)


class Maximum(Op):
    """z = max(x, y) elementwise  ·  g goes to the larger input (split evenly on ties)"""

    torch = "torch.maximum"
    reads = ((0, 1), (0, 1))

    @staticmethod
    def forward(x, y):
        out = np.maximum(x, y)
        share = np.where(x > y, 1.0, np.where(x == y, 0.5, 0.0)).astype(out.dtype, copy=False)
        return out, share

    @staticmethod
    def backward(share, g, needs):
        return g * share, g * (1 - share)


# ------------------------------------------------------------------------ elementwise, unary


class Neg(Op):
    """z = -x       ·  dz/dx = -1"""

    torch = "torch.neg"
    reads = ()

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

    @staticmethod
    @_quiet
    def forward(x):
        out = np.exp(x)
        return out, out

    @staticmethod
    def backward(out, g, needs):
        return (g * out,)

    @staticmethod
    def saved_tensors(parents, out, saved):
        return out


class Log(Op):
    """z = ln x     ·  dz/dx = 1/x"""

    torch = "torch.log"
    reads = ((0,),)

    @staticmethod
    @_quiet
    def forward(x):
        return np.log(x), x

    @staticmethod
    def backward(x, g, needs):
        return (g / x,)

    @staticmethod
    def saved_tensors(parents, out, saved):
        return parents[0]


class Tanh(Op):
    """z = tanh x   ·  dz/dx = 1 - z²"""

    torch = "torch.tanh"
    reads = ()
    reads_out = True

    @staticmethod
    def forward(x):
        out = np.tanh(x)
        return out, out

    @staticmethod
    def backward(out, g, needs):
        return (g * (1 - out * out),)

    @staticmethod
    def saved_tensors(parents, out, saved):
        return out


class Sigmoid(Op):
    """z = 1/(1+e⁻ˣ) ·  dz/dx = z(1 - z)   (the article's a * (1 - a))"""

    torch = "torch.sigmoid"
    reads = ()
    reads_out = True

    @staticmethod
    def forward(x):
        out = sigmoid(x)
        return out, out

    @staticmethod
    def backward(out, g, needs):
        return (g_times_s_1_minus_s(g, out),)

    @staticmethod
    def saved_tensors(parents, out, saved):
        return out


class Relu(Op):
    """z = max(0,x) ·  dz/dx = 1 where x > 0, else 0"""

    torch = "torch.relu"
    reads = ()
    reads_out = True

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

    @staticmethod
    def saved_tensors(parents, out, saved):
        return _inputs(parents, saved)


class Linear(Op):
    """z = x @ Wᵀ + b  ·  dz/dx = g @ W, dz/dW = gᵀ @ x, dz/db = Σ g over the batch"""

    torch = "torch.nn.functional.linear"
    reads = ((1,), (0,), ())

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

    @staticmethod
    def saved_tensors(parents, out, saved):
        return _inputs(parents[:2], saved)


# ------------------------------------------------------------------------ reductions


def _unreduce(g: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    """Give a reduced gradient its reduced axes back (size 1), so it broadcasts against the input."""
    if keepdims:
        return g
    if axis is None:
        return g.reshape((1,) * len(shape))
    axes = {int(a) % len(shape) for a in (axis if isinstance(axis, (tuple, list)) else (axis,))}
    return g.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))


class Sum(Op):
    """z = Σ x over axis  ·  dz/dx = 1 for every summed element"""

    torch = "torch.sum"
    reads = ()

    @staticmethod
    def forward(x, axis, keepdims):
        return x.sum(axis=axis, keepdims=keepdims), (x.shape, axis, keepdims)

    @staticmethod
    def backward(saved, g, needs):
        shape, axis, keepdims = saved
        return (expand(_unreduce(g, shape, axis, keepdims), shape),)


class Mean(Op):
    """z = Σ x / n over axis  ·  dz/dx = 1/n"""

    torch = "torch.mean"
    reads = ()

    @staticmethod
    def forward(x, axis, keepdims):
        out = x.mean(axis=axis, keepdims=keepdims)
        return out, (x.shape, axis, keepdims, x.size // max(out.size, 1))

    @staticmethod
    def backward(saved, g, needs):
        shape, axis, keepdims, n = saved
        return (expand(_unreduce(g, shape, axis, keepdims) / n, shape),)


class Max(Op):
    """z = max x over axis  ·  dz/dx = 1 at the maximum (split evenly between ties), else 0"""

    torch = "torch.amax"
    reads = ((0,),)
    reads_out = True

    @staticmethod
    def forward(x, axis, keepdims):
        out = x.max(axis=axis, keepdims=True)
        is_max = x == out
        share = is_max / is_max.sum(axis=axis, keepdims=True)
        return (out if keepdims else np.squeeze(out, axis=axis)), (share.astype(x.dtype), axis, keepdims)

    @staticmethod
    def backward(saved, g, needs):
        share, axis, keepdims = saved
        return (_unreduce(g, share.shape, axis, keepdims) * share,)


class Expand(Op):
    """z = x broadcast to a shape  ·  dz/dx = g summed over the copies (unbroadcast)"""

    torch = "torch.Tensor.expand"
    reads = ()

    @staticmethod
    def forward(x, shape):
        out = np.empty(shape, dtype=x.dtype)  # a new array: faster than np.broadcast_to for small ones
        out[...] = x
        return out, np.shape(x)

    @staticmethod
    def backward(shape, g, needs):
        return (unbroadcast(g, shape),)


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
        n = g.ndim
        # argsort needs the axes as non-negative numbers: permute(-1, 0, 1) means (2, 0, 1)
        order = range(n - 1, -1, -1) if axes is None else [a % n for a in axes]
        return (permute(g, tuple(int(i) for i in np.argsort(order))),)


class Index(Op):
    """z = x[index]  ·  dz/dx = g scattered back to where it was read (repeats add up)"""

    torch = "torch.Tensor.__getitem__"
    reads = ()

    @staticmethod
    def forward(x, index):
        return x[index], (x.shape, index)

    @staticmethod
    def backward(saved, g, needs):
        shape, index = saved
        return (scatter(g, shape, index),)


class Scatter(Op):
    """z = zeros(shape) with x added at index  ·  dz/dx = g[index]  (the backward of x[index])"""

    torch = "torch.Tensor.index_put(accumulate=True)"
    reads = ()

    @staticmethod
    def forward(x, shape, index):
        out = np.zeros(shape, dtype=x.dtype)
        if _is_basic(index):
            out[index] = x  # slices and ints never read an element twice
        else:
            np.add.at(out, index, x)  # integer arrays may repeat an element: add, don't overwrite
        return out, index

    @staticmethod
    def backward(index, g, needs):
        return (g[index],)


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


class Concatenate(Op):
    """z = [x₁ x₂ …] joined along axis  ·  dz/dxᵢ = the slice of g where xᵢ landed"""

    torch = "torch.cat"
    reads = ()

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


class Softmax(Op):
    """s = eˣ / Σ eˣ  ·  dL/dx = s (g - Σ g s)"""

    torch = "torch.softmax"
    reads = ()
    reads_out = True

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

    @staticmethod
    def saved_tensors(parents, out, saved):
        return out, saved[1]


class LogSoftmax(Op):
    """z = x - log Σ eˣ  ·  dL/dx = g - softmax(x) Σ g"""

    torch = "torch.log_softmax"
    reads = ()
    reads_out = True

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

    @staticmethod
    def saved_tensors(parents, out, saved):
        return out, saved[1]


class CrossEntropy(Op):
    """L = mean of -log softmax(x)[target]  ·  dL/dx = (softmax(x) - onehot(target)) / n"""

    torch = "torch.nn.functional.cross_entropy"
    reads = ()

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
