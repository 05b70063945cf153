"""`nn.functional`: the layers and losses as plain functions, for both engines (PyTorch's `F`).

Each function looks at its input: a `Tensor` runs the tensor engine's ops; a `Value` or a (nested)
list of Values and numbers runs the scalar engine, one sample being a list. The maths is the same,
so the two give the same numbers (to rounding) and the same gradients.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import tensor as _tensor
from ..errors import ArgumentError, DTypeError, MathDomainError, MixedEngineError, ShapeError
from ..tensor import Tensor
from ..value import Value
from . import scalar

# log(p) is clamped at -100 in the binary cross entropy, as PyTorch does, so p = 0 gives a finite loss.
_LOG_FLOOR = -100.0
_P_FLOOR = math.exp(_LOG_FLOOR)


# ---------------------------------------------------------------------- activations and layers


def sigmoid(x: Any) -> Any:
    """σ(x) = 1 / (1 + e⁻ˣ) elementwise     dσ/dx = σ (1 - σ)"""
    return x.sigmoid() if type(x) is Tensor else scalar.elementwise(x, "sigmoid")


def relu(x: Any) -> Any:
    """max(0, x) elementwise     d/dx = 1 where x > 0, else 0"""
    return x.relu() if type(x) is Tensor else scalar.elementwise(x, "relu")


def tanh(x: Any) -> Any:
    """tanh(x) elementwise     d/dx = 1 - tanh²"""
    return x.tanh() if type(x) is Tensor else scalar.elementwise(x, "tanh")


def linear(x: Any, weight: Any, bias: Any = None) -> Any:
    """y = x Wᵀ + b, weight (out, in). Tensor: one fused op; value engine: one `weighted_sum` per output."""
    if type(weight) is Tensor:
        if type(x) is not Tensor:
            x = _as_tensor(x, weight.dtype, "linear")
        return _tensor.linear(x, weight, bias)
    return scalar.linear(x, weight, bias)


def softmax(x: Any, dim: int = -1) -> Any:
    """softmax(x)ᵢ = e^xᵢ / Σⱼ e^xⱼ along `dim` (for Values: over the list, one sample)."""
    if type(x) is Tensor:
        return x.softmax(axis=dim)
    if scalar.is_batch(x):
        return [softmax(row) for row in x]
    shift = max(_data(x))  # e^(x - m) / Σ e^(x - m) is the same softmax, but cannot overflow
    exps = [(v - shift).exp() for v in _values(x)]
    total = sum(exps)
    return [e / total for e in exps]


def log_softmax(x: Any, dim: int = -1) -> Any:
    """log softmax(x)ᵢ = xᵢ - log Σⱼ e^xⱼ, computed stably by shifting by max(x)."""
    if type(x) is Tensor:
        return x.log_softmax(axis=dim)
    if scalar.is_batch(x):
        return [log_softmax(row) for row in x]
    shift = max(_data(x))
    shifted = [v - shift for v in _values(x)]
    log_total = sum(s.exp() for s in shifted).log()
    return [s - log_total for s in shifted]


# ---------------------------------------------------------------------- losses


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:  # noqa: A002 (PyTorch's name)
    """Squared error: mean (or sum) of (input - target)² over all elements.

    `reduction="half_sum"` is the article's E = ½ Σ (target - output)², whose derivative with
    respect to an output is simply (output - target).
    """
    _check_reduction(reduction, ("mean", "sum", "half_sum"), "mse_loss")
    if type(input) is Tensor:
        target_array = _target_array(target, input, "mse_loss")
        diff = input - target_array
        total = (diff * diff).sum() if reduction != "mean" else (diff * diff).mean()
        return total * 0.5 if reduction == "half_sum" else total
    outputs, targets = _pair(input, target, "mse_loss")
    total = sum((o - t) ** 2 for o, t in zip(outputs, targets))
    if reduction == "mean":
        return total / len(outputs)
    return total * 0.5 if reduction == "half_sum" else total


def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Any:  # noqa: A002 (PyTorch's name)
    """-log softmax(logits)[target], averaged (or summed) over the batch; target = class indices.

    Tensor: logits (batch, classes) and integer targets (batch,) as a NumPy array or Tensor.
    Value engine: one sample's logits (a list) and an int, or a list of samples and a list of ints.
    """
    _check_reduction(reduction, ("mean", "sum"), "cross_entropy")
    if type(input) is Tensor:
        loss = _tensor.cross_entropy(input, target)
        return loss * input.shape[0] if reduction == "sum" else loss
    if type(target) is Tensor:
        raise MixedEngineError("cross_entropy: value-engine logits need int targets (or a list), not a Tensor")
    samples = input if scalar.is_batch(input) else [input]
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
    total = sum(losses)
    return total / len(losses) if reduction == "mean" else total


def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Any:  # noqa: A002 (PyTorch's name)
    """-(t log p + (1 - t) log(1 - p)), averaged (or summed); p are probabilities in [0, 1].

    Like PyTorch, each log is clamped at -100, so p = 0 or 1 gives a large finite loss, not inf.
    Here the clamp acts on p (p ≥ e⁻¹⁰⁰), so a clamped term passes no gradient, where PyTorch's
    fused backward returns (p - t) / max(p (1 - p), 1e-12); inside (0, 1) the two agree.
    """
    _check_reduction(reduction, ("mean", "sum"), "binary_cross_entropy")
    if type(input) is Tensor:
        t = _target_array(target, input, "binary_cross_entropy")
        if input.data.size and (input.data.min() < 0 or input.data.max() > 1):
            raise MathDomainError(
                "binary_cross_entropy: inputs must be probabilities in [0, 1]; apply sigmoid first "
                "(or use a loss on logits)"
            )
        floor = np.asarray(_P_FLOOR, dtype=input.dtype)
        log_p = input.clip(min=floor).log()
        log_q = (1 - input).clip(min=floor).log()
        terms = -(log_p * t + log_q * (1 - t))
        return terms.mean() if reduction == "mean" else terms.sum()
    probabilities, targets = _pair(input, target, "binary_cross_entropy")
    terms = []
    for p, t in zip(probabilities, targets):
        if not 0.0 <= _data1(p) <= 1.0:
            raise MathDomainError(f"binary_cross_entropy: input {_data1(p)} is not a probability in [0, 1]")
        terms.append(-(_clamped_log(p) * t + _clamped_log(1 - p) * (1 - t)))
    total = sum(terms)
    return total / len(terms) if reduction == "mean" else total


# ---------------------------------------------------------------------- helpers


def _clamped_log(p: Any) -> Any:
    """log p, or the constant -100 where p < e⁻¹⁰⁰ (no gradient flows through the clamp)."""
    return p.log() if _data1(p) >= _P_FLOOR else _LOG_FLOOR


def _data1(x: Any) -> float:
    return x.data if type(x) is Value else float(x)


def _values(x: Any) -> list[Value]:
    """One sample as Values (numbers become constants)."""
    if type(x) is Tensor:
        raise MixedEngineError("got a Tensor where the value engine expects a list of Values")
    return [v if type(v) is Value else Value(v, requires_grad=False) for v in scalar.flatten(x)]


def _data(x: Any) -> list[float]:
    return [_data1(v) for v in scalar.flatten(x)]


def _pair(output: Any, target: Any, op: str) -> tuple[list[Any], list[Any]]:
    """Flatten a value-engine output and its target, checking they have as many elements."""
    if type(target) is Tensor:
        raise MixedEngineError(f"{op}: the output is on the value engine but the target is a Tensor; pass a list")
    outputs, targets = scalar.flatten(output), scalar.flatten(target)
    if len(outputs) != len(targets):
        raise ShapeError(f"{op}: the output has {len(outputs)} elements but the target has {len(targets)}")
    if not outputs:
        raise ShapeError(f"{op}: the output is empty")
    return outputs, targets


def _target_array(target: Any, input: Tensor, op: str) -> Any:  # noqa: A002
    """The target as an array (or Tensor) of the input's shape; broadcasting here is nearly always a bug."""
    if type(target) is not Tensor:
        if type(target) is Value or (isinstance(target, list) and any(type(v) is Value for v in target)):
            raise MixedEngineError(f"{op}: the input is a Tensor but the target holds Values")
        target = np.asarray(target, dtype=input.dtype)
    if target.shape != input.shape:
        raise ShapeError(
            f"{op}: input is {input.shape} but target is {target.shape}; they must match (broadcasting "
            "them would compare every output with every target); reshape the target"
        )
    return target


def _as_tensor(x: Any, dtype: Any, op: str) -> Tensor:
    """A NumPy array or nested list of numbers as a Tensor of the layer's dtype."""
    if type(x) is Value or (isinstance(x, (list, tuple)) and any(type(v) is Value for v in scalar.flatten(x))):
        raise MixedEngineError(
            f"{op}: this layer uses the tensor engine but got Values; pass a Tensor or NumPy array, "
            "or build the model with engine='value'"
        )
    return Tensor(np.asarray(x, dtype=dtype))


def _check_reduction(reduction: str, allowed: tuple[str, ...], op: str) -> None:
    if reduction not in allowed:
        raise ArgumentError(f"{op}: reduction must be one of {', '.join(map(repr, allowed))}, got {reduction!r}")
