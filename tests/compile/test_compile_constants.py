"""What a compiled tensor step computes from fixed numbers alone (constants of the trace, `np.arange`, and the seed
dL/dL = 1 that backward starts from) is made once, at trace time: cross-entropy's `g / n` becomes a constant.
Such a value is never handed over (a `.grad` stays a new array at every call, as eager gives) and never one
that the step writes into; every replay still leaves exactly what eager leaves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_compile_replay import _equal, _state, training_step

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, ops, optim, tensor


def _compare(loss_of: Any, steps: int = 5, scribble: bool = False) -> tuple[str, list[Any]]:
    """An eager and a compiled copy of one tiny model side by side; `scribble` writes into each `.grad`
    after every call (a user may: they are theirs). Returns the source and the compiled copy's grads."""

    def build() -> Any:
        w = Tensor(np.linspace(-1.0, 1.0, 12, dtype=np.float32).reshape(4, 3), requires_grad=True)
        model = nn.Module()
        model.w = w
        opt = optim.SGD([w], lr=0.1)
        return model, opt, training_step(opt, lambda x, y: loss_of(x, w, y))

    model_e, opt_e, step_e = build()
    model_c, opt_c, step_c = build()
    compiled = tg.compile(step_c)
    rng = np.random.default_rng(0)
    grads = []
    for k in range(steps):
        x, y = rng.standard_normal((5, 4)).astype(np.float32), rng.integers(0, 3, 5)
        loss_e, loss_c = step_e(x, y), compiled(x, y)
        assert _equal(np.asarray(loss_e.data), np.asarray(loss_c.data)), f"loss differs at step {k}"
        assert _equal(loss_e.grad, loss_c.grad), f"the loss's gradient differs at step {k}"
        for i, (a, b) in enumerate(zip(_state(model_e, opt_e), _state(model_c, opt_c), strict=True)):
            assert _equal(a, b), f"state item {i} differs after step {k}"
        grads.append(model_c.w.grad)
        if scribble:
            for m in (model_e, model_c):
                m.w.grad *= 1000.0
                m.w.grad += 7.0
    return compiled.source, grads


def test_cross_entropy_divides_the_seed_by_n_once_at_trace_time() -> None:
    source, _ = _compare(lambda x, w, y: tg.cross_entropy(x @ w, y))
    assert "c: 0.2 (a 0-d float32 array)  # np.divide(one, 5), made once" in source
    backward = source.split("# ---- backward")[1]
    assert "np.divide(one" not in backward and "np.divide(g_" not in backward


