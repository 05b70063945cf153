"""`nn.functional`: the layers and losses as plain functions, for both engines (PyTorch's `F`).

Each function looks at its input (`engine_of`): a `Tensor` runs the tensor engine's ops; a `Value`
or a (nested) list of Values and numbers runs the scalar engine, one sample being a list. Where the
maths is the same, it is written once: a loss is a per-element formula (`_squared_error`, ...) that
works on a Value and on a Tensor alike, applied by `_terms` and reduced by `_reduce`, so the two
engines give the same numbers (to rounding) and the same gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import number_checks
from .. import tensor_functions as _tensor_functions
from ..errors import ArgumentError, CompileError, DTypeError, MathDomainError, MixedEngineError, ShapeError
from ..fused import shift_max
from ..tensor import Tensor
from ..value import Value
from . import _lists
from .engines import engine_of

# log(p) is clamped at -100 in the binary cross entropy, as PyTorch does, so p = 0 gives a finite loss.
_LOG_FLOOR = -100.0
_P_FLOOR = math.exp(_LOG_FLOOR)


# ---------------------------------------------------------------------- activations and layers


def sigmoid(x: Any) -> Any:
    """σ(x) = 1 / (1 + e⁻ˣ) elementwise     dσ/dx = σ (1 - σ)"""
    return Tensor.sigmoid(x) if _is_tensor(x) else _lists.elementwise(x, Value.sigmoid)


def relu(x: Any) -> Any:
    """max(0, x) elementwise     d/dx = 1 where x > 0, else 0"""
    return Tensor.relu(x) if _is_tensor(x) else _lists.elementwise(x, Value.relu)


def tanh(x: Any) -> Any:
    """tanh(x) elementwise     d/dx = 1 - tanh²"""
    return Tensor.tanh(x) if _is_tensor(x) else _lists.elementwise(x, Value.tanh)


def linear(x: Any, weight: Any, bias: Any = None) -> Any:
    """y = x Wᵀ + b, weight (out, in). Tensor: one fused op; value engine: one `weighted_sum` per output."""
    if _is_tensor(weight):
        x = _as_array_is(x, weight.dtype) if _is_tensor(x) else _as_tensor(x, weight.dtype, "linear")
        return _tensor_functions.linear(x, weight, bias)
    return _lists.linear(x, weight, bias)


def softmax(x: Any, dim: int = -1) -> Any:
    """softmax(x)ᵢ = e^xᵢ / Σⱼ e^xⱼ along `dim` (for Values: over the list, one sample)."""
    if _is_tensor(x):
        return x.softmax(axis=dim)
    if _lists.is_batch(x):
        return [softmax(row) for row in x]
    values = _values(x)
    shift = shift_max(values)  # e^(x - m) / Σ e^(x - m) is the same softmax, but cannot overflow
    exps = [(v - shift).exp() for v in values]
    total = sum(exps)
    return [e / total for e in exps]


def log_softmax(x: Any, dim: int = -1) -> Any:
    """log softmax(x)ᵢ = xᵢ - log Σⱼ e^xⱼ, computed stably by shifting by max(x)."""
    if _is_tensor(x):
        return x.log_softmax(axis=dim)
    if _lists.is_batch(x):
        return [log_softmax(row) for row in x]
    values = _values(x)
    shift = shift_max(values)  # a node, not a number read from the values: compile sees where it comes from
    shifted = [v - shift for v in values]
    log_total = sum(s.exp() for s in shifted).log()
    return [s - log_total for s in shifted]


# ---------------------------------------------------------------------- losses


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:  # noqa: A002 (PyTorch's name)
    """Squared error: mean (or sum) of (input - target)² over all elements.

    `reduction="half_sum"` is the article's E = ½ Σ (target - output)², whose derivative with
    respect to an output is simply (output - target).
    """
    _check_reduction(reduction, ("mean", "sum", "half_sum"), "mse_loss")
    output, target = _operands(input, target, "mse_loss")
    total = _reduce(_terms(_squared_error, output, target), "mean" if reduction == "mean" else "sum")
    return total * 0.5 if reduction == "half_sum" else total


def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Any:  # noqa: A002 (PyTorch's name)
    """-(t log p + (1 - t) log(1 - p)), averaged (or summed); p are probabilities in [0, 1].

    Like PyTorch, each log is clamped at -100, so p = 0 or 1 gives a large finite loss, not inf.
    Here the clamp acts on p (p ≥ e⁻¹⁰⁰), so a clamped term passes no gradient, where PyTorch's
    fused backward returns (p - t) / max(p (1 - p), 1e-12); inside (0, 1) the two agree. A NaN is
    not a probability either: it is refused, as PyTorch does.
    """
    _check_reduction(reduction, ("mean", "sum"), "binary_cross_entropy")
    output, target = _operands(input, target, "binary_cross_entropy")
    number_checks.check_numbers(_probabilities, output if _is_tensor(output) else list(output))
    return _reduce(_terms(_binary_cross_entropy, output, target), reduction)


def _probabilities(data: np.ndarray) -> None:
    """binary_cross_entropy's input: probabilities in [0, 1], not NaN (as PyTorch refuses them)."""
    outside = data[~((data >= 0) & (data <= 1))]
    if outside.size:
        raise MathDomainError(
            f"binary_cross_entropy: input {outside[0]} is not a probability in [0, 1]; apply sigmoid first "
            "(or use a loss on logits)"
        )


