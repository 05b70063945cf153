"""Which engine: `engine_of(x)` says "value" or "tensor" for a model, a parameter, an output or a list of them.

It is the one place that tells the engines apart above the engine itself: nn's functions dispatch
with it, and `fit`, `summary` and the checker use it to know what input a model takes.
"""

from __future__ import annotations

from typing import Any

from ..errors import ArgumentError
from ..tensor import Tensor
from ..value import Value
from .module import Module

ENGINES = ("tensor", "value")

_RAISE: Any = object()  # engine_of's default: no engine is an error


def engine_of(obj: Any, default: str | None = _RAISE) -> str | None:
    """`"tensor"` for a Tensor, `"value"` for a Value or a (nested) list holding one, and for a Module
    the engine of its parameters (or, with none, the `engine=` its layers were built with).

    Anything else (numbers, NumPy arrays, a parameterless activation) belongs to neither engine:
    then `default` is returned if given, else `ArgumentError` says so.
    """
    kind = type(obj)
    if kind is Tensor:
        return "tensor"
    if kind is Value:
        return "value"
    found: str | None = None
    if isinstance(obj, Module):
        found = _engine_of_module(obj)
    elif isinstance(obj, (list, tuple)):
        found = "value" if _holds_value(obj) else None
    if found is not None:
        return found
    if default is not _RAISE:
        return default
    if isinstance(obj, Module):
        raise ArgumentError(
            f"{kind.__name__} has no parameters and no engine=, so there is nothing to train or tell the engine "
            "by; give it a layer with parameters, or build it with engine='value' or engine='tensor'"
        )
    raise ArgumentError(f"engine_of: a {kind.__name__} holds no Value or Tensor, so it belongs to neither engine")


def check_engine(engine: str | None, where: str, allow_none: bool = False) -> None:
    """Refuse an `engine=` argument that names no engine."""
    if engine in ENGINES or (allow_none and engine is None):
        return
    raise ArgumentError(f"{where}: engine must be 'tensor' or 'value', got {engine!r}")


def _engine_of_module(module: Module) -> str | None:
    for param in module.parameters():  # the first parameter decides (Sequential refuses mixed engines)
        return "tensor" if type(param) is Tensor else "value"
    return next((m.engine for m in module.modules() if m.engine is not None), None)


def _holds_value(items: list | tuple) -> bool:
    """True when a Value is anywhere in a nested list (an iterative walk, stopping at the first)."""
    stack = [iter(items)]
    while stack:
        for item in stack[-1]:
            if type(item) is Value:
                return True
            if isinstance(item, (list, tuple)):
                stack.append(iter(item))
                break
        else:
            stack.pop()
    return False