CASES = {
    "scaled sum": lambda x, w, y: ((x @ w) * 3.0).sum(),
    "mean": lambda x, w, y: (x @ w).mean(),
    "sum of w alone": lambda x, w, y: (w * 3.0).sum() + (x @ w).sum(),
    "picked rows, repeated": lambda x, w, y: w[np.array([0, 0, 2])].sum() + (x @ w).mean(),
    "max": lambda x, w, y: (x @ w).max() * 2.0,
    "cross-entropy": lambda x, w, y: tg.cross_entropy(x @ w, y),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_from_fixed_numbers_are_new_arrays_at_every_call(case: str) -> None:
    """`(w * 3).sum()` gives w the gradient 3 everywhere, from the seed alone: it is computed at trace time,
    yet each call's `.grad` is a new array, and writing into it changes neither later calls nor the code."""
    _, grads = _compare(CASES[case], steps=5, scribble=True)
    assert len({id(g) for g in grads}) == len(grads)
    for a in grads:
        for b in grads:
            assert a is b or not np.shares_memory(a, b)


def _constants(source: str) -> list[str]:
    return [line for line in source.split("def step")[0].splitlines() if line.startswith("#   ")]


def test_a_value_written_into_is_not_made_once() -> None:
    """Indexing's backward makes zeros and adds the gradient's pieces into them (`np.add.at`): made from
    fixed numbers, but written into, so made at every call (else each call would add onto the last)."""
    source, _ = _compare(lambda x, w, y: w[np.array([1, 1, 3])].sum() + (x @ w).sum() * 0.0, scribble=True)
    assert "np.add.at(" in source
    assert not any("zeros" in line for line in _constants(source))


def test_numbers_written_into_a_fixed_array_are_the_replays_own() -> None:
    """The zeros that indexing's backward fills (`np.add.at`) start fixed; once this call's gradient is added
    into them they are not, so the multiplication by 1.5 after them is computed at every call, not once."""
    source, _ = _compare(lambda x, w, y: (w * 1.5)[np.array([1, 1, 3])].sum() * (x @ w).sum(), scribble=True)
    assert "np.add.at(" in source
    assert not any("made once" in line for line in _constants(source))


@pytest.mark.parametrize("case", ["- b", "+ b", "+ b.reshape(())"])
def test_a_learning_rate_read_at_every_call_is_never_made_once(case: str) -> None:
    """b's gradient comes from the seed alone (±1), yet `lr * g_b` reads the learning rate, which a schedule
    changes between calls: it is computed at every call, not made once with the first rate."""
    shape = (1,) if "reshape" in case else ()
    loss_of = {
        "- b": lambda x, w, b: (x @ w).sum() - b,
        "+ b": lambda x, w, b: (x @ w).sum() + b,
        "+ b.reshape(())": lambda x, w, b: (x @ w).sum() + b.reshape(()),
    }[case]

    def build() -> Any:
        w = Tensor(np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(3, 2), requires_grad=True)
        b = Tensor(np.zeros(shape, np.float32), requires_grad=True)
        opt = optim.SGD([w, b], lr=0.1)

        def step(x: Any) -> Any:
            opt.zero_grad()
            loss = loss_of(x, w, b)
            loss.backward()
            opt.step()
            return loss

        return (w, b), opt, step

    (we, be), opt_e, step_e = build()
    (wc, bc), opt_c, step_c = build()
    compiled = tg.compile(step_c)
    rng = np.random.default_rng(0)
    for k in range(5):
        for opt in (opt_e, opt_c):
            opt.param_groups[0]["lr"] = 0.1 if k < 2 else 0.01 * k  # a schedule, after the checked call
        x = rng.standard_normal((4, 3)).astype(np.float32)
        step_e(x), compiled(x)
        assert np.array_equal(be.data, bc.data) and np.array_equal(we.data, wc.data), f"step {k}"
    assert not any("lr" in line for line in _constants(compiled.source))


def test_backward_from_a_parameter_itself() -> None:
    """`b.backward()` on a parameter the step never used in an op: its gradient is the seed, a new array
    at every call (a copy of `one`, never `one` itself), and the update uses it as eager does."""

    def build() -> Any:
        b = Tensor(np.array(2.0, np.float32), requires_grad=True)
        opt = optim.SGD([b], lr=0.1)

        def step(x: Any) -> Any:
            opt.zero_grad()
            b.backward()
            opt.step()
            return b

        return b, opt, step

    be, _, step_e = build()
    bc, _, step_c = build()
    compiled = tg.compile(step_c)
    grads = []
    for _ in range(4):
        step_e(np.ones(2, np.float32)), compiled(np.ones(2, np.float32))
        assert np.array_equal(be.data, bc.data) and np.array_equal(be.grad, bc.grad)
        grads.append(bc.grad)
        bc.grad += 5.0  # the user's to change
    assert len({id(g) for g in grads}) == len(grads)


class _DoublesItsGradientInPlace(ops.Op, reads=()):
    """A user's op whose backward writes into the gradient it is given (eager allows it: the array is the call's)."""

    @staticmethod
    def forward(x):
        return x * 1.0, None

    @staticmethod
    def backward(saved, g, needs):
        g *= 2.0
        return (g,)


def test_an_op_that_writes_into_the_seed_gets_a_copy_of_its_own() -> None:
    """The seed `one` is shared by every call: an op's backward that writes into its gradient is given the
    call's own copy (which becomes the loss's .grad, as eager leaves it), never `one` itself."""
    source, _ = _compare(lambda x, w, y: tensor._apply(_DoublesItsGradientInPlace, ((x @ w).sum(),)), steps=6)
    assert "_DoublesItsGradientInPlace.backward(" in source and "one *=" not in source
