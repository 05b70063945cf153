"""Every op of both engines, compiled, against the eager engine bit for bit (forward and gradients).

The op lists come from the engines themselves (`ops.TABLE`, `sweep.RULES`): an op added there without
an entry here fails `test_*_covers_every_op`, so a new op is checked the day it is added.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from op_cases import TENSOR_OPS  # (shared with tests/engine/test_leaf_grad_ownership.py)
from test_compile_replay import training_step

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value, ops, weighted_sum
from tinygrad_edu.sweep import RULES

Fn = Callable[[Any, Any], Any]

SCALAR_OPS: dict[str, Fn] = {
    "+": lambda a, b: a + b + 2.0,
    "*": lambda a, b: a * b * 3.0,
    "**": lambda a, b: a**2 + (a * a + 1.0) ** b + (a * a + 1.0) ** -0.5,
    "exp": lambda a, b: a.exp(),
    "log": lambda a, b: (a * a + 0.5).log(),
    "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: a.sigmoid() + (-a).sigmoid(),
    "relu": lambda a, b: a.relu() + b.relu(),
    "Σw·x": lambda a, b: weighted_sum([a, b], [b, 3.0], 0.5) + weighted_sum([a], [b], b),
}


def test_tensor_ops_cover_every_op() -> None:
    assert set(TENSOR_OPS) == {op.__name__ for op in ops.TABLE}


def test_scalar_ops_cover_every_op() -> None:
    assert set(SCALAR_OPS) == set(RULES)


def _tensor_params(seed: int) -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(seed)
    return (
        Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True),
        Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True),
    )


@pytest.mark.parametrize("name", sorted(TENSOR_OPS))
def test_tensor_op_compiled_equals_eager(name: str) -> None:
    f = TENSOR_OPS[name]

    def make() -> tuple[Any, Callable[..., Any]]:
        px, py = _tensor_params(0)

        def step(u: Any, weights: Any) -> Any:
            out = f(px * u, py + u)
            loss = (out * weights[: out.shape[0], : out.shape[1]]).sum() if out.ndim == 2 else out.sum()
            loss.backward()
            return out

        return (px, py), step

    (ex, ey), eager = make()
    (cx, cy), step = make()
    compiled = tg.compile(step)
    rng = np.random.default_rng(1)
    for _ in range(4):
        u = rng.standard_normal((3, 4)).astype(np.float32)
        weights = rng.standard_normal((6, 4)).astype(np.float32)
        for p in (ex, ey, cx, cy):
            p.grad = None
        out_e, out_c = eager(Tensor(u), weights), compiled(u, weights)
        assert out_e.data.dtype == out_c.data.dtype and np.array_equal(out_e.data, out_c.data)
        for e, c in ((ex, cx), (ey, cy)):
            assert (e.grad is None) == (c.grad is None)
            if e.grad is not None:
                assert e.grad.dtype == c.grad.dtype and np.array_equal(e.grad, c.grad), name
    assert compiled.traces == 1


@pytest.mark.parametrize("name", sorted(SCALAR_OPS))
def test_scalar_op_compiled_equals_eager(name: str) -> None:
    f = SCALAR_OPS[name]

    def make() -> tuple[Any, Callable[..., Any]]:
        pa, pb = Value(0.7, name="a"), Value(-0.4, name="b")

        def step(u: Any) -> Any:
            out = f(pa * u, pb + u)
            out.backward()
            return out

        return (pa, pb), step

    (ea, eb), eager = make()
    (ca, cb), step = make()
    compiled = tg.compile(step)
    for u in (0.5, -1.5, 2.0, -0.25, 0.0, 3.0):  # both sides of relu's and sigmoid's branches
        for p in (ea, eb, ca, cb):
            p.grad = None
        out_e, out_c = eager(Value(u, requires_grad=False)), compiled(u)
        assert out_e.data == out_c.data
        assert (ea.grad, eb.grad) == (ca.grad, cb.grad), name
    assert compiled.traces == 1


def test_the_scalar_forward_formulas_are_the_ones_value_py_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Value.sigmoid and Value.relu compute through one formula each (value.py's `_sigmoid`, `_relu`), and the
    generated code is that formula run on stand-ins: a different formula there changes both, never one alone."""
    from tinygrad_edu import value as value_py

    monkeypatch.setattr(value_py, "_sigmoid", lambda a, exp=math.exp: 1.0 / (1.0 + exp(-a)))  # one branch
    monkeypatch.setattr(value_py, "_relu", lambda a: a if a > 0 else 0.0 * a)  # keeps -0.0 for negative inputs
    w = Value(0.3, name="w")

    def step(u: Any) -> Any:
        out = (w * u).sigmoid() + (w * u).relu()
        out.backward()
        return out

    compiled = tg.compile(step)
    for u in (2.0, -3.0, 0.5, -0.5):
        w.grad = None
        eager = step(Value(u, requires_grad=False))
        w.grad = None
        replay = compiled(u)
        assert math.copysign(1.0, replay.data) == math.copysign(1.0, eager.data) and replay.data == eager.data
    source = compiled.source
    sigmoid_line = next(line for line in source.splitlines() if "# sigmoid:" in line and "math.exp" in line)
    assert "1.0 / (1.0 + math.exp(-" in sigmoid_line and " if " not in sigmoid_line  # the patched one branch
    assert "0.0 * mul" in source  # the patched relu's negative branch


