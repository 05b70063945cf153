"""tinygrad_edu: a small, readable autograd — a scalar `Value` engine and a NumPy `Tensor` engine."""

from .anomaly import AnomalyError, detect_anomaly
from .errors import (
    DTypeError,
    GradcheckError,
    GraphError,
    MathDomainError,
    MixedEngineError,
    ShapeError,
    TinygradEduError,
)
from .gradcheck import gradcheck
from .graph import is_grad_enabled, no_grad
from .tensor import Tensor, concatenate, cross_entropy, linear, matmul, stack
from .value import Value, weighted_sum

from . import nn, optim  # isort: skip (they build on the engine above)

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "DTypeError",
    "GradcheckError",
    "GraphError",
    "MathDomainError",
    "MixedEngineError",
    "ShapeError",
    "Tensor",
    "TinygradEduError",
    "Value",
    "__version__",
    "concatenate",
    "cross_entropy",
    "detect_anomaly",
    "gradcheck",
    "is_grad_enabled",
    "linear",
    "matmul",
    "nn",
    "no_grad",
    "optim",
    "stack",
    "weighted_sum",
]
