"""Layers: `Linear` and the activations, for the tensor engine and (with `engine="value"`) the scalar one.

The tensor engine is the default: a batch is a Tensor (or NumPy array) of shape (batch, in_features)
and `Linear` is one fused op, `y = x Wᵀ + b`. With `engine="value"` the same layer holds its
weights as lists of `Value`s and takes one sample as a list of numbers (see `nn._lists`); its
`state_dict` has the same keys and shapes, so a model moves between engines with
`load_state_dict`. Activations have no parameters and work on whatever they are given.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ArgumentError, MixedEngineError
from ..rng import Seed, as_generator
from ..tensor import Tensor
from ..value import Value
from . import functional, init
from .engines import check_engine, engine_of
from .module import Module


class Linear(Module):
    """y = x Wᵀ + b, with `weight` (out_features, in_features) and `bias` (out_features,) as in PyTorch.

    Initialised like PyTorch: weight and bias from U(-1/√in, 1/√in) (its kaiming_uniform with a = √5),
    drawn from `generator` (a seed or a `numpy.random.Generator`; share one across layers).
    `engine="value"`: weight is a list of `out_features` rows of `in_features` Values, and each output
    is one `weighted_sum` node. `dtype` applies to the tensor engine (Values are Python floats).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        generator: Seed = None,
        dtype: Any = np.float32,
        engine: str = "tensor",
    ) -> None:
        super().__init__()
        check_engine(engine, "Linear")
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
                raise ArgumentError(f"Linear: {name} must be a positive int, got {n!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.engine = engine
        if engine == "tensor":
            self.dtype = np.dtype(dtype)
            self.weight = Tensor(np.zeros((out_features, in_features), dtype=dtype), requires_grad=True)
            self.bias = Tensor(np.zeros(out_features, dtype=dtype), requires_grad=True) if bias else None
        else:
            self.dtype = np.dtype(np.float64)
            self.weight = [[Value(0.0) for _ in range(in_features)] for _ in range(out_features)]
            self.bias = [Value(0.0) for _ in range(out_features)] if bias else None
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Seed = None) -> None:
        """Draw fresh weights (then bias) from U(-1/√in_features, 1/√in_features)."""
        generator = as_generator(generator)
        bound = 1.0 / math.sqrt(self.in_features)
        init.uniform_(self.weight, -bound, bound, generator)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound, generator)

    def forward(self, x: Any) -> Any:
        return functional.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        text = f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        return text + (", engine='value'" if self.engine == "value" else "")


class _Activation(Module):
    """An elementwise function with no parameters; `engine` (optional) pins which engine it accepts."""

    def __init__(self, engine: str | None = None) -> None:
        super().__init__()
        check_engine(engine, type(self).__name__, allow_none=True)
        self.engine = engine

    def _check(self, x: Any) -> None:
        if self.engine is not None and (engine_of(x, "value") == "tensor") != (self.engine == "tensor"):
            raise MixedEngineError(
                f"{type(self).__name__}(engine={self.engine!r}) got {type(x).__name__}; "
                "build the model with one engine= for every layer"
            )

    def extra_repr(self) -> str:
        return f"engine={self.engine!r}" if self.engine else ""

    def forward(self, x: Any) -> Any:
        self._check(x)
        return self.function(x)


class Sigmoid(_Activation):
    """σ(x) = 1 / (1 + e⁻ˣ)  (the article's activation)."""

    function = staticmethod(functional.sigmoid)


class ReLU(_Activation):
    """max(0, x)."""

    function = staticmethod(functional.relu)


class Tanh(_Activation):
    """tanh(x)."""

    function = staticmethod(functional.tanh)


class Identity(_Activation):
    """Returns its input unchanged (a placeholder layer)."""

    def forward(self, x: Any) -> Any:
        return x
