"""What the scalar engine's ops refuse, and the messages that say why.

Kept out of value.py so that its op table reads as the maths: an op calls one of these where its
input can be outside its domain, and the error names the op, the number and the fix.
"""

from __future__ import annotations

import math
import numbers

from .errors import ArgumentTypeError, DivisionByZeroError, MathDomainError, MixedEngineError
from .graph import Node


def as_float(data: object, is_value: bool) -> float:
    """The number `Value(data)` holds, or a clear error for what is not one number."""
    if is_value:
        raise ArgumentTypeError("Value(Value(...)): pass `v.data` to copy a value, or use `v` itself")
    if isinstance(data, Node):
        raise MixedEngineError(
            "Value(Tensor): a Value holds one Python float; use `tensor.item()` for a 1-element tensor"
        )
    try:
        return float(data)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ArgumentTypeError(
            f"Value({type(data).__name__}): a Value holds one number; pass an int or a float"
        ) from None


def number(other: object, op: str) -> float:
    """The float an operand stands for, or a clear error for what cannot mix with a Value."""
    if type(other) is float or type(other) is int:
        return float(other)
    if isinstance(other, Node):  # not a Value (the ops test that first): a Tensor
        raise MixedEngineError(
            f"Value {op} Tensor: the scalar and tensor engines do not mix; use Tensor(v.data) "
            "or tensor.item() to move a number from one to the other"
        )
    if isinstance(other, numbers.Real) and not isinstance(other, bool):
        return float(other)  # numpy scalars and the like (never a string such as "2")
    raise ArgumentTypeError(f"Value {op} {type(other).__name__}: expected a Value or a number")


def exp_overflow(a: float) -> MathDomainError:
    return MathDomainError(
        f"exp: e^{a:g} is too large for a float (the limit is e^709.78); scale the input "
        "down, or use a stable form such as sigmoid() or log-sum-exp"
    )


def log_domain(a: float) -> MathDomainError:
    return MathDomainError(
        f"log: input is {a}, but log needs a positive number; clamp it first, e.g. (x + 1e-12).log() for probabilities"
    )


def check_pow(a: float, b: float, exponent_needs_grad: bool | None) -> None:
    """a ** b's domain: a real result, and a real gradient a^b ln a for a Value exponent that needs one.

    `exponent_needs_grad` is None for a number exponent.
    """
    what = "Value" if exponent_needs_grad is not None else fmt(b)
    if a < 0 and (not float(b).is_integer() or exponent_needs_grad):
        raise MathDomainError(
            f"Value ** {what}: a negative base ({a}) has no real result for a non-integer power, and no real "
            "gradient a^b ln a for a Value exponent; take abs() first, or use a plain integer exponent"
        )
    if a == 0 and b < 0:
        raise DivisionByZeroError(f"Value ** {what}: 0 to a negative power is a division by zero")


def checked_log(a: float) -> float:
    """ln(a), refused for a <= 0 (a NaN passes through, as a NaN): what `Value.log` computes, and what a
    compiled step's replay writes for it, so a replay refuses what eager refuses."""
    if a <= 0:
        raise log_domain(a)
    return math.log(a)


def checked_exp(a: float) -> float:
    """e^a, refused where it overflows a float (`Value.exp`, and a compiled step's replay of it)."""
    try:
        return math.exp(a)
    except OverflowError:
        raise exp_overflow(a) from None


def checked_pow(a: float, b: float, exponent_needs_grad: bool | None = None) -> float:
    """a ** b where `check_pow` allows it (`Value.__pow__`, and a compiled step's replay of it: Python
    alone would give a complex number for a negative base, or ZeroDivisionError)."""
    check_pow(a, b, exponent_needs_grad)
    return a**b


def fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
