"""`Tensor`: the `Value` idea over NumPy arrays, with broadcasting (the article's Level 2).

A Tensor produced by an op remembers the op (a class from `ops.TABLE`), its parents and what the
op saved for backward; `_apply` below records it. `backward()` hands the graph to the backward
pass (`tensor_backward.py`), which visits it newest node first and asks each op for the gradients
of its inputs. What the ops refuse, and why, is in `tensor_checks.py`; the version counters that
catch an input written in place since the forward pass are in `versions.py`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, SupportsIndex

import numpy as np

from . import ops
from . import tensor_checks as checks
from .anomaly import anomaly_mode, check_forward
from .copying import refuse_non_leaf, shallow_copy
from .errors import ShapeError
from .graph import Node, away, grad_mode, tick
from .promotion import cast_for, check_matmul, float_cast, result_dtype
from .quiet import quietly
from .rng import Seed, as_generator
from .tensor_backward import backprop, keeps_graph, seed
from .tensor_checks import Axes, one_axis, reduce_args, shape_of
from .versions import bump_version, counter, share_if_view, version


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
            raise checks.from_value()
        elif type(data) is not np.ndarray or data.dtype == object:
            checks.check_no_value_inside(data, "Tensor(...)", Tensor)
        try:
            if isinstance(data, np.ndarray):
                array = np.array(data, dtype=dtype)
            else:
                array = np.array(data, dtype=dtype if dtype is not None else np.float32)
        except (ValueError, TypeError) as error:
            raise checks.not_numeric(data, error) from None
        if array.dtype.kind not in "biufc":  # strings, objects, dates: not numbers
            raise checks.not_numeric(data, dtype=array.dtype)
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
            raise checks.not_an_array(array)
        t = _leaf(array)
        if requires_grad:
            t.requires_grad_(True)
        return t

    @staticmethod
    def zeros(*shape: int | Sequence[int], dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
        return Tensor(np.zeros(shape_of(shape, "zeros", new=True), dtype=dtype), requires_grad=requires_grad)

    @staticmethod
    def ones(*shape: int | Sequence[int], dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
        return Tensor(np.ones(shape_of(shape, "ones", new=True), dtype=dtype), requires_grad=requires_grad)

    @staticmethod
    def randn(
        *shape: int | Sequence[int], generator: Seed = None, dtype: Any = np.float32, requires_grad: bool = False
    ) -> Tensor:
        """Standard normal samples; `generator` is a seed or a `numpy.random.Generator`."""
        data = as_generator(generator).standard_normal(shape_of(shape, "randn", new=True)).astype(dtype)
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
        data = as_generator(generator).uniform(low, high, shape_of((shape,), "uniform", new=True)).astype(dtype)
        return Tensor.from_numpy(data, requires_grad=requires_grad)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Turn gradient tracking on or off for this leaf (in place, returns self)."""
        checks.check_requires_grad(self, requires_grad)
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

    @property
    def op(self) -> str | None:
        """The name of the op that made this tensor (`"MatMul"`), None for a leaf (`graph.Node`)."""
        return None if self._op is None else self._op.__name__

    @property
    def local_derivatives(self) -> None:
        """None: a tensor op computes its local derivatives in backward, from what it saved (`graph.Node`)."""
        return None

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise checks.not_one_item(self.shape)
        return self.data.item()

    def detach(self) -> Tensor:
        """The same data, cut off from the graph (shares memory and the version counter, requires no grad)."""
        out = _leaf(self.data)
        out._vc = counter(self)  # an in-place write through either is a write to both, as in PyTorch
        return out

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """`np.array(t)`, `np.asarray(t)`: the values, for a tensor that does not require grad (as PyTorch)."""
        if self.requires_grad:
            raise checks.array_of_grad_tensor(self.shape)
        array = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return array.copy() if copy else array

    # ------------------------------------------------------------------ copies (see copying.py)

    def __copy__(self) -> Tensor:
        """A second node over the same array and version counter (a result keeps its place in the graph)."""
        out = shallow_copy(self)
        out._vc = counter(self)  # a write through either is a write to both
        return out

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        """A leaf with its own copy of the data and the gradient; a result inside a graph raises."""
        refuse_non_leaf(self, "copy.deepcopy")
        data, grad = copy.deepcopy(self.data, memo), copy.deepcopy(self.grad, memo)
        return _rebuilt(data, grad, self.requires_grad, self.name)

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        """Pickle a leaf as its data, gradient, requires_grad and name; a result inside a graph raises."""
        refuse_non_leaf(self, "pickle")
        return _rebuilt, (self.data, self.grad, self.requires_grad, self.name)

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's data has had (PyTorch's `t._version`)."""
        return version(self)

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
            raise checks.no_length()
        return len(self.data)

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise checks.no_truth_value(self.shape)
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
        return _binary(ops.Add, self, _operand(other, "+"))

    def __radd__(self, other: Any) -> Tensor:
        return _binary(ops.Add, _operand(other, "+"), self)

    def __sub__(self, other: Any) -> Tensor:
        return _binary(ops.Sub, self, _operand(other, "-"))

    def __rsub__(self, other: Any) -> Tensor:
        return _binary(ops.Sub, _operand(other, "-"), self)

    def __mul__(self, other: Any) -> Tensor:
        return _binary(ops.Mul, self, _operand(other, "*"))

    def __rmul__(self, other: Any) -> Tensor:
        return _binary(ops.Mul, _operand(other, "*"), self)

    def __truediv__(self, other: Any) -> Tensor:
        return _binary(ops.Div, self, _operand(other, "/"))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _binary(ops.Div, _operand(other, "/"), self)

    def __pow__(self, other: Any) -> Tensor:
        return _binary(ops.Pow, self, _operand(other, "**"))

    def __rpow__(self, other: Any) -> Tensor:
        return _binary(ops.Pow, _operand(other, "**"), self)

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(_operand(other, "@"), self)

    def __neg__(self) -> Tensor:
        return _apply(ops.Neg, (self,))

    def maximum(self, other: Any) -> Tensor:
        return _binary(ops.Maximum, self, _operand(other, "maximum"))

    # ------------------------------------------------------------------ elementwise functions

    def exp(self) -> Tensor:
        return _apply(ops.Exp, (self,), cast=float_cast(self))

    def log(self) -> Tensor:
        return _apply(ops.Log, (self,), cast=float_cast(self))

    def tanh(self) -> Tensor:
        return _apply(ops.Tanh, (self,), cast=float_cast(self))

    def sigmoid(self) -> Tensor:
        return _apply(ops.Sigmoid, (self,), cast=float_cast(self))

    def relu(self) -> Tensor:
        return _apply(ops.Relu, (self,))

    def abs(self) -> Tensor:
        return _apply(ops.Abs, (self,))

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002 (NumPy's names)
        if min is None and max is None:
            raise checks.no_clip_bounds()
        return _apply(ops.Clip, (self,), min, max, cast=float_cast(self, min, max))

    # ------------------------------------------------------------------ reductions

    # NumPy's `axis`/`keepdims` and PyTorch's `dim`/`keepdim` both work: x.sum(dim=0, keepdim=True).

    def sum(
        self, axis: Axes = None, keepdims: bool = False, *, dim: Axes = None, keepdim: bool | None = None
    ) -> Tensor:
        return _apply(ops.Sum, (self,), *reduce_args("sum", axis, keepdims, dim, keepdim))

    def mean(
        self, axis: Axes = None, keepdims: bool = False, *, dim: Axes = None, keepdim: bool | None = None
    ) -> Tensor:
        return _apply(ops.Mean, (self,), *reduce_args("mean", axis, keepdims, dim, keepdim))

    def max(
        self, axis: Axes = None, keepdims: bool = False, *, dim: Axes = None, keepdim: bool | None = None
    ) -> Tensor:
        """The largest values along `axis` (PyTorch's `amax`: values only, no indices)."""
        if self.data.size == 0:
            raise checks.empty_max(self.shape)
        return _apply(ops.Max, (self,), *reduce_args("max", axis, keepdims, dim, keepdim))

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        return _apply(ops.Softmax, (self,), one_axis("softmax", axis, dim), cast=float_cast(self))

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        return _apply(ops.LogSoftmax, (self,), one_axis("log_softmax", axis, dim), cast=float_cast(self))

    # ------------------------------------------------------------------ shape

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        return share_if_view(self, _apply(ops.Reshape, (self,), shape_of(shape, "reshape")))

    def expand(self, *shape: int | Sequence[int]) -> Tensor:
        """This tensor broadcast to `shape`, as a new array (PyTorch's `expand`, without the sharing)."""
        return _apply(ops.Expand, (self,), shape_of(shape))

    def _scatter(self, shape: tuple[int, ...], index: Any) -> Tensor:
        """zeros(shape) with this tensor added at `index`: x[index]'s gradient, recorded (create_graph)."""
        return _apply(ops.Scatter, (self,), shape, index)

    def permute(self, *axes: int | Sequence[int]) -> Tensor:
        return share_if_view(self, _apply(ops.Permute, (self,), shape_of(axes, "permute")))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """PyTorch's transpose: swap axes `dim0` and `dim1` (on a matrix, `transpose(0, 1)` is `.T`).

        NumPy's `transpose(axes)` reorders every axis at once; that is `permute` here, as in PyTorch.
        """
        checks.check_transpose_axes(self.shape, (dim0, dim1))
        n = self.data.ndim
        axes = list(range(n))
        if n:
            axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return share_if_view(self, _apply(ops.Permute, (self,), tuple(axes)))

    @property
    def T(self) -> Tensor:  # noqa: N802 (NumPy's and PyTorch's name)
        """All axes reversed (a matrix's transpose), as in NumPy and PyTorch."""
        return share_if_view(self, _apply(ops.Permute, (self,), None))

    def __getitem__(self, index: Any) -> Tensor:
        try:
            return share_if_view(self, _apply(ops.Index, (self,), _index(index)))
        except IndexError as error:
            raise checks.index_out_of_range(index, self.shape, error) from None

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

    @quietly  # inf and NaN flow through quietly, as in PyTorch (detect_anomaly stops them)
    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Fill `.grad` of every leaf this tensor depends on, as PyTorch's `backward` does.

        A one-element result needs no `gradient`; any other must be given dL/d(self) of its shape.
        Leaves accumulate across calls (zero them with `optimizer.zero_grad()`). The graph is then
        released, as in PyTorch (this tensor keeps its value and `.grad`); `retain_graph=True`, or
        `with keep_graph():`, keeps it, a gradient on every node, for `draw`. With `create_graph=True`
        each `.grad` is a Tensor with a graph of its own, to differentiate again (retain_graph defaults to True).
        """
        if not self.requires_grad:
            raise checks.no_grad_to_compute()
        start = seed("backward", self, gradient)
        backprop((self,), (start,), keeps_graph(retain_graph, create_graph), create_graph)


# ---------------------------------------------------------------------- functions


def matmul(x: Tensor, y: Any) -> Tensor:
    """x @ y with NumPy's rules: 1-D, 2-D and batched N-D operands of one dtype (matmul does not promote)."""
    y = _operand(y, "@")
    check_matmul(_raw(x), _raw(y))
    try:
        return _apply(ops.MatMul, (x, y))
    except ShapeError:  # name the cause when it is a number (tested here, off the hot path)
        if np.ndim(_raw(x)) == 0 or np.ndim(_raw(y)) == 0:
            raise checks.matmul_of_a_number() from None
        raise


# ---------------------------------------------------------------------- the engine


def _binary(op: type[ops.Op], x: Any, y: Any) -> Tensor:
    """x op y in the dtype PyTorch gives it: an operand of another dtype is cast first (`promotion.py`)."""
    dtype = cast_for(x, y, true_division=op is ops.Div)
    return _apply(op, (x, y)) if dtype is None else _apply(op, (x, y), cast=dtype)


def _apply(op: type[ops.Op], inputs: tuple[Any, ...], *args: Any, cast: Any = None, **kwargs: Any) -> Tensor:
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
    if cast is not None:  # (the gradients are cast back to each input's dtype as backward adds them up)
        arrays = [np.asarray(a).astype(cast, copy=False) for a in arrays]
    try:
        out, saved = op.forward(*arrays, *args, **kwargs)
    except ValueError as error:
        raise checks.shape_error(op.__name__, arrays, error) from None
    except TypeError as error:  # NumPy refuses the dtypes, e.g. `-` on booleans
        raise checks.dtype_error(op.__name__, arrays, error) from None
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
        leaf = t._op is None and t.requires_grad
        if graph_op is not None and not leaf:
            return graph_op(t, other)
        raise checks.inplace_refused(name, t, leaf)
    if isinstance(other, Node) and type(other) is not Tensor:  # a Value
        raise checks.value_written(name)
    checks.check_no_value_inside(other, name, Tensor)
    value = _raw(other)
    try:
        if ufunc is not None:
            ufunc(t.data, value, out=t.data, casting="same_kind")
        elif index is not None:
            t.data[index] = value
        else:
            np.copyto(t.data, value, casting="unsafe")
    except (IndexError, TypeError, ValueError) as error:  # (NumPy's casting errors are TypeErrors)
        raise checks.inplace_error(name, t, value, index, error) from None
    bump_version(t)
    return t


def _rebuilt(data: np.ndarray, grad: Any, requires_grad: bool, name: str | None) -> Tensor:
    """A leaf from what `__reduce_ex__` / `__deepcopy__` kept (also what unpickling calls)."""
    t = _leaf(data)
    t.grad, t.requires_grad, t.name = grad, requires_grad, name
    return t


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
    """A Tensor, or a constant NumPy can combine with one; a Value (also inside a list) is refused."""
    if type(other) is Tensor or isinstance(other, (int, float, np.generic)):
        return other
    if isinstance(other, (list, tuple, np.ndarray)):
        checks.check_no_value_inside(other, f"Tensor {op} {type(other).__name__}", Tensor)
        if type(other) is np.ndarray:
            return other
    return checks.constant(other, op)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _index(index: Any) -> Any:
    """Indices may contain Tensors (integer or boolean); NumPy wants their arrays."""
    if isinstance(index, tuple):
        return tuple(_raw(i) for i in index)
    return _raw(index)


def _compare(t: Tensor, other: Any, ufunc: Any, symbol: str) -> Tensor:
    """t < other and friends: a boolean leaf (comparisons have no gradient)."""
    if symbol in ("==", "!=") and not isinstance(other, (Tensor, int, float, np.ndarray, np.generic, list, tuple)):
        return _leaf(np.full(t.shape, symbol == "!="))  # `t == None` is False everywhere, as in NumPy
    value = _raw(_operand(other, symbol))
    mine, dtype = t.data, result_dtype(t, value)  # compared in the promoted dtype, as in PyTorch
    if dtype is not None:
        mine, value = mine.astype(dtype, copy=False), np.asarray(value).astype(dtype, copy=False)
    try:
        return _leaf(ufunc(mine, value))
    except (ValueError, TypeError) as error:
        raise checks.comparison_error(symbol, t.shape, t.dtype, value, error) from None
