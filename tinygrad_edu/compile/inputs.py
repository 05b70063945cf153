"""A step's arguments: which engine they belong to, what signature they give, how they become inputs.

NumPy arrays become Tensor inputs and (nested) lists of numbers become Values; a number becomes a
0-d input of the step's engine (with no array or list among the arguments, the engine of the
parameters it reaches); Tensor and Value arguments are inputs as they are. The signature is what a
new trace needs: shapes, dtypes and memory layouts, list lengths, the engine.
"""

from __future__ import annotations

import contextlib
import dis
import inspect
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import CompileError
from ..graph import Node
from ..nn.module import Module
from ..optim import Optimizer
from ..tensor import Tensor
from ..value import Value
from .code import identifier
from .tape import layout

Number = int | float


def engine_of(args: tuple[Any, ...], params: Any = ()) -> str:
    """ "tensor" when any argument is an array or a Tensor, "scalar" when one is a list or a Value; with numbers
    alone or no arguments, the engine of the parameters the step reaches (a Tensor: "tensor"), as PyTorch's
    Python numbers take the dtype of the tensors they meet."""
    kinds = {_kind(a) for a in args}
    if kinds & {"array", "tensor"}:
        if kinds & {"list", "value"}:
            raise CompileError(
                "compile: the step's arguments mix arrays/Tensors with lists/Values; one step runs on one engine "
                "(pass labels for cross_entropy as a NumPy integer array)"
            )
        return "tensor"
    if not kinds & {"list", "value"} and any(type(p) is Tensor for p in params):
        return "tensor"
    return "scalar"


def _kind(a: Any) -> str:
    if isinstance(a, np.ndarray):
        return "array"
    if type(a) is Tensor:
        return "tensor"
    if type(a) is Value:
        return "value"
    if type(a) in (list, tuple):
        return "list"
    if isinstance(a, Number | np.number) and not isinstance(a, bool):
        return "number"
    if isinstance(a, Node):
        return "node"
    raise CompileError(
        f"compile: an argument of type {type(a).__name__} cannot be an input of a step; pass NumPy arrays, "
        "Tensors, (nested) lists of numbers, Values or numbers (other objects: reach them from fn itself)"
    )


def signature(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """What about the arguments changes the trace (never their numbers)."""
    return tuple(argument_signature(a) for a in args)


def argument_signature(a: Any) -> Any:
    """One argument's part of `signature`."""
    t = type(a)
    if t is np.ndarray:
        return ("array", a.shape, a.dtype.str, layout(a))
    if t is Tensor:
        return ("tensor", a.shape, a.dtype.str, a.requires_grad, layout(a.data))
    if t is Value:
        return ("value", a.requires_grad)
    if t is list or t is tuple:
        return (t.__name__, tuple(argument_signature(x) for x in a))
    if t is float or t is int:
        return "number"
    if isinstance(a, np.ndarray):
        return ("array", a.shape, a.dtype.str, layout(a), t.__name__)
    return ("number", t.__name__)


def arg_names(fn: Callable[..., Any], count: int) -> list[str]:
    """The parameter names of `fn` for `count` positional arguments (x, y, ...), falling back to x0, x1."""
    try:
        params = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    names = [identifier(p) for p in params[:count]]
    return names + [f"x{i}" for i in range(len(names), count)]


def _reached(fn: Callable[..., Any], loaded_only: bool = False) -> dict[str, Any]:
    """The objects `fn` names in its globals and closure (and its `self`), by the name it uses. `co_names` also
    lists attribute names (`opt.step`); `loaded_only` keeps the globals its code loads as such."""
    found: dict[str, Any] = {}
    code = getattr(fn, "__code__", None)
    if code is not None:
        globals_ = getattr(fn, "__globals__", {})
        names = (
            {i.argval for i in dis.get_instructions(code) if i.opname == "LOAD_GLOBAL"}
            if loaded_only
            else code.co_names
        )
        found.update({n: globals_[n] for n in names if n in globals_})
        for n, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or ()):
            with contextlib.suppress(ValueError):  # a cell not filled yet
                found[n] = cell.cell_contents
    self_ = getattr(fn, "__self__", None)
    if self_ is not None:
        found["self"] = self_
    return found


