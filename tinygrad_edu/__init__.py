"""tinygrad_edu: a small, readable autograd — a scalar `Value` engine and a NumPy `Tensor` engine."""

from .anomaly import AnomalyError, detect_anomaly
from .autograd import grad
from .errors import (
    DTypeError,
    GradcheckError,
    GraphError,
    MathDomainError,
    MissingDependencyError,
    MixedEngineError,
    ParameterAssignmentError,
    ReadOnlyFileError,
    RenderError,
    ShapeError,
    TinygradEduError,
    TinygradEduWarning,
    UnregisteredParametersWarning,
)
from .gradcheck import gradcheck, gradgradcheck
from .graph import enable_grad, gc_paused, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import Tensor, concatenate, cross_entropy, linear, matmul, stack
from .value import Value, weighted_sum

from . import nn, optim  # isort: skip (they build on the engine above)
from .checkpoint import CheckpointError, load, save  # isort: skip

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "CheckpointError",
    "DTypeError",
    "GradcheckError",
    "GraphError",
    "MathDomainError",
    "MissingDependencyError",
    "MixedEngineError",
    "ParameterAssignmentError",
    "ReadOnlyFileError",
    "RenderError",
    "ShapeError",
    "Tensor",
    "TinygradEduError",
    "TinygradEduWarning",
    "UnregisteredParametersWarning",
    "Value",
    "__version__",
    "concatenate",
    "cross_entropy",
    "detect_anomaly",
    "enable_grad",
    "gc_paused",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "linear",
    "load",
    "matmul",
    "nn",
    "no_grad",
    "optim",
    "save",
    "set_grad_enabled",
    "stack",
    "weighted_sum",
]
