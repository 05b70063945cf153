"""The exceptions tinygrad_edu raises.

Every error derives from `TinygradEduError`, so one `except` catches them all, and also from the
builtin a Python user would reach for first (`ValueError`, `TypeError`, `RuntimeError`), so code
written against NumPy or PyTorch habits still catches them.
"""

from __future__ import annotations


class TinygradEduError(Exception):
    """Base class of every error raised by tinygrad_edu."""


class ShapeError(TinygradEduError, ValueError):
    """Operands whose shapes do not fit the op (the message names the op and both shapes)."""


class MathDomainError(TinygradEduError, ValueError):
    """A value outside an op's domain, such as `log` of a non-positive number."""


class DivisionByZeroError(MathDomainError, ZeroDivisionError):
    """A division by zero, such as `Value(1) / Value(0)` (also a `ZeroDivisionError`, as in Python)."""


class DTypeError(TinygradEduError, TypeError):
    """A dtype that cannot do what was asked, such as an integer tensor that requires grad."""


class DTypeMismatchError(DTypeError, RuntimeError):
    """Operands of two dtypes for an op that does not promote (matmul, linear): a RuntimeError too, as in PyTorch."""


class MixedEngineError(TinygradEduError, TypeError):
    """A scalar `Value` and a `Tensor` in one op: convert one to the other first."""


class GraphError(TinygradEduError, RuntimeError):
    """Misuse of the autograd graph: a freed graph, a non-scalar root without `gradient`, ..."""


class AnomalyError(TinygradEduError, RuntimeError):
    """An op produced NaN or inf while `detect_anomaly()` was on (the message names the op and where it was made)."""


class GradcheckError(TinygradEduError, AssertionError):
    """`gradcheck` found an analytic gradient that disagrees with finite differences."""


class MissingDependencyError(TinygradEduError, ImportError):
    """An optional package (scikit-learn, matplotlib, ...) is needed; the message says how to install it."""


class RenderError(TinygradEduError, RuntimeError):
    """The graph could not be turned into an image (no `dot`, `dot` failed, or it ran out of time)."""


class NoLayoutProgramError(RenderError):
    """No program here lays a graph out in this format (no `dot`, no WebAssembly build for it)."""


class CheckpointError(TinygradEduError, ValueError):
    """A checkpoint file that cannot be read or does not fit the model (the model is left unchanged)."""


class UserFileError(TinygradEduError, ValueError):
    """The learner's file could not be checked: it fails to load, crashes, or returns the wrong thing."""


class ArgumentError(TinygradEduError, ValueError):
    """An argument whose value the function cannot use (an empty list, an unknown option, ...)."""


class ArgumentTypeError(TinygradEduError, TypeError):
    """An argument of a type the function does not take; the message says what it takes."""


class IndexOutOfRangeError(TinygradEduError, IndexError):
    """An index past the end of a tensor (the message names the index and the shape)."""


class ParameterAssignmentError(TinygradEduError, TypeError):
    """An assignment that would silently drop a module's parameter or sub-module (a plain tensor over a weight)."""


class ParameterNameError(TinygradEduError, KeyError):
    """A parameter or sub-module name that cannot be a `state_dict` key (one with a `.`, or an empty one).

    A `KeyError`, as PyTorch raises for the same name.
    """

    __str__ = Exception.__str__  # the message as written, not KeyError's quoted repr


class ConversionError(TinygradEduError, TypeError):
    """A model, layer, optimizer or setting that has no counterpart on the other side of the PyTorch bridge
    (`to_torch` / `from_torch`); the message names it and says how to register a converter."""


class TinygradEduWarning(UserWarning):
    """Base class of the warnings tinygrad_edu gives (filter them all with this one class)."""


class UnregisteredParametersWarning(TinygradEduWarning):
    """A plain list, tuple or dict attribute holds Modules or parameters that the module does not register."""


class ReadOnlyFileError(TinygradEduError, PermissionError):
    """A write onto a file without write permission: it is refused, never silently replaced."""


class CompileError(TinygradEduError, RuntimeError):
    """A step that `tinygrad_edu.compile` cannot replay exactly: it reads a traced value into Python,
    draws random numbers, writes in place, or its replay differed from the eager step (the message says
    which line of the step and what to write instead)."""


class UpdateReadsState(Exception):  # noqa: N818 (a signal, never seen by users)
    """Internal to `compile`: an optimizer's rule read its state while being written out as code (momentum,
    Adam); `compile.scalar_update` catches it and calls `optimizer.step()` instead."""


class RuleBranch(Exception):  # noqa: N818 (a signal, never seen by users)
    """Internal to `compile`: a derivative rule branched on a value while being written out as code;
    `compile.expr.explore` catches it and runs the rule once per outcome."""

    def __init__(self, test: object) -> None:
        super().__init__("a rule branched on a value")
        self.test = test


class CannotCheckError(TinygradEduError, ValueError):
    """`check` cannot model what the learner's file does (exit status 3): said plainly instead of guessing a cause."""
