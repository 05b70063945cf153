"""tinygrad_edu: a small, readable autograd — a scalar `Value` engine and a NumPy `Tensor` engine."""

from .anomaly import detect_anomaly
from .autograd import grad
from .errors import (
    AnomalyError,
    ArgumentError,
    ArgumentTypeError,
    CheckpointError,
    CompileError,
    ConversionError,
    DTypeError,
    DTypeMismatchError,
    GradcheckError,
    GraphError,
    IndexOutOfRangeError,
    MathDomainError,
    MissingDependencyError,
    MixedEngineError,
    ParameterAssignmentError,
    ParameterNameError,
    ReadOnlyFileError,
    RenderError,
    ShapeError,
    TinygradEduError,
    TinygradEduWarning,
    UnregisteredParametersWarning,
)
from .fused import weighted_sum
from .gradcheck import gradcheck, gradgradcheck
from .graph import enable_grad, gc_paused, is_grad_enabled, no_grad, set_grad_enabled
from .retention import is_graph_kept, keep_graph
from .tensor import Tensor, matmul
from .tensor_functions import concatenate, cross_entropy, linear, stack
from .value import Value

from . import nn, optim  # isort: skip (they build on the engine above)
from .train.checkpoint import load, save  # isort: skip
from . import viz as viz  # isort: skip (tinygrad_edu.viz.draw; graphviz loads on the first drawing)
from .compile import compile  # noqa: A004  # isort: skip (records the engine and nn: it comes after them)
from .torch_bridge import from_torch, register_torch, to_torch  # isort: skip (torch loads on the first call)

__version__ = "0.1.0"

__all__ = [
    "AnomalyError",
    "ArgumentError",
    "ArgumentTypeError",
    "CheckpointError",
    "CompileError",
    "ConversionError",
    "DTypeError",
    "DTypeMismatchError",
    "GradcheckError",
    "GraphError",
    "IndexOutOfRangeError",
    "MathDomainError",
    "MissingDependencyError",
    "MixedEngineError",
    "ParameterAssignmentError",
    "ParameterNameError",
    "ReadOnlyFileError",
    "RenderError",
    "ShapeError",
    "Tensor",
    "TinygradEduError",
    "TinygradEduWarning",
    "UnregisteredParametersWarning",
    "Value",
    "__version__",
    "compile",
    "concatenate",
    "cross_entropy",
    "detect_anomaly",
    "enable_grad",
    "from_torch",
    "gc_paused",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "is_graph_kept",
    "keep_graph",
    "linear",
    "load",
    "matmul",
    "nn",
    "no_grad",
    "optim",
    "register_torch",
    "save",
    "set_grad_enabled",
    "stack",
    "to_torch",
    "weighted_sum",
]