# Each scalar op that refuses some numbers eagerly, with a batch it takes (traced, checked, replayed) and
# one it refuses: the replay must refuse it too, with eager's error, before it changes any state.
SCALAR_REFUSALS: dict[str, tuple[Fn, float]] = {
    "log of a negative number": (lambda a, b: (a * 2.0).log(), -1.5),
    "log of 0": (lambda a, b: (a * 2.0).log(), 0.0),
    "exp that overflows": (lambda a, b: (a * 0.01).exp(), 1e6),
    "a number divided by 0": (lambda a, b: 1.0 / (a * 2.0), 0.0),
    "a negative base to a fractional power": (lambda a, b: (a * 2.0) ** 0.5, -1.5),
    "0 to a negative power": (lambda a, b: (a * 2.0) ** -2.0, 0.0),
    "division by 0": (lambda a, b: b / (a * 2.0), 0.0),
    "a negative base to a Value power that needs a gradient": (lambda a, b: (a * 2.0) ** b, -1.5),
}


@pytest.mark.parametrize("name", sorted(SCALAR_REFUSALS))
def test_a_scalar_op_refuses_at_a_replay_what_eager_refuses(name: str) -> None:
    """Before, a replay raised Python's own ValueError, ZeroDivisionError or OverflowError, or, for a negative
    base to a fractional power, computed a complex number and wrote it into the parameters."""
    f, refused = SCALAR_REFUSALS[name]

    def make() -> tuple[Any, Any, Callable[..., Any]]:
        pa, pb = Value(0.7, name="a"), Value(0.3, name="b")
        opt = tg.optim.SGD([pa, pb], lr=0.001)
        return pa, pb, training_step(opt, lambda u: f(pa * u, pb + u))

    ea, eb, eager = make()
    ca, cb, step = make()
    compiled = tg.compile(step)
    for u in (0.25, 0.5, 0.75):
        assert eager(Value(u, requires_grad=False)).data == compiled(u).data
    with pytest.raises(tg.TinygradEduError) as eager_error:
        eager(Value(refused, requires_grad=False))
    with pytest.raises(tg.TinygradEduError) as replay_error:
        compiled(refused)
    assert type(replay_error.value) is type(eager_error.value)
    if "divided" not in name and "division" not in name:  # (a replay sees y ** -1, and says so: "Value ** -1: ...")
        assert str(replay_error.value) == str(eager_error.value)
    assert (ca.data, cb.data, ca.grad, cb.grad) == (ea.data, eb.data, ea.grad, eb.grad)
    assert compiled.traces == 1
