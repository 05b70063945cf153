"""Whether a call may replay a trace, as one generated function: the compiled step's fast path.

A trace replays for a call whose signature (`inputs.signature`: shapes, dtypes, ...) is the trace's
and whose guard holds (the parameters' arrays, which `.grad` were None, `requires_grad`, the
optimizer's buffers and which parameters it holds). Built as tuples and compared in a loop, that
check took a few microseconds per call, which on the digits step at batch 32 (≈ 80 µs) was most of
what a replay lost against hand-written NumPy. So each trace gets `fits(args)`: the same tests
written out for its own signature and guard as one boolean expression; a call asks the latest trace
first. Its checked trace's `replay(compiled, *args)` goes one step further: it becomes the compiled
step's `__call__` (step.py), with the test, NumPy's warnings off and the step's code in one frame, so
an ordinary call costs one Python call more than the code itself (the layers it replaces, three
Python calls, took another 1-3 µs).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from ..quiet import hush, unhush
from ..tensor import Tensor
from ..value import Value
from .inputs import argument_signature
from .record import buffers
from .tape import layout


def fits_functions(
    key: tuple[Any, ...],
    guard: list[tuple[Any, ...]],
    optimizers: list[tuple[Any, Any, tuple[tuple[Any, ...], ...]]],
    step: Callable,
    outside: list[tuple[Any, tuple[int, ...], Any, str]],
    other: Callable[[Any, tuple[Any, ...]], Any],
) -> tuple[Callable, Callable]:
    """`fits(args)`: True exactly when `inputs.signature(args) == key` and the guard holds; and
    `replay(compiled, *args)`: `step(*args)` with NumPy's warnings off when `fits(args)`, else
    `other(compiled, args)` (the compiled step's search for another trace). A tensor made outside fn
    that the code reads afresh must still have the shape, dtype and layout the code was written for."""
    names: dict[str, Any] = {"ndarray": np.ndarray, "Tensor": Tensor, "Value": Value, "buffers": buffers}
    names.update(step=step, other=other, hush=hush, unhush=unhush, is_=operator.is_)
    names["sig"], names["layout"] = argument_signature, layout
    terms = [f"len(args) == {len(key)}"]
    for i, k in enumerate(key):
        terms.append(_argument(f"args[{i}]", k, f"k{i}", names))
    for j, (p, data, grad_none, requires_grad) in enumerate(guard):
        names[f"p{j}"] = p
        if data is not None:
            names[f"data{j}"] = data
            terms.append(f"p{j}.data is data{j}")
        if grad_none is not None:
            terms.append(f"p{j}.grad is {'' if grad_none else 'not '}None")
        names[f"rg{j}"] = requires_grad
        terms.append(f"p{j}.requires_grad is rg{j}")
    for j, (t, shape, dtype, order) in enumerate(outside):
        names[f"out{j}"], names[f"out{j}_dtype"] = t, dtype
        terms.append(f"out{j}.data.shape == {shape!r} and out{j}.data.dtype == out{j}_dtype")
        terms.append(_layout(f"out{j}.data", order))
    for j, (optimizer, held, groups) in enumerate(optimizers):
        names[f"opt{j}"], names[f"held{j}"] = optimizer, held
        empty = f"not opt{j}.state or " if held == () else ""  # (plain SGD keeps no state: skip the call)
        terms.append(f"({empty}buffers(opt{j}) == held{j})")
        terms.append(f"len(opt{j}.param_groups) == {len(groups)}")  # (its parameters, each the same object)
        for i, params in enumerate(groups):
            names[f"params{j}_{i}"] = params
            terms.append(
                f"len(now := opt{j}.param_groups[{i}]['params']) == {len(params)} and all(map(is_, now, params{j}_{i}))"
            )
    test = "(\n        " + "\n        and ".join(terms) + "\n    )"
    source = (
        f"def fits(args):\n    return {test}\n\n\n"
        f"def replay(compiled, *args):\n    if not {test}:\n        return other(compiled, args)\n"
        "    token = hush()\n    try:\n        return step(*args)\n    finally:\n        unhush(token)\n"
    )
    exec(compile(source, "<tinygrad_edu.compile fits>", "exec"), names)
    return names["fits"], names["replay"]


def _argument(a: str, k: Any, name: str, names: dict[str, Any]) -> str:
    """The test that argument `a` has signature `k` (`inputs.argument_signature`), written for the usual kinds."""
    kind = k[0] if type(k) is tuple else k
    if kind == "array" and len(k) == 4 and k[3] == "C":
        return (
            f"(type({a}) is ndarray and {a}.shape == {k[1]!r} and {_dtype(f'{a}.dtype', k[2], name, names)} "
            f"and {_layout(a, 'C')})"
        )
    if kind == "tensor" and k[4] == "C":
        names[f"{name}_rg"] = k[3]
        return (
            f"(type({a}) is Tensor and {a}.data.shape == {k[1]!r} and {_dtype(f'{a}.data.dtype', k[2], name, names)} "
            f"and {a}.requires_grad == {name}_rg and {_layout(f'{a}.data', 'C')})"
        )
    if kind == "value":
        names[f"{name}_rg"] = k[1]
        return f"(type({a}) is Value and {a}.requires_grad == {name}_rg)"
    if k == "number":
        return f"(type({a}) is float or type({a}) is int)"
    names[name] = k  # lists, NumPy scalars, array subclasses: the general signature
    return f"sig({a}) == {name}"


def _dtype(dtype: str, text: str, name: str, names: dict[str, Any]) -> str:
    """`dtype.str == text` as the signature compares it, after a quicker test of the usual dtype object."""
    names[name] = np.dtype(text)
    return f"({dtype} is {name} or {dtype}.str == {text!r})"


def _layout(a: str, order: str) -> str:
    """The test that array `a` lies in memory as `order` says (`tape.layout`); row by row, the usual, is one flag."""
    return f"{a}.flags.c_contiguous" if order == "C" else f"layout({a}) == {order!r}"
