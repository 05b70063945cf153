"""The second call's safety net: run the eager step on the same state and compare, bit for bit.

A trace cannot see every way a value reaches the step (a Python number read from a global, a Value's
`.data` read by hand), and those are frozen at their first value. So by default the first replay of
each trace is followed by the eager step from the same starting state, and every parameter, gradient,
optimizer buffer and returned value must be equal; the first difference raises a `CompileError`
naming it, and the state the eager step left stays (it is the right one).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import CompileError
from ..tensor import Tensor
from ..value import Value
from ..versions import counter


def _copy(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return x.copy()
    if type(x) is dict:
        return {k: _copy(v) for k, v in x.items()}
    if type(x) is list:
        return [_copy(v) for v in x]
    return x


class State:
    """The parameters' arrays (or floats), gradients and version counts, and the optimizers' state and settings."""

    def __init__(self, params: list[Any], optimizers: list[Any]) -> None:
        self.params = [(p, _copy(p.data), _copy(p.grad)) for p in params]
        self.versions = [(vc, list(vc)) for vc in (counter(p) for p in params if type(p) is Tensor)]
        self.optimizers = [
            (opt, {k: _copy(v) for k, v in opt.state.items()}, [_copy({**g, "params": None}) for g in opt.param_groups])
            for opt in optimizers
        ]

    def restore(self) -> None:
        for p, data, grad in self.params:
            if type(p) is Tensor and p.data.shape == data.shape:
                p.data[...] = data  # in place: the model and the optimizer share this array
            else:
                p.data = _copy(data)
            p.grad = _copy(grad)
        for vc, saved in self.versions:  # the writes undone are not counted: the eager step counts its own
            vc[:] = saved
        for opt, state, groups in self.optimizers:
            opt.state.clear()
            opt.state.update({k: _copy(v) for k, v in state.items()})
            for group, saved in zip(opt.param_groups, groups):
                group.update({k: _copy(v) for k, v in saved.items() if k != "params"})


def first_difference(replay: State, eager: State, names: dict[int, str]) -> str | None:
    """A description of the first value that differs between two states, or None."""
    for (p, data_r, grad_r), (_, data_e, grad_e) in zip(replay.params, eager.params):
        label = names.get(id(p)) or getattr(p, "name", None) or f"a parameter of shape {np.shape(data_r)}"
        if not same(data_r, data_e):
            return f"parameter {label}"
        if not same(grad_r, grad_e):
            return f"the gradient of {label}"
    for (opt, state_r, _), (_, state_e, _) in zip(replay.optimizers, eager.optimizers):
        if not same(state_r, state_e):
            return f"the state of {type(opt).__name__}"
    return None


def same(a: Any, b: Any) -> bool:
    """Equal bit for bit (NaN equal to NaN), recursively through containers, Tensors and Values."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    if type(a) is Tensor:
        return same(np.asarray(a.data), np.asarray(b.data)) and same(a.grad, b.grad)
    if type(a) is Value:
        return same(a.data, b.data) and same(a.grad, b.grad)
    if type(a) is float:
        return a == b or (a != a and b != b)
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b) if isinstance(a, int | str | type(None) | np.generic) else a is b


def mismatch(what: str, line: str) -> CompileError:
    return CompileError(
        f"compile: the replay of the step differs from the eager step in {what}, so the trace froze something "
        f"that changed between calls (a Python number or a tensor fn reads from outside its arguments, a Value's "
        f".data read by hand, ...). Pass what changes as an argument. The step was traced at {line}; the state "
        "the eager step left is kept"
    )