def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Any:  # noqa: A002 (PyTorch's name)
    """-log softmax(logits)[target], averaged (or summed) over the batch; target = class indices.

    Tensor: logits (batch, classes) and integer targets (batch,) as a NumPy array or Tensor, one
    fused op. Value engine: one sample's logits (a list) and an int, or a list of samples and a
    list of ints, through `log_softmax`.
    """
    _check_reduction(reduction, ("mean", "sum"), "cross_entropy")
    if _is_tensor(input):
        loss = _tensor_functions.cross_entropy(input, target)
        return loss * input.shape[0] if reduction == "sum" else loss
    if _is_tensor(target):
        raise MixedEngineError("cross_entropy: value-engine logits need int targets (or a list), not a Tensor")
    if any(type(t) is Value for t in _lists.flatten(target)):
        raise DTypeError(
            "cross_entropy: value-engine targets must be int class indices, got a Value (a compiled step makes one "
            "of an int argument); the logit a label picks is part of the graph, which a replay cannot change: "
            "compile the step on the tensor engine (labels as a NumPy int array are read at every call), or run "
            "it eagerly"
        )
    samples = input if _lists.is_batch(input) else [input]
    targets = np.asarray(target).reshape(-1)
    if len(targets) != len(samples):
        raise ShapeError(f"cross_entropy: {len(samples)} samples of logits but {len(targets)} targets")
    if not np.issubdtype(targets.dtype, np.integer):
        raise DTypeError(f"cross_entropy: targets must be integer class indices, got {targets.dtype}")
    losses = []
    for logits, label in zip(samples, targets.tolist()):
        if not 0 <= label < len(logits):
            raise MathDomainError(f"cross_entropy: class index {label} is outside [0, {len(logits)})")
        losses.append(-log_softmax(logits)[label])
    return _reduce(losses, reduction)


def max_margin_loss(scores: Any, targets: Any, reduction: str = "mean") -> Any:
    """micrograd's demo loss: relu(1 - y·score) averaged (or summed) over samples, labels y in {-1, +1}.

    A sample scored on the right side by a margin of at least 1 costs nothing; inside the margin or
    on the wrong side it costs linearly (the hinge loss of a support vector machine). Takes a
    `(batch, 1)` Tensor of scores, or the value engine's Value scores (one sample's list, or a
    list of them); the labels are matched to the scores in order, whatever their shape.
    """
    _check_reduction(reduction, ("mean", "sum"), "max_margin_loss")
    if _is_tensor(scores) and _is_tensor(targets) and targets.size == scores.size:
        labels = _tensor_functions._cast(targets, scores.dtype, scores.shape)  # an op: compile reads each batch's
    elif _is_tensor(scores):
        labels = targets.data if _is_tensor(targets) else np.asarray(targets)
        if labels.size != scores.size:
            raise ShapeError(f"max_margin_loss: scores are {scores.shape} but targets are {labels.shape}")
        labels = labels.astype(scores.dtype).reshape(scores.shape)  # (batch,) labels would broadcast to (batch, batch)
    else:
        scores, labels = _pair(scores, targets, "max_margin_loss")
        # labels may be bools or NumPy ints, which Value ops refuse; a Value label (a compiled step's input) stays
        labels = [y if type(y) is Value else float(y) for y in labels]
    return _reduce(_terms(_hinge, scores, labels), reduction)


# ---------------------------------------------------------------------- one element of each loss
# Each works on a Value and a number, and on a Tensor and an array, with the same operators.


def _squared_error(output: Any, target: Any) -> Any:
    return (output - target) ** 2


def _binary_cross_entropy(p: Any, t: Any) -> Any:
    return -(_clamped_log(p) * t + _clamped_log(1 - p) * (1 - t))


def _hinge(score: Any, label: Any) -> Any:
    return (1.0 - score * label).relu()


def _clamped_log(p: Any) -> Any:
    """log p, or -100 where p < e⁻¹⁰⁰ (no gradient flows through the clamp)."""
    if _is_tensor(p):
        return p.clip(min=np.asarray(_P_FLOOR, dtype=p.dtype)).log()
    above = _data1(p) >= _P_FLOOR  # a branch on a Value's number: a compiled step checks it stays the same
    number_checks.check_numbers(_log_side if above else _floor_side, [p])
    return p.log() if above else _LOG_FLOOR


