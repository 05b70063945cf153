"""`Tensor`: the `Value` idea over NumPy arrays, with broadcasting (the article's Level 2).

A Tensor produced by an op remembers the op (a class from `ops.TABLE`), its parents and what the
op saved for backward. `backward()` visits the graph newest node first and asks each op for the
gradients of its inputs; where an input was broadcast, the gradient is summed back to its shape.
Then it releases the graph, as PyTorch does (`keep_graph()` keeps it for drawing), and it refuses
to use an input that was written in place since the forward pass (a version counter per tensor).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from heapq import heappop, heappush
from typing import Any

import numpy as np

from . import ops
from .anomaly import anomaly_mode, check_backward, check_forward
from .errors import (
    ArgumentError,
    ArgumentTypeError,
    DTypeError,
    GraphError,
    IndexOutOfRangeError,
    MathDomainError,
    MixedEngineError,
    ShapeError,
    TinygradEduError,
)
from .formulas import unbroadcast
from .graph import Node, away, grad_mode, set_mode, tick
from .retention import is_graph_kept
from .rng import Seed, as_generator

_FREED = object()  # marks a node whose saved arrays were released by backward
RELEASED_HINT = (
    "the graph behind this tensor was released by backward(), as PyTorch does; to draw or step through it "
    "afterwards, call backward(retain_graph=True), or run forward and backward inside "
    "`with tinygrad_edu.keep_graph():`"
)

# In-place writes. Each tensor may carry a version counter `_vc = [version, tick of the last write]`,
# made on its first in-place write and shared with its `detach()`es and NumPy views (same memory). Forward
# records nothing: a node was created at tick `_order`, so an input it read has changed since iff
# that input's last write is newer. `_last_write` is the newest write anywhere, which lets backward
# skip the check with one comparison per node in the usual case (no write since the forward pass).
_last_write = [-1]
_write_lock = threading.Lock()


class Tensor(Node):
    """An n-dimensional array node: `data` is a `numpy.ndarray`, `grad` None or an array of its shape.

    Lists and Python numbers become float32 unless `dtype` says otherwise; an ndarray keeps its
    dtype (float64 stays float64). Only floating-point tensors can require grad.
    """

    __slots__ = ("_needs", "_op", "_order", "_parents", "_saved", "_vc", "data", "grad", "name", "requires_grad")
    __array_ufunc__ = None  # `ndarray * tensor` must call Tensor.__rmul__, not silently drop the graph
    __hash__ = object.__hash__  # == is elementwise, so hashing must be by identity

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        elif isinstance(data, Node):
            raise MixedEngineError("Tensor(Value): use Tensor(v.data) to copy a scalar Value's number into a Tensor")
        try:
            if isinstance(data, np.ndarray):
                array = np.array(data, dtype=dtype)
            else:
                array = np.array(data, dtype=dtype if dtype is not None else np.float32)
        except (ValueError, TypeError) as error:
            raise DTypeError(
                f"Tensor: cannot make a numeric array from {type(data).__name__} ({error}); pass numbers, "
                "a rectangular nested list of numbers, or a numpy array"
            ) from None
        if array.dtype.kind not in "biufc":  # strings, objects, dates: not numbers
            raise DTypeError(
                f"Tensor: cannot make a numeric array from {type(data).__name__} of dtype {array.dtype}; "
                "pass numbers (or booleans)"
            )
        self.data = array
        self.grad: np.ndarray | None = None
        self.name = name
        self._op: type[ops.Op] | None = None
        self._parents: tuple[Tensor | None, ...] = ()
        self._saved: Any = None
        self._needs: tuple[bool, ...] = ()
        self._order = tick()
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ construction

    @staticmethod
    def from_numpy(array: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Wrap `array` without copying it: changes to one show in the other."""
        if not isinstance(array, np.ndarray):
            raise ArgumentTypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
        t = _leaf(array)
        if requires_grad:
            t.requires_grad_(True)
        return t

    @staticmethod
    def zeros(*shape: int | Sequence[int], dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
        return Tensor(np.zeros(_shape(shape, "zeros", new=True), dtype=dtype), requires_grad=requires_grad)

    @staticmethod
    def ones(*shape: int | Sequence[int], dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
        return Tensor(np.ones(_shape(shape, "ones", new=True), dtype=dtype), requires_grad=requires_grad)

    @staticmethod
    def randn(
        *shape: int | Sequence[int], generator: Seed = None, dtype: Any = np.float32, requires_grad: bool = False
    ) -> Tensor:
        """Standard normal samples; `generator` is a seed or a `numpy.random.Generator`."""
        data = as_generator(generator).standard_normal(_shape(shape, "randn", new=True)).astype(dtype)
        return Tensor.from_numpy(data, requires_grad=requires_grad)

    @staticmethod
    def uniform(
        low: float,
        high: float,
        shape: int | Sequence[int],
        generator: Seed = None,
        dtype: Any = np.float32,
        requires_grad: bool = False,
    ) -> Tensor:
        """Samples from U[low, high); `generator` is a seed or a `numpy.random.Generator`."""
        data = as_generator(generator).uniform(low, high, _shape((shape,), "uniform", new=True)).astype(dtype)
        return Tensor.from_numpy(data, requires_grad=requires_grad)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Turn gradient tracking on or off for this leaf (in place, returns self)."""
        if not requires_grad and self._op is not None:
            # Switching it off here would silently cut every gradient above this node.
            raise GraphError(
                f"requires_grad_(False): {_describe(self)} is the result of {self._op.__name__}, not a leaf; "
                "only leaves can stop requiring grad (as in PyTorch). To cut the graph here, use "
                "t = t.detach(), a new leaf that shares the data"
            )
        if requires_grad and not np.issubdtype(self.data.dtype, np.floating):
            raise DTypeError(
                f"requires_grad: a {self.data.dtype} tensor cannot require grad (only floating point "
                "tensors have gradients); make it with dtype=np.float32 or np.float64"
            )
        self.requires_grad = bool(requires_grad)
        return self

    # ------------------------------------------------------------------ array facts

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made (and results recorded under `no_grad`), as in PyTorch."""
        return self._op is None

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ShapeError(f"item: only a tensor with one element has an item; this one has shape {self.shape}")
        return self.data.item()

    def detach(self) -> Tensor:
        """The same data, cut off from the graph (shares memory and the version counter, requires no grad)."""
        out = _leaf(self.data)
        out._vc = _counter(self)  # an in-place write through either is a write to both, as in PyTorch
        return out

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's data has had (PyTorch's `t._version`)."""
        vc = getattr(self, "_vc", None)
        return 0 if vc is None else vc[0]

    # ------------------------------------------------------------------ in-place (PyTorch's trailing _)
    # Each bumps the version counter, so a backward pass that needs the old values raises instead
    # of computing with the new ones. Writes straight to `t.data` (NumPy) bypass the counter.
    # Inside a recorded graph, `x += y` makes a new node, as `x = x + y` does (see `_inplace`).

    def __iadd__(self, other: Any) -> Tensor:
        return _inplace(self, "+=", np.add, other, graph_op=Tensor.__add__)

    def __isub__(self, other: Any) -> Tensor:
        return _inplace(self, "-=", np.subtract, other, graph_op=Tensor.__sub__)

    def __imul__(self, other: Any) -> Tensor:
        return _inplace(self, "*=", np.multiply, other, graph_op=Tensor.__mul__)

    def __itruediv__(self, other: Any) -> Tensor:
        return _inplace(self, "/=", np.true_divide, other, graph_op=Tensor.__truediv__)

    def add_(self, other: Any) -> Tensor:
        return _inplace(self, "add_", np.add, other)

    def sub_(self, other: Any) -> Tensor:
        return _inplace(self, "sub_", np.subtract, other)

    def mul_(self, other: Any) -> Tensor:
        return _inplace(self, "mul_", np.multiply, other)

    def div_(self, other: Any) -> Tensor:
        return _inplace(self, "div_", np.true_divide, other)

    def copy_(self, src: Any) -> Tensor:
        """Copy `src` (broadcast to this shape) into this tensor's array, casting as PyTorch does."""
        return _inplace(self, "copy_", None, src)

    def fill_(self, value: float) -> Tensor:
        return _inplace(self, "fill_", None, value)

    def zero_(self) -> Tensor:
        return _inplace(self, "zero_", None, 0)

    def __setitem__(self, index: Any, value: Any) -> None:
        _inplace(self, "__setitem__", None, value, _index(index))

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise ArgumentTypeError("len: a 0-d tensor has no length (as in PyTorch); use t.item() for its number")
        return len(self.data)

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ShapeError(
                f"bool: a tensor of shape {self.shape} has no single truth value (as in PyTorch); "
                "reduce it first: (t > 0).data.all() or .any()"
            )
        return bool(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ""
        if self.data.dtype != np.float32:
            extra += f", dtype={self.data.dtype}"
        if self.requires_grad:
            extra += ", requires_grad=True"
        if self.name:
            extra += f", name={self.name!r}"
        return f"Tensor({body}{extra})"

    # ------------------------------------------------------------------ arithmetic

    def __add__(self, other: Any) -> Tensor:
        return _apply(ops.Add, (self, _operand(other, "+")))

    def __radd__(self, other: Any) -> Tensor:
        return _apply(ops.Add, (_operand(other, "+"), self))

    def __sub__(self, other: Any) -> Tensor:
        return _apply(ops.Sub, (self, _operand(other, "-")))

    def __rsub__(self, other: Any) -> Tensor:
        return _apply(ops.Sub, (_operand(other, "-"), self))

    def __mul__(self, other: Any) -> Tensor:
        return _apply(ops.Mul, (self, _operand(other, "*")))

    def __rmul__(self, other: Any) -> Tensor:
        return _apply(ops.Mul, (_operand(other, "*"), self))

    def __truediv__(self, other: Any) -> Tensor:
        return _apply(ops.Div, (self, _operand(other, "/")))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _apply(ops.Div, (_operand(other, "/"), self))

    def __pow__(self, other: Any) -> Tensor:
        return _apply(ops.Pow, (self, _operand(other, "**")))

    def __rpow__(self, other: Any) -> Tensor:
        return _apply(ops.Pow, (_operand(other, "**"), self))

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(_operand(other, "@"), self)

    def __neg__(self) -> Tensor:
        return _apply(ops.Neg, (self,))

    def maximum(self, other: Any) -> Tensor:
        return _apply(ops.Maximum, (self, _operand(other, "maximum")))

    # ------------------------------------------------------------------ elementwise functions

    def exp(self) -> Tensor:
        return _apply(ops.Exp, (self,))

    def log(self) -> Tensor:
        return _apply(ops.Log, (self,))

    def tanh(self) -> Tensor:
        return _apply(ops.Tanh, (self,))

    def sigmoid(self) -> Tensor:
        return _apply(ops.Sigmoid, (self,))

    def relu(self) -> Tensor:
        return _apply(ops.Relu, (self,))

    def abs(self) -> Tensor:
        return _apply(ops.Abs, (self,))

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002 (NumPy's names)
        if min is None and max is None:
            raise ArgumentError("clip: give min, max or both")
        return _apply(ops.Clip, (self,), min, max)

    # ------------------------------------------------------------------ reductions

    # NumPy's `axis`/`keepdims` and PyTorch's `dim`/`keepdim` both work: x.sum(dim=0, keepdim=True).

    def sum(
        self, axis: Axes = None, keepdims: bool = False, *, dim: Axes = None, keepdim: bool | None = None
    ) -> Tensor:
        return _apply(ops.Sum, (self,), *_reduce_args("sum", axis, keepdims, dim, keepdim))

    def mean(
        self, axis: Axes = None, keepdims: bool = False, *, dim: Axes = None, keepdim: bool | None = None
    ) -> Tensor:
        return _apply(ops.Mean, (self,), *_reduce_args("mean", axis, keepdims, dim, keepdim))

    def max(
        self, axis: Axes = None, keepdims: bool = False, *, dim: Axes = None, keepdim: bool | None = None
    ) -> Tensor:
        """The largest values along `axis` (PyTorch's `amax`: values only, no indices)."""
        if self.data.size == 0:
            raise ShapeError(f"max: the tensor is empty (shape {self.shape}); a maximum needs at least one element")
        return _apply(ops.Max, (self,), *_reduce_args("max", axis, keepdims, dim, keepdim))

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        return _apply(ops.Softmax, (self,), _one_axis("softmax", axis, dim))

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        return _apply(ops.LogSoftmax, (self,), _one_axis("log_softmax", axis, dim))

    # ------------------------------------------------------------------ shape

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        return _view(self, _apply(ops.Reshape, (self,), _shape(shape, "reshape")))

    def expand(self, *shape: int | Sequence[int]) -> Tensor:
        """This tensor broadcast to `shape`, as a new array (PyTorch's `expand`, without the sharing)."""
        return _apply(ops.Expand, (self,), _shape(shape))

    def _scatter(self, shape: tuple[int, ...], index: Any) -> Tensor:
        """zeros(shape) with this tensor added at `index`: x[index]'s gradient, recorded (create_graph)."""
        return _apply(ops.Scatter, (self,), shape, index)

    def permute(self, *axes: int | Sequence[int]) -> Tensor:
        return _view(self, _apply(ops.Permute, (self,), _shape(axes, "permute")))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """PyTorch's transpose: swap axes `dim0` and `dim1` (on a matrix, `transpose(0, 1)` is `.T`).

        NumPy's `transpose(axes)` reorders every axis at once; that is `permute` here, as in PyTorch.
        """
        n = self.data.ndim
        for d in (dim0, dim1):
            if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or not -max(n, 1) <= d < max(n, 1):
                raise ShapeError(
                    f"transpose: axis {d!r} is not an axis of a tensor of shape {self.shape} (use an int between "
                    f"{-max(n, 1)} and {max(n, 1) - 1}); for a full reordering of the axes, use permute(...)"
                )
        axes = list(range(n))
        if n:
            axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return _view(self, _apply(ops.Permute, (self,), tuple(axes)))

    @property
    def T(self) -> Tensor:  # noqa: N802 (NumPy's and PyTorch's name)
        """All axes reversed (a matrix's transpose), as in NumPy and PyTorch."""
        return _view(self, _apply(ops.Permute, (self,), None))

    def __getitem__(self, index: Any) -> Tensor:
        try:
            return _view(self, _apply(ops.Index, (self,), _index(index)))
        except IndexError as error:
            raise IndexOutOfRangeError(
                f"index: {index!r} does not fit a tensor of shape {self.shape}: each index must lie in "
                f"[-n, n) for an axis of size n, with at most {self.ndim} of them (NumPy: {error})"
            ) from None

    # ------------------------------------------------------------------ comparisons (no gradient)

    def __lt__(self, other: Any) -> Tensor:
        return _compare(self, other, np.less, "<")

    def __le__(self, other: Any) -> Tensor:
        return _compare(self, other, np.less_equal, "<=")

    def __gt__(self, other: Any) -> Tensor:
        return _compare(self, other, np.greater, ">")

    def __ge__(self, other: Any) -> Tensor:
        return _compare(self, other, np.greater_equal, ">=")

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(self, other, np.equal, "==")

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(self, other, np.not_equal, "!=")

    # ------------------------------------------------------------------ autodiff

    @np.errstate(all="ignore")  # inf and NaN flow through quietly, as in PyTorch (detect_anomaly stops them)
    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Fill `.grad` of every leaf this tensor depends on, as PyTorch's `backward` does.

        A one-element result needs no `gradient`; any other must be given dL/d(self) of its shape.
        Leaves accumulate across calls (zero them with `optimizer.zero_grad()`). Afterwards the graph
        is released, as in PyTorch: the saved arrays, the links to intermediate results and their
        gradients go (this tensor keeps its value and `.grad`). `retain_graph=True`, or running
        inside `with keep_graph():`, keeps all of it, a gradient on every node, for `draw`.
        With `create_graph=True` each `.grad` is a Tensor with a graph of its own, which can be
        differentiated again (retain_graph then defaults to True).
        """
        if not self.requires_grad:
            raise GraphError("backward: this tensor does not require grad; create its leaves with requires_grad=True")
        seed = _seed("backward", self, gradient)
        keep = (create_graph if retain_graph is None else retain_graph) or is_graph_kept()
        _backprop((self,), (seed,), keep, create_graph)


# ---------------------------------------------------------------------- functions


def matmul(x: Tensor, y: Any) -> Tensor:
    """x @ y with NumPy's rules: 1-D, 2-D and batched N-D operands."""
    y = _operand(y, "@")
    try:
        return _apply(ops.MatMul, (x, y))
    except ShapeError:  # name the cause when it is a number (tested here, off the hot path)
        if np.ndim(_raw(x)) == 0 or np.ndim(_raw(y)) == 0:
            raise ShapeError("matmul: both operands need at least one axis; use * to scale by a number") from None
        raise


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b in one op (PyTorch's `F.linear`): weight is (out, in), x is (..., in)."""
    x_shape, w_shape = x.data.shape, weight.data.shape
    if x_shape[-1:] != w_shape[1:] or len(w_shape) != 2 or (bias is not None and bias.data.shape != w_shape[:1]):
        bias_shape = None if bias is None else bias.shape
        raise ShapeError(
            f"linear: x is {x.shape}, weight is {weight.shape}, bias is {bias_shape}; weight must be "
            "(out_features, in_features) with in_features equal to x's last axis, and bias (out_features,)"
        )
    return _apply(ops.Linear, (x, weight, bias))


def cross_entropy(logits: Tensor, target: Any) -> Tensor:
    """Mean of -log softmax(logits)[target] over the batch; `target` holds class indices."""
    labels = np.asarray(_raw(target))
    shape = logits.data.shape
    if len(shape) != 2 or labels.shape != shape[:1]:
        raise ShapeError(
            f"cross_entropy: logits are {shape} and target is {labels.shape}; expected logits "
            "(batch, classes) and target (batch,) of class indices"
        )
    if labels.dtype.kind not in "iu":
        raise DTypeError(f"cross_entropy: target must hold integer class indices, got dtype {labels.dtype}")
    # Negative indices would silently count from the end, so check them here; an index past the
    # last class fails inside the op (NumPy's IndexError), saving a second pass over the labels.
    if labels.size and labels.min() < 0:
        raise MathDomainError(f"cross_entropy: class indices must lie in [0, {shape[1]}), got {labels.min()}")
    try:
        return _apply(ops.CrossEntropy, (logits,), labels)
    except IndexError:
        raise MathDomainError(
            f"cross_entropy: class indices must lie in [0, {shape[1]}), got up to {labels.max()}"
        ) from None


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (`torch.cat`)."""
    if not tensors:
        raise ArgumentError("concatenate: needs at least one tensor")
    return _apply(ops.Concatenate, tuple(_operand(t, "concatenate") for t in tensors), axis=axis)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along a new axis (`torch.stack`): each gets a size-1 axis, then concatenate."""
    if not tensors:
        raise ArgumentError("stack: needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ShapeError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    expanded = []
    for t in tensors:
        shape = list(t.shape)
        shape.insert(axis if axis >= 0 else len(shape) + 1 + axis, 1)
        expanded.append(t.reshape(shape))
    return concatenate(expanded, axis=axis)


# ---------------------------------------------------------------------- the engine


def _apply(op: type[ops.Op], inputs: tuple[Any, ...], *args: Any, **kwargs: Any) -> Tensor:
    """Run `op` forward and, when some input needs a gradient, record it in the graph.

    This runs once per op, so it is written for speed: one plain loop sorts the inputs into the
    arrays the op reads and `needs`, which inputs want a gradient, fixed now as in PyTorch (backward
    hands it to the op), and notes whether every input is a Tensor (then the inputs tuple itself is
    the parents; otherwise a constant's place holds None).
    """
    arrays, needs = [], []
    all_tensors = True
    for x in inputs:
        if type(x) is Tensor:
            arrays.append(x.data)
            needs.append(x.requires_grad)
        else:
            arrays.append(x)
            needs.append(False)
            all_tensors = False
    try:
        out, saved = op.forward(*arrays, *args, **kwargs)
    except ValueError as error:
        raise _shape_error(op, arrays, error) from None
    except TypeError as error:  # NumPy refuses the dtypes, e.g. `-` on booleans
        dtypes = " and ".join(str(np.result_type(a)) for a in arrays if a is not None)
        raise DTypeError(f"{op.__name__.lower()}: cannot apply to dtypes {dtypes} (NumPy: {error})") from None
    if type(out) is not np.ndarray:
        out = np.asarray(out)  # NumPy reductions return scalars; a Tensor always holds an array
    result = Tensor.__new__(Tensor)
    result.data = out
    result.grad = result.name = None
    result._order = tick()
    # `away.count` is 0 while every thread is in the default modes (grad on, anomaly off): then
    # neither thread-local mode needs reading.
    if away.count and anomaly_mode.enabled:
        check_forward(op.__name__, out, arrays, [np.shape(a) for a in arrays], result._order)
    if True in needs and (not away.count or grad_mode.enabled):
        result.requires_grad = True
        result._op = op
        result._saved = saved
        result._needs = tuple(needs)
        # The parents: the inputs themselves, with None for a constant (a number, an array).
        result._parents = inputs if all_tensors else tuple([x if type(x) is Tensor else None for x in inputs])
    else:
        result.requires_grad = False
        result._op = result._saved = None
        result._needs = result._parents = ()
    return result


def is_released(node: Any) -> bool:
    """True for a tensor node whose graph a backward pass released (its inputs and saved arrays are gone)."""
    return getattr(node, "_saved", None) is _FREED


def _check_versions(node: Tensor) -> None:
    """Raise if an input whose value this node's backward reads was written in place since the forward pass."""
    op = node._op
    parents = node._parents
    written = [
        (i, parents[i])
        for i in _read_inputs(op, node._needs, len(parents))
        if parents[i] is not None and _written_after(parents[i], node._order)
    ]
    if op.reads_out and _written_after(node, node._order):
        written.append((None, node))
    if written:
        i, tensor = written[0]
        which = f"its output ({_describe(tensor)})" if i is None else f"its input {i} ({_describe(tensor)})"
        raise GraphError(
            f"backward: one of the variables needed for gradient computation has been modified by an in-place "
            f"operation: {op.__name__} needs {which}, which is at version {tensor._version} now, changed after "
            f"{op.__name__} used it in the forward pass, so its gradient would come out wrong. Call backward() "
            "before changing it (loss.backward(), then optimizer.step()), or compute the forward pass again; "
            "inside a model, use out-of-place ops (x = x + y) rather than in-place ones (x += y)"
        )


def _read_inputs(op: type[ops.Op], needs: tuple[bool, ...], n: int) -> set[int]:
    """The inputs whose values `op.backward` reads to make the gradients in `needs` (see `Op.reads`)."""
    if op.reads is None:
        return set(range(n))
    return {j for i, deps in enumerate(op.reads) if i < len(needs) and needs[i] for j in deps}


def _written_after(t: Tensor, order: int) -> bool:
    vc = getattr(t, "_vc", None)
    return vc is not None and vc[1] > order


def _view(base: Tensor, result: Tensor) -> Tensor:
    """A result that is a NumPy view of `base` (reshape, permute, basic indexing) shares its version counter.

    They share memory, so an in-place write to either changes both: as in PyTorch, the write must
    be seen by the ops that saved either one.
    """
    if np.may_share_memory(result.data, base.data):
        result._vc = _counter(base)
    return result


def _counter(t: Tensor) -> list[int]:
    """`t`'s version counter, made on first use (most tensors are never written in place)."""
    vc = getattr(t, "_vc", None)
    if vc is None:
        with _write_lock:  # two threads must not each make one (a view would share the wrong one)
            vc = getattr(t, "_vc", None)
            if vc is None:
                vc = t._vc = [0, -1]
    return vc


def bump_version(t: Tensor) -> None:
    """Record an in-place write to `t` (its data changed): optimizers and `load_state_dict` call this."""
    vc = _counter(t)
    with _write_lock:  # one clock for all threads: the newest write is always the largest tick
        now = tick()
        vc[0] += 1
        vc[1] = now
        if now > _last_write[0]:
            _last_write[0] = now


def _inplace(t: Tensor, name: str, ufunc: Any, other: Any, index: Any = None, graph_op: Any = None) -> Tensor:
    """`t = ufunc(t, other)` (or a copy of `other` when `ufunc` is None) in t's own array; bumps its version.

    As in PyTorch, a leaf that requires grad can be changed only under `no_grad()` (optimizers do
    that). PyTorch also records in-place ops inside a graph; here a node is a tensor, and changing
    one in place would rewire the graph under the ops that already read it. So inside a recorded
    graph `x += y` returns a new node (`graph_op`, as `x = x + y`): `loss += term` works, and other
    names for the old tensor keep the old values. The other in-place methods refuse there.
    """
    other_grad = type(other) is Tensor and other.requires_grad
    if grad_mode.enabled and (t.requires_grad or other_grad):
        if t._op is None and t.requires_grad:
            raise GraphError(
                f"{name}: {_describe(t)} is a leaf that requires grad, so changing it in place while gradients "
                "are recorded would lose its history (PyTorch refuses too); do it under `with no_grad():`, as "
                "optimizers do, or use an out-of-place op"
            )
        if graph_op is not None:
            return graph_op(t, other)
        what = _describe(t) + " takes part in a recorded graph" if t.requires_grad else "the value requires grad"
        raise GraphError(
            f"{name}: {what}, and tinygrad_edu does not record in-place {name} (PyTorch does); compute a new "
            "tensor instead (x = x * 0, or build it with stack / concatenate), or do it under `with no_grad():`"
        )
    if isinstance(other, Node) and type(other) is not Tensor:  # a Value
        raise MixedEngineError(f"{name}: a Value cannot be written into a Tensor; use its number, v.data")
    value = _raw(other)
    try:
        if ufunc is not None:
            ufunc(t.data, value, out=t.data, casting="same_kind")
        elif index is not None:
            t.data[index] = value
        else:
            np.copyto(t.data, value, casting="unsafe")
    except IndexError as error:
        raise IndexOutOfRangeError(
            f"{name}: index {index!r} does not fit a tensor of shape {t.shape} ({error})"
        ) from None
    except TypeError as error:  # NumPy's casting errors (float into an integer tensor) are TypeErrors
        raise DTypeError(
            f"{name}: cannot write {np.result_type(value)} values into a {t.dtype} tensor in place ({error}); "
            "make the tensor floating point, or convert the operand"
        ) from None
    except ValueError as error:
        raise ShapeError(
            f"{name}: cannot write an operand of shape {np.shape(value)} into a tensor of shape {t.shape} in place: "
            f"it must broadcast to that shape without growing it (NumPy: {error})"
        ) from None
    bump_version(t)
    return t


def _describe(t: Tensor) -> str:
    """How an error names a tensor: its name if it has one, its shape and dtype."""
    name = f"tensor {t.name!r}" if t.name else "a tensor"
    return f"{name} of shape {t.shape}, dtype {t.dtype}"


def grad_tensors(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Any, ...]:
    """d(outputs)/d(inputs), one entry per input, like `torch.autograd.grad`; no `.grad` is touched.

    `grad_outputs` weights each output (needed for outputs with more than one element). With
    `create_graph=True` the results are Tensors with a graph, so they can be differentiated again;
    otherwise NumPy arrays. An input the outputs do not depend on raises `GraphError`, unless
    `allow_unused=True`, when its entry is None.
    """
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not outputs or not inputs:
        raise GraphError("grad: give at least one output and one input")
    for t in (*outputs, *inputs):
        if not isinstance(t, Tensor):
            raise ArgumentTypeError(f"grad: outputs and inputs must be Tensors, got {type(t).__name__}")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise GraphError(f"grad: input {i} (shape {x.shape}) does not require grad, so it has no gradient")
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = (grad_outputs,)
    if len(grad_outputs) != len(outputs):
        raise ShapeError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs; give one per output")
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise GraphError(f"grad: output {i} does not require grad (no input it depends on requires grad)")
    seeds = tuple(_seed("grad", out, g) for out, g in zip(outputs, grad_outputs))
    keep = (create_graph if retain_graph is None else retain_graph) or is_graph_kept()
    found = _backprop(outputs, seeds, keep, create_graph, inputs)
    for i, (x, g) in enumerate(zip(inputs, found)):
        if g is None and not allow_unused:
            raise GraphError(
                f"grad: input {i} (shape {x.shape}) is not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
    return found


def _seed(caller: str, out: Tensor, gradient: Any) -> Any:
    """dL/d(out) to start from: ones for a one-element output, else the caller's, checked."""
    if gradient is None:
        if out.data.size != 1:
            raise GraphError(
                f"{caller}: the output has shape {out.shape}, so its gradient is not implied; "
                "reduce it to a scalar first (e.g. .sum()) or pass gradient= an array of that shape"
            )
        return np.ones(out.data.shape, dtype=out.data.dtype)
    if type(gradient) is not Tensor:
        gradient = np.array(gradient, dtype=out.data.dtype)  # a copy: the engine may add into it
    if gradient.shape != out.shape:
        raise ShapeError(f"{caller}: gradient has shape {gradient.shape} but the output is {out.shape}")
    return gradient


def _backprop(
    roots: tuple[Tensor, ...],
    seeds: tuple[Any, ...],
    retain_graph: bool,
    create_graph: bool,
    inputs: tuple[Tensor, ...] | None = None,
) -> tuple[Any, ...]:
    """The chain rule over the graph behind `roots`, newest node first.

    `pending` holds dL/d(node) for the nodes reached so far, and `frontier` is a heap of the ops
    among them by creation tick. Every user of a node is newer than it, so when the newest pending
    op comes off the heap its gradient is complete (PyTorch's engine also runs the newest ready node
    first). No walk or sort beforehand: a node is found when a gradient reaches it, and (unless
    `retain_graph`) an op passed is let go at once, so the arrays of the graph behind it are freed
    as the pass goes. A node no gradient reaches is not visited. Leaves have nothing to pass on:
    they wait in `pending` and get their sums when the heap is empty. Without
    `inputs` (that is `backward()`), leaves accumulate into `.grad` and, with `retain_graph`,
    intermediate results keep this pass's gradient; with `inputs` (`grad()`), nothing is written
    and the inputs' gradients are returned. With `create_graph`, gradients are Tensors and each
    op's backward records a graph.
    """
    wanted = None if inputs is None else dict.fromkeys(inputs)
    pending: dict[Tensor, Any] = {}
    owned: set[Tensor] = set()  # nodes whose pending gradient is an array only the engine holds
    # (-tick, id, node): heapq pops the newest first; the id breaks a tie (a copied node keeps its tick)
    # so that two Tensors are never compared (their < is elementwise).
    frontier: list[tuple[int, int, Tensor]] = []
    for root, seed in zip(roots, seeds):
        if create_graph and type(seed) is not Tensor:
            seed = _leaf(seed)
        elif not create_graph and type(seed) is Tensor:
            seed = np.array(seed.data)
        if root not in pending and root._op is not None:
            heappush(frontier, (-root._order, id(root), root))
        _hand_over(pending, owned, root, seed, not create_graph, create_graph)
    was_enabled = grad_mode.enabled
    if create_graph and not was_enabled:  # asked for a graph: record it even inside no_grad, as PyTorch does
        set_mode(grad_mode, True, True)
    try:
        while frontier:
            node = heappop(frontier)[2]
            g = pending.pop(node)
            if wanted is not None and node in wanted:
                wanted[node] = _returned(g, node in owned)
            op = node._op
            if wanted is None:
                # An intermediate result shows this pass's gradient when the graph is kept (to draw
                # it); otherwise the gradient is let go once passed on, as in PyTorch. The root keeps its own.
                node.grad = g if retain_graph or node is roots[0] else None
            saved = node._saved
            if saved is _FREED:
                raise GraphError(
                    f"backward: the graph through {op.__name__} was already used by a backward pass and "
                    "its saved arrays were freed; pass retain_graph=True to the first backward() to "
                    "go through it twice, or recompute the forward pass"
                )
            parents = node._parents
            if create_graph:
                saved = op.saved_tensors(parents, node, saved)
            needs = node._needs  # which inputs wanted a gradient, fixed when the op ran (as in PyTorch)
            if _last_write[0] > node._order:  # something was written in place since this node was made
                _check_versions(node)
            grads = op.backward(saved, g, needs)
            if away.count and anomaly_mode.enabled:
                shapes = [None if p is None else p.shape for p in parents]
                check_backward(op.__name__, [_raw(d) for d in grads], shapes, node._order)
            if not retain_graph:  # release: what it saved and its links to its inputs (and so the graph behind)
                node._saved, node._parents = _FREED, ()
            for parent, grad, need in zip(parents, grads, needs):
                if not need or grad is None:
                    continue
                if parent not in pending:
                    if parent._op is not None:
                        heappush(frontier, (-parent._order, id(parent), parent))
                    data = parent.data
                    # The usual edge: the first gradient to reach this input, an array of its dtype.
                    if not create_graph and type(grad) is np.ndarray and grad.dtype == data.dtype:
                        if grad.shape != data.shape:  # a broadcast input (a bias): summed back, a new array
                            grad = np.asarray(unbroadcast(grad, data.shape))  # (a 0-d sum is a NumPy scalar)
                            owned.add(parent)
                        elif grad is not g and grad.base is None:  # a new array (not g, not a view of it): ours
                            owned.add(parent)
                        pending[parent] = grad
                        continue
                # Any other edge: a second gradient to add, a NumPy scalar, a cast, a graph.
                fresh = grad is not g and type(grad) is np.ndarray and grad.base is None
                _hand_over(pending, owned, parent, grad, fresh, create_graph)
        for leaf, g in pending.items():  # only leaves are left, each with its whole gradient
            if wanted is None:
                if leaf.requires_grad:  # (a leaf switched off since the forward pass gets none, as in PyTorch)
                    _to_leaf(leaf, g, leaf in owned)
            elif leaf in wanted:
                wanted[leaf] = _returned(g, leaf in owned)
    finally:
        if create_graph and not was_enabled:
            set_mode(grad_mode, False, True)
    if wanted is None:
        return ()
    # One entry per input, in order; an input given twice gets its gradient twice, as two arrays.
    found, given = [], set()
    for x in inputs:
        g = wanted[x]
        found.append(g.copy() if x in given and type(g) is np.ndarray else g)
        given.add(x)
    return tuple(found)


def _returned(g: Any, ours: bool) -> Any:
    """A gradient `grad()` returns: the caller gets an array of its own."""
    return g.copy() if type(g) is np.ndarray and not ours else g


def _hand_over(
    pending: dict[Tensor, Any], owned: set[Tensor], node: Tensor, grad: Any, fresh: bool, create_graph: bool
) -> None:
    """Add `grad` into dL/d(node), summed back to the node's shape and cast to its dtype; in place
    when the engine owns the buffer, which saves an allocation per edge."""
    if grad.shape != node.data.shape:
        grad = unbroadcast(grad, node.data.shape)
        fresh = type(grad) is np.ndarray  # a sum is a new array; a Tensor is never added into
    if type(grad) is not Tensor:
        if type(grad) is not np.ndarray:
            grad = np.asarray(grad)  # NumPy gives scalars for 0-d results
        if grad.dtype != node.data.dtype:
            grad = grad.astype(node.data.dtype)
            fresh = True
        if create_graph:  # a constant gradient (no path to an input) joins as a leaf
            grad = _leaf(grad)
            fresh = False
    total = pending.get(node)
    if total is None:
        pending[node] = grad
        if fresh:
            owned.add(node)
    elif node in owned:
        total += grad  # ours alone: add in place
    else:
        total = total + grad
        if type(total) is not Tensor:
            total = np.asarray(total)  # (0-d arrays add up to a NumPy scalar; a gradient is an array)
            owned.add(node)  # a new array: ours to add into
        pending[node] = total


def _to_leaf(node: Tensor, grad: Any, fresh: bool) -> None:
    """Accumulate into a leaf's `.grad`, which the leaf owns (optimizers update it in place)."""
    if node.grad is None:
        # A borrowed gradient is copied: the same array may have been handed to another input (x + x),
        # and in-place updates of one leaf's grad must never change another's.
        node.grad = grad if fresh or type(grad) is Tensor else grad.copy()
    elif type(node.grad) is Tensor and type(grad) is not Tensor:
        node.grad = _leaf(node.grad.data + grad)  # a first-order pass adds numbers, records nothing
    else:
        node.grad += grad


def _leaf(array: np.ndarray) -> Tensor:
    """A Tensor around `array` with no graph and no copy."""
    t = Tensor.__new__(Tensor)
    t.data = array
    t.grad = None
    t.requires_grad = False
    t.name = None
    t._op = None
    t._parents = ()
    t._saved = None
    t._needs = ()
    t._order = tick()
    return t


def _operand(other: Any, op: str) -> Any:
    """A Tensor, or a constant NumPy can combine with one; a Value is refused."""
    if type(other) is Tensor or isinstance(other, (int, float, np.ndarray, np.generic)):
        return other
    if isinstance(other, Node):  # not a Tensor (tested first): a Value
        raise MixedEngineError(
            f"Tensor {op} Value: the tensor and scalar engines do not mix; use Tensor(v.data) or t.item()"
        )
    if isinstance(other, (list, tuple)):
        return np.asarray(other, dtype=np.float32)
    raise ArgumentTypeError(f"Tensor {op} {type(other).__name__}: expected a Tensor, a number or a numpy array")


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


Axes = int | tuple[int, ...] | list[int] | None


def _reduce_args(op: str, axis: Axes, keepdims: bool, dim: Axes, keepdim: bool | None) -> tuple[Any, bool]:
    """(axis, keepdims) from NumPy's names or PyTorch's `dim`/`keepdim`; a list of axes acts as a tuple."""
    if dim is not None:
        if axis is not None:
            raise ArgumentError(f"{op}: give axis= (NumPy's name) or dim= (PyTorch's), not both")
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    if type(axis) is list:
        axis = tuple(axis)
    if not (axis is None or type(axis) is int or isinstance(axis, (np.integer, tuple))):
        raise ArgumentTypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
    return axis, keepdims


def _one_axis(op: str, axis: int, dim: int | None) -> int:
    if dim is None:
        return axis
    if axis != -1:
        raise ArgumentError(f"{op}: give axis= (NumPy's name) or dim= (PyTorch's), not both")
    return dim


def _index(index: Any) -> Any:
    """Indices may contain Tensors (integer or boolean); NumPy wants their arrays."""
    if isinstance(index, tuple):
        return tuple(_raw(i) for i in index)
    return _raw(index)


def _shape(dims: tuple[Any, ...], op: str = "shape", new: bool = False) -> tuple[int, ...]:
    """Accept f(2, 3) and f((2, 3)) alike; each entry must be an int (and >= 0 for a `new` array's shape)."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    for d in dims:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise ArgumentTypeError(f"{op}: {dims} is not a shape; give whole numbers, as f(2, 3) or f((2, 3))")
        if new and d < 0:
            raise ShapeError(f"{op}: shape {dims} has a negative size; every size must be >= 0")
    return tuple(dims)


def _compare(t: Tensor, other: Any, ufunc: Any, symbol: str) -> Tensor:
    """t < other and friends: a boolean leaf (comparisons have no gradient)."""
    if symbol in ("==", "!=") and not isinstance(other, (Tensor, int, float, np.ndarray, np.generic, list, tuple)):
        return _leaf(np.full(t.shape, symbol == "!="))  # `t == None` is False everywhere, as in NumPy
    value = _raw(_operand(other, symbol))
    try:
        return _leaf(ufunc(t.data, value))
    except ValueError as error:
        raise ShapeError(f"Tensor {symbol}: cannot compare shapes {t.shape} and {np.shape(value)} ({error})") from None
    except TypeError as error:
        raise DTypeError(f"Tensor {symbol}: cannot compare {t.dtype} with {np.result_type(value)} ({error})") from None


_HINTS = {
    "MatMul": "the last axis of the first operand must equal the second-to-last axis of the second "
    "(did you mean to transpose one with .T?)",
    "Linear": "weight must be (out_features, in_features) with in_features equal to x's last axis",
    "Reshape": "the new shape must hold exactly as many elements as the old one (use -1 for one axis to infer it)",
    "Permute": "give each axis exactly once, each between -ndim and ndim - 1",
    "Concatenate": "all tensors need the same number of axes and equal sizes on every axis but the joined one",
}
for _name in ("Sum", "Mean", "Max", "Softmax", "LogSoftmax"):
    _HINTS[_name] = "each axis must lie between -ndim and ndim - 1 (and appear once)"


def _shape_error(op: type[ops.Op], arrays: list[Any], error: ValueError) -> TinygradEduError:
    shapes = " and ".join(str(np.shape(a)) for a in arrays)
    if "negative integer powers" in str(error):  # NumPy's refusal, not a shape problem
        return MathDomainError(
            f"pow: an integer tensor cannot be raised to a negative integer power (shapes {shapes}), as in NumPy "
            "and PyTorch: the result would not be an integer; make the base floating point, e.g. "
            "Tensor(x, dtype=np.float32) or x ** -1.0"
        )
    hint = _HINTS.get(
        op.__name__,
        "broadcasting compares shapes from the right and each pair of sizes must be equal or 1; "
        "reshape one operand so the axes line up",
    )
    return ShapeError(f"{op.__name__.lower()}: cannot apply to shapes {shapes}: {hint} (NumPy: {error})")
