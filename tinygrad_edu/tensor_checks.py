"""What the tensor engine's ops refuse, and the messages that say why.

Kept out of tensor.py so that it reads as the engine: an op calls one of these where its input can
be wrong, and the error names the op, the shapes and the fix. As in `value_checks.py`, nothing here
imports `Tensor`; the caller tests `type(x) is Tensor` first and hands over only what is not one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
from .graph import Node

RELEASED_HINT = (
    "the graph behind this tensor was released by backward(), as PyTorch does; to draw or step through it "
    "afterwards, call backward(retain_graph=True), or run forward and backward inside "
    "`with tinygrad_edu.keep_graph():`"
)
FREED = object()  # marks a node whose saved arrays backward released (`tensor_backward.release`)


def is_released(node: Any) -> bool:
    """True for a tensor node whose graph a backward pass released (its inputs and saved arrays are gone)."""
    return getattr(node, "_saved", None) is FREED


Axes = int | tuple[int, ...] | list[int] | None


def describe(t: Any) -> str:
    """How an error names a tensor: its name if it has one, its shape and dtype."""
    name = f"tensor {t.name!r}" if t.name else "a tensor"
    return f"{name} of shape {t.shape}, dtype {t.dtype}"


# ---------------------------------------------------------------------- making tensors


def not_numeric(data: Any, error: Exception | None = None, dtype: Any = None) -> DTypeError:
    if error is not None:
        return DTypeError(
            f"Tensor: cannot make a numeric array from {type(data).__name__} ({error}); pass numbers, "
            "a rectangular nested list of numbers, or a numpy array"
        )
    return DTypeError(
        f"Tensor: cannot make a numeric array from {type(data).__name__} of dtype {dtype}; pass numbers (or booleans)"
    )


def from_value() -> MixedEngineError:
    return MixedEngineError("Tensor(Value): use Tensor(v.data) to copy a scalar Value's number into a Tensor")


def check_no_value_inside(data: Any, where: str, tensor_type: type) -> None:
    """Refuse a scalar-engine Value anywhere inside nested lists (or an object array).

    NumPy would read it through `float(v)` as a plain number and its gradient would be lost without
    a word; `t + v` raises `MixedEngineError`, and so does `t * [v, v]` or `Tensor([v])`. Only an
    object array can hold one, so numeric data costs one conversion and no scan.
    """
    if isinstance(data, np.ndarray):
        if data.dtype != object:
            return
    elif not isinstance(data, (list, tuple)):
        return
    else:
        try:
            if np.asarray(data).dtype != object:
                return
        except (ValueError, TypeError):
            pass  # ragged or odd: scan it, and let the conversion itself say what else is wrong
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, np.ndarray) and item.dtype == object:
            stack.extend(item.ravel().tolist())
        elif isinstance(item, Node) and type(item) is not tensor_type:
            raise MixedEngineError(
                f"{where}: a scalar-engine Value sits inside the list, and its gradient would be lost (NumPy "
                "would read it as a plain number); the tensor and scalar engines do not mix. Use its number, "
                "v.data, or build the whole model on one engine"
            )


def array_of_grad_tensor(shape: tuple[int, ...]) -> GraphError:
    return GraphError(
        f"np.array(t): this tensor of shape {shape} requires grad, and a NumPy array cannot carry its gradient "
        "(PyTorch refuses too). Use t.detach() first (np.array(t.detach())), or t.data for the array itself"
    )


def not_an_array(array: Any) -> ArgumentTypeError:
    return ArgumentTypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")


def shape_of(dims: tuple[Any, ...], op: str = "shape", new: bool = False) -> tuple[int, ...]:
    """Accept f(2, 3) and f((2, 3)) alike; each entry must be an int (and >= 0 for a `new` array's shape)."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    for d in dims:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise ArgumentTypeError(f"{op}: {dims} is not a shape; give whole numbers, as f(2, 3) or f((2, 3))")
        if new and d < 0:
            raise ShapeError(f"{op}: shape {dims} has a negative size; every size must be >= 0")
    return tuple(dims)


def check_requires_grad(t: Any, requires_grad: bool) -> None:
    """Only a floating-point leaf may change whether it requires grad (as in PyTorch)."""
    if not requires_grad and t._op is not None:
        # Switching it off here would silently cut every gradient above this node.
        raise GraphError(
            f"requires_grad_(False): {describe(t)} is the result of {t._op.__name__}, not a leaf; "
            "only leaves can stop requiring grad (as in PyTorch). To cut the graph here, use "
            "t = t.detach(), a new leaf that shares the data"
        )
    if requires_grad and not np.issubdtype(t.data.dtype, np.floating):
        raise DTypeError(
            f"requires_grad: a {t.data.dtype} tensor cannot require grad (only floating point "
            "tensors have gradients); make it with dtype=np.float32 or np.float64"
        )


# ---------------------------------------------------------------------- reading a tensor


def not_one_item(shape: tuple[int, ...]) -> ShapeError:
    return ShapeError(f"item: only a tensor with one element has an item; this one has shape {shape}")


def no_length() -> ArgumentTypeError:
    return ArgumentTypeError("len: a 0-d tensor has no length (as in PyTorch); use t.item() for its number")


def no_truth_value(shape: tuple[int, ...]) -> ShapeError:
    return ShapeError(
        f"bool: a tensor of shape {shape} has no single truth value (as in PyTorch); "
        "reduce it first: (t > 0).data.all() or .any()"
    )


def index_out_of_range(index: Any, shape: tuple[int, ...], error: IndexError) -> IndexOutOfRangeError:
    return IndexOutOfRangeError(
        f"index: {index!r} does not fit a tensor of shape {shape}: each index must lie in "
        f"[-n, n) for an axis of size n, with at most {len(shape)} of them (NumPy: {error})"
    )


# ---------------------------------------------------------------------- operands and arguments


def constant(other: Any, op: str) -> Any:
    """What is not a Tensor and not a NumPy constant: a list becomes an array; a Value is refused."""
    if isinstance(other, Node):  # not a Tensor (the caller tested that first): a Value
        raise MixedEngineError(
            f"Tensor {op} Value: the tensor and scalar engines do not mix; use Tensor(v.data) or t.item()"
        )
    if isinstance(other, (list, tuple)):
        return np.asarray(other, dtype=np.float32)  # (the caller checked it holds no Value)
    raise ArgumentTypeError(f"Tensor {op} {type(other).__name__}: expected a Tensor, a number or a numpy array")


def no_clip_bounds() -> ArgumentError:
    return ArgumentError("clip: give min, max or both")


def empty_max(shape: tuple[int, ...]) -> ShapeError:
    return ShapeError(f"max: the tensor is empty (shape {shape}); a maximum needs at least one element")


def reduce_args(op: str, axis: Axes, keepdims: bool, dim: Axes, keepdim: bool | None) -> tuple[Any, bool]:
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


def one_axis(op: str, axis: int, dim: int | None) -> int:
    if dim is None:
        return axis
    if axis != -1:
        raise ArgumentError(f"{op}: give axis= (NumPy's name) or dim= (PyTorch's), not both")
    return dim


def check_transpose_axes(shape: tuple[int, ...], dims: tuple[Any, ...]) -> None:
    n = max(len(shape), 1)
    for d in dims:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or not -n <= d < n:
            raise ShapeError(
                f"transpose: axis {d!r} is not an axis of a tensor of shape {shape} (use an int between "
                f"{-n} and {n - 1}); for a full reordering of the axes, use permute(...)"
            )


def comparison_error(symbol: str, shape: tuple[int, ...], dtype: Any, value: Any, error: Exception) -> Exception:
    if isinstance(error, ValueError):
        return ShapeError(f"Tensor {symbol}: cannot compare shapes {shape} and {np.shape(value)} ({error})")
    return DTypeError(f"Tensor {symbol}: cannot compare {dtype} with {np.result_type(value)} ({error})")


# ---------------------------------------------------------------------- functions of several tensors


def matmul_of_a_number() -> ShapeError:
    return ShapeError("matmul: both operands need at least one axis; use * to scale by a number")


def check_linear(x_shape: tuple[int, ...], w_shape: tuple[int, ...], bias_shape: tuple[int, ...] | None) -> None:
    if x_shape[-1:] != w_shape[1:] or len(w_shape) != 2 or (bias_shape is not None and bias_shape != w_shape[:1]):
        raise ShapeError(
            f"linear: x is {x_shape}, weight is {w_shape}, bias is {bias_shape}; weight must be "
            "(out_features, in_features) with in_features equal to x's last axis, and bias (out_features,)"
        )


def check_cross_entropy(shape: tuple[int, ...], labels: np.ndarray) -> None:
    if len(shape) != 2 or labels.shape != shape[:1]:
        raise ShapeError(
            f"cross_entropy: logits are {shape} and target is {labels.shape}; expected logits "
            "(batch, classes) and target (batch,) of class indices"
        )
    if labels.dtype.kind not in "iu":
        raise DTypeError(f"cross_entropy: target must hold integer class indices, got dtype {labels.dtype}")


def class_indices(labels: np.ndarray, classes: int) -> None:
    """cross_entropy's targets: class indices in [0, classes) (NumPy would count a negative one from the end).

    One pass: read as unsigned 64-bit numbers (C's cast), a negative index is larger than any class.
    """
    if labels.size and _largest(labels, dtype=np.uint64) >= classes:
        raise class_out_of_range(classes, labels[(labels < 0) | (labels >= classes)][0])


_largest = np.maximum.reduce  # (bound once: a compiled step runs this check at every call)


def class_out_of_range(classes: int, label: Any) -> MathDomainError:
    return MathDomainError(f"cross_entropy: class indices must lie in [0, {classes}), got {label}")


def nothing_to_join(op: str) -> ArgumentError:
    return ArgumentError(f"{op}: needs at least one tensor")


def unequal_shapes(shapes: set[tuple[int, ...]]) -> ShapeError:
    return ShapeError(f"stack: all tensors need the same shape, got {sorted(shapes)}")


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


def shape_error(op: str, arrays: list[Any], error: ValueError) -> TinygradEduError:
    """NumPy refused `op`'s inputs: say which shapes and what they must be."""
    shapes = " and ".join(str(np.shape(a)) for a in arrays)
    if "negative integer powers" in str(error):  # NumPy's refusal, not a shape problem
        return MathDomainError(
            f"pow: an integer tensor cannot be raised to a negative integer power (shapes {shapes}), as in NumPy "
            "and PyTorch: the result would not be an integer; make the base floating point, e.g. "
            "Tensor(x, dtype=np.float32) or x ** -1.0"
        )
    hint = _HINTS.get(
        op,
        "broadcasting compares shapes from the right and each pair of sizes must be equal or 1; "
        "reshape one operand so the axes line up",
    )
    return ShapeError(f"{op.lower()}: cannot apply to shapes {shapes}: {hint} (NumPy: {error})")


def dtype_error(op: str, arrays: list[Any], error: TypeError) -> DTypeError:
    dtypes = " and ".join(str(np.result_type(a)) for a in arrays if a is not None)
    return DTypeError(f"{op.lower()}: cannot apply to dtypes {dtypes} (NumPy: {error})")


# ---------------------------------------------------------------------- in-place writes


def inplace_refused(name: str, t: Any, leaf: bool) -> GraphError:
    """An in-place op while gradients are recorded: on a leaf that requires grad, or inside a graph."""
    if leaf:
        return GraphError(
            f"{name}: {describe(t)} is a leaf that requires grad, so changing it in place while gradients "
            "are recorded would lose its history (PyTorch refuses too); do it under `with no_grad():`, as "
            "optimizers do, or use an out-of-place op"
        )
    what = describe(t) + " takes part in a recorded graph" if t.requires_grad else "the value requires grad"
    return GraphError(
        f"{name}: {what}, and tinygrad_edu does not record in-place {name} (PyTorch does); compute a new "
        "tensor instead (x = x * 0, or build it with stack / concatenate), or do it under `with no_grad():`"
    )


def value_written(name: str) -> MixedEngineError:
    return MixedEngineError(f"{name}: a Value cannot be written into a Tensor; use its number, v.data")


def inplace_error(name: str, t: Any, value: Any, index: Any, error: Exception) -> TinygradEduError:
    """NumPy refused an in-place write: an index that does not fit, a cast, or a shape that does not broadcast."""
    if isinstance(error, IndexError):
        return IndexOutOfRangeError(f"{name}: index {index!r} does not fit a tensor of shape {t.shape} ({error})")
    if isinstance(error, TypeError):  # NumPy's casting errors (float into an integer tensor) are TypeErrors
        return DTypeError(
            f"{name}: cannot write {np.result_type(value)} values into a {t.dtype} tensor in place ({error}); "
            "make the tensor floating point, or convert the operand"
        )
    return ShapeError(
        f"{name}: cannot write an operand of shape {np.shape(value)} into a tensor of shape {t.shape} in place: "
        f"it must broadcast to that shape without growing it (NumPy: {error})"
    )


def modified_in_place(op: str, i: int | None, tensor: Any, version: int) -> GraphError:
    which = f"its output ({describe(tensor)})" if i is None else f"its input {i} ({describe(tensor)})"
    return GraphError(
        f"backward: one of the variables needed for gradient computation has been modified by an in-place "
        f"operation: {op} needs {which}, which is at version {version} now, changed after "
        f"{op} used it in the forward pass, so its gradient would come out wrong. Call backward() "
        "before changing it (loss.backward(), then optimizer.step()), or compute the forward pass again; "
        "inside a model, use out-of-place ops (x = x + y) rather than in-place ones (x += y)"
    )


# ---------------------------------------------------------------------- backward


def no_grad_to_compute() -> GraphError:
    return GraphError("backward: this tensor does not require grad; create its leaves with requires_grad=True")


def gradient_not_implied(caller: str, shape: tuple[int, ...]) -> GraphError:
    return GraphError(
        f"{caller}: the output has shape {shape}, so its gradient is not implied; "
        "reduce it to a scalar first (e.g. .sum()) or pass gradient= an array of that shape"
    )


def seed_shape(caller: str, shape: tuple[int, ...], out_shape: tuple[int, ...]) -> ShapeError:
    return ShapeError(f"{caller}: gradient has shape {shape} but the output is {out_shape}")


def graph_freed(op: str) -> GraphError:
    return GraphError(
        f"backward: the graph through {op} was already used by a backward pass and "
        "its saved arrays were freed; pass retain_graph=True to the first backward() to "
        "go through it twice, or recompute the forward pass"
    )