def optimizers(fn: Callable[..., Any]) -> list[Any]:
    """The optimizers `fn` names in its globals and closure."""
    return [obj for obj in _reached(fn).values() if isinstance(obj, Optimizer)]


def called(fn: Callable[..., Any], kind: type) -> list[str]:
    """The names of the globals `fn` loads and of its closure cells whose objects are of `kind`."""
    if not any(isinstance(obj, kind) for obj in _reached(fn).values()):
        return []  # (the usual answer, without reading the bytecode: `_reached(fn)` holds at least those)
    return [name for name, obj in _reached(fn, loaded_only=True).items() if isinstance(obj, kind)]


def owners(fn: Callable[..., Any]) -> tuple[dict[int, str], list[Any]]:
    """Names for the parameters `fn` can reach through its globals and closure, and those parameters.

    A model `model` gives `layers.0.weight`-style names (from `named_parameters`); a Tensor or Value
    held in a variable of its own gives that variable's name.
    """
    found = _reached(fn)
    names: dict[int, str] = {}
    modules, optimizers, loose = [], [], []
    several = sum(isinstance(obj, Module) for obj in found.values()) > 1
    for var, obj in found.items():
        if isinstance(obj, Module):
            modules.append(obj)
            for dotted, p in obj.named_parameters():
                names.setdefault(id(p), f"{var}.{dotted}" if several or dotted[0].isdigit() else dotted)
        elif isinstance(obj, Optimizer):
            optimizers.append(obj)
        elif type(obj) in (Tensor, Value):
            names.setdefault(id(obj), obj.name or var)
            loose.append(obj)
    for p in (p for m in modules for p in m.parameters()):
        if p.name:
            names[id(p)] = p.name
    params = [p for m in modules for p in m.parameters()]
    params += [p for opt in optimizers for g in opt.param_groups for p in g["params"]]
    return names, params + loose + held(found.values())


def held(objects: Any, depth: int = 4, most: int = 20_000) -> list[Any]:
    """The Tensors and Values held inside objects fn reaches (`self.model`, `h.params[3]`), `depth` steps down.

    A trace needs to know each parameter's `.grad` at the call's entry (see `record.Listener`), and a
    parameter may sit in a plain object, a list or a dict; at most `most` objects are looked into.
    """
    found: list[Any] = []
    seen: set[int] = set()
    level = list(objects)
    for _ in range(depth):
        below: list[Any] = []
        for obj in level:
            if id(obj) in seen or len(seen) >= most:
                continue
            seen.add(id(obj))
            kind = type(obj)
            if kind is Tensor or kind is Value:
                found.append(obj)
            elif isinstance(obj, Module):
                found += obj.parameters()
            elif isinstance(obj, Optimizer):
                found += [p for g in obj.param_groups for p in g["params"]]
            elif kind is list or kind is tuple:
                below += obj
            elif kind is dict:
                below += obj.values()
            elif not isinstance(obj, type | types.ModuleType | Callable) and hasattr(obj, "__dict__"):
                below += vars(obj).values()
        level = below
    return found


def literals(fn: Callable[..., Any]) -> set[float]:
    """The numbers written in `fn`'s own code (and functions defined inside it), with their negatives and
    reciprocals (`x - 2` and `x / 2` reach the engine as `x + -2.0` and `x * 0.5`).

    A number the step uses that is not among them came from somewhere else (a global, a library) and is
    listed at the top of the code as a constant of the trace.
    """
    found: set[float] = set()
    stack = [getattr(fn, "__code__", None)]
    while stack:
        code = stack.pop()
        if code is None:
            continue
        for c in code.co_consts:
            if hasattr(c, "co_consts"):
                stack.append(c)
            elif isinstance(c, int | float) and not isinstance(c, bool):
                found.update({float(c), -float(c)})
                if c:
                    found.update({1.0 / c, -1.0 / c})
    return found
