"""`fits(args)`, the generated test a call runs before it replays a trace, says yes exactly when the general
check would: the call's signature (`inputs.signature`) equals the trace's and the guard holds.
`replay(compiled, *args)`, the same test with the step's code behind it (a compiled step's `__call__`),
runs the code exactly when `fits` says yes, and otherwise hands the call to the compiled step's search."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value, optim
from tinygrad_edu.compile import CompiledStep
from tinygrad_edu.compile.fits import fits_functions
from tinygrad_edu.compile.inputs import signature
from tinygrad_edu.compile.record import group_params


class _Sub(np.ndarray):
    pass


def _tensor(requires_grad: Any) -> Tensor:
    t = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    t.requires_grad = requires_grad  # (a plain slot: a user may put 1 or np.True_ there)
    return t


ARGUMENTS: list[Any] = [
    np.ones((2, 3), np.float32),
    np.ones((2, 3), np.float64),
    np.ones((3, 2), np.float32),
    np.ones((2, 3), ">f4"),  # big-endian: another dtype.str
    np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]),  # structured: dtype.str '|V8'
    np.ones((2, 3), np.float32).view(_Sub),
    np.ones((2, 3), np.float32, order="F"),  # column by column: another layout (tape.layout)
    np.ones((2, 6), np.float32)[:, ::2],  # strided
    Tensor(np.ones((2, 3), np.float32, order="F"), requires_grad=True),
    _tensor(True),
    _tensor(False),
    _tensor(np.True_),
    _tensor(1),
    Value(1.0),
    Value(2.0, requires_grad=False),
    1.0,
    2,
    True,
    np.float32(1.0),
    np.int64(3),
    [1.0, 2.0],
    [[1.0], [2.0, 3.0]],
    (1.0, 2.0),
    [],
]


def _ran(*args: Any) -> Any:
    """A stand-in for a trace's code: what it was called with, and whether NumPy warned then."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            np.float64(1.0) / np.float64(0.0)
            warned = False
        except RuntimeWarning:
            warned = True
    return args, warned


def _other(compiled: Any, args: tuple[Any, ...]) -> Any:
    return ("other", compiled, args)  # what a compiled step's search would get


def fits_function(key: tuple[Any, ...], guard: list[tuple[Any, ...]], optimizers: list[tuple[Any, Any]]) -> Any:
    return fits_functions(key, guard, optimizers, _ran, [], _other)[0]


@pytest.mark.parametrize("traced", range(len(ARGUMENTS)))
def test_fits_agrees_with_the_signature_for_every_pair(traced: int) -> None:
    key = signature((ARGUMENTS[traced],))
    fits, replay = fits_functions(key, [], [], _ran, [], _other)
    compiled = object()
    for call in ARGUMENTS:
        expected = signature((call,)) == key
        assert fits((call,)) == expected, (ARGUMENTS[traced], call)
        out = replay(compiled, call)
        if expected:
            assert out[0][0] is call and out[1] is False  # the code ran on the call's own argument, quietly
        else:
            assert out[0] == "other" and out[1] is compiled and out[2][0] is call, (ARGUMENTS[traced], call)


def test_replay_restores_the_warning_state_even_when_the_code_raises() -> None:
    def fails(*args: Any) -> Any:
        raise ValueError("inside")

    _, replay = fits_functions((), [], [], fails, [], _other)
    with pytest.raises(ValueError, match="inside"):
        replay(object())
    with pytest.warns(RuntimeWarning):
        np.float64(1.0) / np.float64(0.0)


def test_fits_checks_the_number_of_arguments() -> None:
    x = np.ones(3)
    fits = fits_function(signature((x, x)), [], [])
    assert fits((x, x)) and not fits((x,)) and not fits((x, x, x))


def test_fits_checks_the_guard_as_the_trace_recorded_it() -> None:
    p = Tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    guard = [(p, p.data, True, p.requires_grad)]
    fits = fits_function((), guard, [(opt, (), group_params(opt))])
    assert fits(())
    p.grad = np.ones(3)
    assert not fits(())  # the trace had no .grad here
    p.grad = None
    p.requires_grad = 1  # a truthy non-bool: not what the trace saw
    assert not fits(())
    p.requires_grad = True
    p.data = np.ones(3)  # a new array: another trace
    assert not fits(())
    p.data = guard[0][1]
    p.grad = np.ones(3)
    opt.step()  # momentum makes its buffer: another branch of the update
    p.grad = None
    assert not fits(())