def _log_side(data: np.ndarray) -> None:
    """binary_cross_entropy's clamp took log p here (p ≥ e⁻¹⁰⁰)."""
    if not (data >= _P_FLOOR).all():  # (a NaN included: eagerly it takes the other side)
        raise _other_side(data)


def _floor_side(data: np.ndarray) -> None:
    """binary_cross_entropy's clamp took -100 here (p < e⁻¹⁰⁰)."""
    if (data >= _P_FLOOR).any():
        raise _other_side(data)


def _other_side(data: np.ndarray) -> CompileError:
    return CompileError(
        f"compile: binary_cross_entropy clamps log p at -100 where p < e^-100, and this call's p = {data[0]} is on "
        "the other side than at trace time, which a replay of the value engine cannot switch; run this step "
        "eagerly, or compile it on the tensor engine (its clamp is an op)"
    )


def _terms(element: Callable[[Any, Any], Any], output: Any, target: Any) -> Any:
    """The loss of each element: one op per formula step on a Tensor, a list of Values otherwise."""
    if _is_tensor(output):
        return element(output, target)
    return [element(o, t) for o, t in zip(output, target)]


def _reduce(terms: Any, reduction: str) -> Any:
    """Mean or sum of the per-element losses (a Tensor, or a list of Values)."""
    if _is_tensor(terms):
        return terms.mean() if reduction == "mean" else terms.sum()
    total = sum(terms)
    return total / len(terms) if reduction == "mean" else total


# ---------------------------------------------------------------------- helpers


def _is_tensor(x: Any) -> bool:
    return engine_of(x, None) == "tensor"


def _data1(x: Any) -> float:
    return x.data if type(x) is Value else float(x)


def _values(x: Any) -> list[Value]:
    """One sample as Values (numbers become constants)."""
    if _is_tensor(x):
        raise MixedEngineError("got a Tensor where the value engine expects a list of Values")
    return [v if type(v) is Value else Value(v, requires_grad=False) for v in _lists.flatten(x)]


def _data(x: Any) -> list[float]:
    return [_data1(v) for v in _lists.flatten(x)]


def _operands(output: Any, target: Any, op: str) -> tuple[Any, Any]:
    """A Tensor output with its target as an array of the same shape, or a value-engine output and its
    target as two flat lists of the same length."""
    if _is_tensor(output):
        return output, _target_array(target, output, op)
    return _pair(output, target, op)


def _pair(output: Any, target: Any, op: str) -> tuple[list[Any], list[Any]]:
    """Flatten a value-engine output and its target, checking they have as many elements."""
    if _is_tensor(target):
        raise MixedEngineError(f"{op}: the output is on the value engine but the target is a Tensor; pass a list")
    outputs, targets = _lists.flatten(output), _lists.flatten(target)
    if len(outputs) != len(targets):
        raise ShapeError(f"{op}: the output has {len(outputs)} elements but the target has {len(targets)}")
    if not outputs:
        raise ShapeError(f"{op}: the output is empty")
    return outputs, targets


def _target_array(target: Any, input: Tensor, op: str) -> Any:  # noqa: A002
    """The target as an array (cast to the input's dtype) or Tensor, of the input's shape; broadcasting here is
    nearly always a bug."""
    if not _is_tensor(target):
        if engine_of(target, None) == "value":
            raise MixedEngineError(f"{op}: the input is a Tensor but the target holds Values")
        target = np.asarray(target, dtype=input.dtype)
    else:
        target = _as_array_is(target, input.dtype)
    if target.shape != input.shape:
        raise ShapeError(
            f"{op}: input is {input.shape} but target is {target.shape}; they must match (broadcasting "
            "them would compare every output with every target); reshape the target"
        )
    return target


def _as_array_is(t: Tensor, dtype: Any) -> Tensor:
    """`t`, or `t` cast to `dtype` where it stands for a compiled step's array argument: as the array is cast."""
    return _tensor_functions._cast(t, dtype) if id(t) in _tensor_functions.array_arguments and t.dtype != dtype else t


def _as_tensor(x: Any, dtype: Any, op: str) -> Tensor:
    """A NumPy array or nested list of numbers as a Tensor of the layer's dtype."""
    if engine_of(x, None) == "value":
        raise MixedEngineError(
            f"{op}: this layer uses the tensor engine but got Values; pass a Tensor or NumPy array, "
            "or build the model with engine='value'"
        )
    return Tensor(np.asarray(x, dtype=dtype))


def _check_reduction(reduction: str, allowed: tuple[str, ...], op: str) -> None:
    if reduction not in allowed:
        raise ArgumentError(f"{op}: reduction must be one of {', '.join(map(repr, allowed))}, got {reduction!r}")
