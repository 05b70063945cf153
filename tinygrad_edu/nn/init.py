"""`nn.init`: fill parameters with starting values, in place (PyTorch's names, plus `generator`).

Every function takes a Tensor, a Value, or a list of rows of Values (the value engine's weight), and
draws from `generator` (an int seed or a `numpy.random.Generator`): pass one Generator to every layer
of a model and the whole model is reproducible from one seed. The same draws land in the same
places on both engines, so a model built on either from the same generator starts identical.

Why these scales: a unit's input sums `fan_in` terms, so weights of variance ~1/fan_in keep the
variance of activations roughly constant from layer to layer (Glorot & Bengio 2010; He et al. 2015).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ArgumentError, ShapeError
from ..rng import Seed, as_generator
from .module import parameter_slot


def _fill(param: Any, values: np.ndarray | float) -> Any:
    slot = parameter_slot(param)
    slot.write(np.broadcast_to(np.asarray(values, dtype=np.float64), slot.shape))
    return param


def _shape(param: Any) -> tuple[int, ...]:
    return parameter_slot(param).shape


def uniform_(param: Any, a: float = 0.0, b: float = 1.0, generator: Seed = None) -> Any:
    """Samples from U[a, b)."""
    return _fill(param, as_generator(generator).uniform(a, b, _shape(param)))


def normal_(param: Any, mean: float = 0.0, std: float = 1.0, generator: Seed = None) -> Any:
    """Samples from N(mean, std²)."""
    return _fill(param, as_generator(generator).normal(mean, std, _shape(param)))


def constant_(param: Any, val: float) -> Any:
    return _fill(param, val)


def zeros_(param: Any) -> Any:
    return _fill(param, 0.0)


def ones_(param: Any) -> Any:
    return _fill(param, 1.0)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' scale through `nonlinearity` (PyTorch's table)."""
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    raise ArgumentError(
        f"calculate_gain: unknown nonlinearity {nonlinearity!r} (linear, sigmoid, tanh, relu, leaky_relu)"
    )


def fan_in_and_fan_out(shape: tuple[int, ...]) -> tuple[int, int]:
    """(inputs, outputs) per unit for a weight of shape (out, in, *kernel)."""
    if len(shape) < 2:
        raise ShapeError(f"fan_in_and_fan_out: needs a weight with at least 2 axes (out, in), got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def xavier_uniform_(param: Any, gain: float = 1.0, generator: Seed = None) -> Any:
    """U[-a, a] with a = gain · √(6 / (fan_in + fan_out))  (Glorot)."""
    fan_in, fan_out = fan_in_and_fan_out(_shape(param))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(param, -bound, bound, generator)


def xavier_normal_(param: Any, gain: float = 1.0, generator: Seed = None) -> Any:
    """N(0, std²) with std = gain · √(2 / (fan_in + fan_out))  (Glorot)."""
    fan_in, fan_out = fan_in_and_fan_out(_shape(param))
    return normal_(param, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(param: Any, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ArgumentError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(_shape(param))
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(
    param: Any, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator: Seed = None
) -> Any:
    """U[-bound, bound], bound = √3 · gain / √fan  (He). `Linear`'s default is a = √5: bound = 1/√fan_in."""
    bound = math.sqrt(3.0) * _kaiming_std(param, a, mode, nonlinearity)
    return uniform_(param, -bound, bound, generator)


def kaiming_normal_(
    param: Any, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator: Seed = None
) -> Any:
    """N(0, std²), std = gain / √fan  (He)."""
    return normal_(param, 0.0, _kaiming_std(param, a, mode, nonlinearity), generator)