def test_a_step_with_a_truthy_non_bool_requires_grad_replays() -> None:
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    w.requires_grad = 1
    opt = optim.SGD([w], lr=0.1)

    def step(x: Any) -> Any:
        opt.zero_grad()
        loss = (x @ w).sum()
        loss.backward()
        opt.step()
        return loss

    compiled = tg.compile(step)
    for _ in range(4):
        compiled(np.ones((4, 3)))
    assert compiled.traces == 1


def test_cache_size_zero_keeps_no_trace() -> None:
    calls = itertools.count()

    def step(x: Any) -> Any:
        next(calls)
        return x * 2.0

    compiled = tg.compile(step, cache_size=0)
    for _ in range(3):
        compiled(np.ones(2))
    assert compiled.traces == 3 and next(calls) == 3


def test_a_trace_the_cache_dropped_no_longer_answers_calls() -> None:
    """The usual call goes straight to the used trace's replay; once the cache drops that trace, a call
    that would have fitted it traces again, as the cache size says, and the numbers stay eager's."""
    w = Tensor(np.full(3, 0.5), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def step(x: Any) -> Any:
        opt.zero_grad()
        loss = (x * w).sum()
        loss.backward()
        opt.step()
        return loss

    compiled = tg.compile(step, cache_size=1)
    a, b = np.ones((2, 3)), np.ones((4, 3))
    for _ in range(3):  # traced, checked, replayed: now the step's __call__ is this trace's replay
        compiled(a)
    assert compiled.traces == 1 and type(compiled).__call__ is not CompiledStep.__call__
    compiled(b)  # another shape: a second trace, and the first is dropped
    assert type(compiled).__call__ is CompiledStep.__call__
    compiled(a)
    assert compiled.traces == 3
    np.testing.assert_array_equal(w.data, 0.5 - 0.1 * 2 - 0.1 * 2 - 0.1 * 2 - 0.1 * 4 - 0.1 * 2)


def test_each_compiled_step_answers_its_own_calls() -> None:
    """Two compiled steps replay their own code (each has a class of its own for the fast call)."""
    w = Tensor(np.zeros(2), requires_grad=True)
    first, second = tg.compile(lambda x: (x * w).sum()), tg.compile(lambda x: (x * w).sum() * 2.0)
    x = np.ones(2)
    for _ in range(3):
        assert float(first(x).data) == 0.0 and float(second(x).data) == 0.0
    w.data[:] = 1.0
    assert float(first(x).data) == 2.0 and float(second(x).data) == 4.0
    assert isinstance(first, CompiledStep) and type(first) is not type(second)


def _saturated_sigmoid_step() -> tuple[Any, Any, Any]:
    model = tg.nn.Sequential(tg.nn.Linear(3, 2, generator=0), tg.nn.Sigmoid())
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x: Any) -> Any:
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
        return loss

    return model, step, np.full((4, 3), -1000.0, np.float32)  # e^-x overflows: sigmoid is 0


def test_a_replay_is_as_quiet_as_the_eager_step_and_gives_its_numbers() -> None:
    """Eager, sigmoid's e^-x overflows quietly (np.errstate); written out, the replay must be quiet too."""
    import warnings

    model, step, x = _saturated_sigmoid_step()
    eager_model, eager_step, _ = _saturated_sigmoid_step()
    compiled = tg.compile(step)
    before = np.geterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning fails the test
        for _ in range(4):
            loss = compiled(x)
            eager_loss = eager_step(Tensor(x))
            assert np.array_equal(loss.data, eager_loss.data)
    assert np.geterr() == before  # the state is put back after every call
    for p, q in zip(model.parameters(), eager_model.parameters()):
        assert np.array_equal(p.data, q.data) and np.array_equal(p.grad, q.grad)
