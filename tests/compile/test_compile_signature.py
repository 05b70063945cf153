"""What re-traces: each part of a compiled step's signature, checked by a test that fails if the part were
left out of the key (the step would replay one trace instead of tracing again), with the compiled run
bit-identical to an eager twin at every step. And hand-written `.grad` writes inside the step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import CompileError, Tensor, Value, nn, optim

Build = Callable[[], tuple[list[Any], Any, Callable[..., Any]]]


def _numbers(x: Any) -> Any:
    """Data and gradient of a parameter or a result, as plain numbers (arrays copied)."""
    if type(x) is Tensor:
        return (np.array(x.data, copy=True), None if x.grad is None else np.array(x.grad, copy=True))
    return (x.data, x.grad)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))
    return a == b


def _state(params: list[Any], opt: Any) -> list[Any]:
    out = [_numbers(p) for p in params]
    for p in params:
        buffers = opt.state.get(p) or {}
        out += [(k, np.array(v, copy=True) if isinstance(v, np.ndarray) else v) for k, v in sorted(buffers.items())]
    return out


def _as_input(x: Any) -> Any:
    """An argument as the compiled step takes it: an array becomes a Tensor input (the docs' rule)."""
    return Tensor(x) if isinstance(x, np.ndarray) else x


def _lockstep(build: Build, calls: list[tuple[Any, ...]], between: Callable[[int, Any, Any], None] | None = None):
    """Run a compiled step and an eager twin over `calls`; after each, everything must be equal bit for bit.

    `between(k, params, opt)` changes both twins the same way before call k. Returns the compiled step.
    """
    params_e, opt_e, step_e = build()
    params_c, opt_c, step_c = build()
    compiled = tg.compile(step_c)
    for k, args in enumerate(calls):
        if between is not None:
            between(k, params_e, opt_e)
            between(k, params_c, opt_c)
        out_e, out_c = step_e(*map(_as_input, args)), compiled(*args)
        assert _same(_numbers(out_e), _numbers(out_c)), f"the returned loss differs at call {k}"
        for i, (a, b) in enumerate(zip(_state(params_e, opt_e), _state(params_c, opt_c), strict=True)):
            assert _same(a, b), f"state item {i} differs after call {k}"
    return compiled


def _values(make_opt: Callable[[list[Any]], Any] = lambda ps: optim.SGD(ps, lr=0.1), zero: bool = True) -> Build:
    """A small scalar model: two weights and a bias, squared error, an optimizer."""

    def build() -> tuple[list[Any], Any, Callable[..., Any]]:
        w = [Value(0.7, name="w1"), Value(-0.4, name="w2"), Value(0.1, name="b")]
        opt = make_opt(w)

        def step(x: Any, t: Any) -> Any:
            if zero:
                opt.zero_grad()
            loss = ((w[0] * x[0] + w[1] * x[1] + w[2]).tanh() - t) ** 2
            loss.backward()
            opt.step()
            return loss

        return w, opt, step

    return build


def _tensors(make_opt: Callable[[list[Any]], Any] = lambda ps: optim.SGD(ps, lr=0.1), zero: bool = True) -> Build:
    def build() -> tuple[list[Any], Any, Callable[..., Any]]:
        model = nn.Sequential(nn.Linear(3, 4, generator=0), nn.Tanh(), nn.Linear(4, 1, generator=1))
        params = list(model.parameters())
        opt = make_opt(params)

        def step(x: Any) -> Any:
            if zero:
                opt.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        return params, opt, step

    return build


SCALAR_CALLS = [([0.5 + k / 10, -1.0 + k / 7], 0.25) for k in range(5)]
TENSOR_CALLS = [(np.random.default_rng(k).standard_normal((4, 3)).astype(np.float32),) for k in range(5)]


# ---------------------------------------------------------------------- input shapes, dtypes and the engine


def test_a_new_input_shape_traces_again() -> None:
    calls = [(np.ones((n, 3), np.float32) * k,) for k, n in enumerate((4, 4, 6, 6, 4))]
    assert _lockstep(_tensors(), calls).traces == 2


def test_a_new_input_dtype_traces_again() -> None:
    def build() -> tuple[list[Any], Any, Callable[..., Any]]:
        # elementwise: a float32 weight times float64 data promotes (a Linear would refuse it, as PyTorch does)
        w = Tensor(np.array([0.5, -0.25, 0.75], np.float32), requires_grad=True)
        opt = optim.SGD([w], lr=0.1)

        def step(x: Any) -> Any:
            opt.zero_grad()
            loss = ((x * w).tanh().sum(axis=1) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        return [w], opt, step

    calls = [(np.ones((4, 3), dtype) * 0.3,) for dtype in (np.float32, np.float32, np.float64, np.float64, np.float32)]
    assert _lockstep(build, calls).traces == 2


def test_a_list_of_another_length_traces_again() -> None:
    def build() -> tuple[list[Any], Any, Callable[..., Any]]:
        w = [Value(0.5, name="w")]
        opt = optim.SGD(w, lr=0.1)

        def step(xs: Any) -> Any:
            opt.zero_grad()
            loss = sum((w[0] * x - 1.0) ** 2 for x in xs)
            loss.backward()
            opt.step()
            return loss

        return w, opt, step

    calls = [([1.0, 2.0],), ([0.5, 1.5],), ([1.0, 2.0, 3.0],), ([0.1, 0.2, 0.3],)]
    assert _lockstep(build, calls).traces == 2


def test_the_engine_is_part_of_the_signature() -> None:
    """The same function on Values (a list) and on Tensors (an array): one trace per engine."""

    def fn(x: Any) -> Any:
        return x * 2.0 + 1.0 if type(x) is not list else [v * 2.0 + 1.0 for v in x]

    compiled = tg.compile(fn)
    for x in ([1.5, -2.0], np.array([1.5, -2.0]), [0.25, 4.0], np.array([0.25, 4.0])):
        out = compiled(x)
        if type(x) is list:
            assert [v.data for v in out] == [v.data for v in fn([Value(v, requires_grad=False) for v in x])]
        else:
            assert out.data.tolist() == fn(Tensor(x)).data.tolist()
    assert compiled.traces == 2


# ---------------------------------------------------------------------- which .grad are None


@pytest.mark.parametrize("engine", ["scalar", "tensor"])
def test_gradients_left_from_the_last_step_trace_again(engine: str) -> None:
    """No zero_grad: the first call writes p.grad = g, the later ones p.grad += g (another trace)."""
    build, calls = (_values(zero=False), SCALAR_CALLS) if engine == "scalar" else (_tensors(zero=False), TENSOR_CALLS)
    assert _lockstep(build, calls).traces == 2


def test_gradients_cleared_by_hand_between_calls_replay_the_first_trace() -> None:
    def clear(k: int, params: list[Any], opt: Any) -> None:
        for p in params:
            p.grad = None

    assert _lockstep(_values(zero=False), SCALAR_CALLS, clear).traces == 1


# ---------------------------------------------------------------------- which optimizer buffers exist

OPTIMIZERS = {
    "momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    "nesterov": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda ps: optim.Adam(ps, lr=0.05),
}


@pytest.mark.parametrize("engine", ["scalar", "tensor"])
@pytest.mark.parametrize("which", sorted(OPTIMIZERS))
def test_the_first_step_of_an_optimizer_with_buffers_is_a_trace_of_its_own(engine: str, which: str) -> None:
    """SGD's momentum buffer and Adam's averages are made by the first step; the steps after it take the
    other branch. Clearing the state (a restart) takes the first branch again: its trace is still cached."""

    def restart(k: int, params: list[Any], opt: Any) -> None:
        if k == 3:
            opt.state.clear()

    build = _values(OPTIMIZERS[which]) if engine == "scalar" else _tensors(OPTIMIZERS[which])
    calls = SCALAR_CALLS if engine == "scalar" else TENSOR_CALLS
    compiled = _lockstep(build, calls, restart)
    assert compiled.traces == 2


def test_plain_sgd_holds_no_buffers_and_traces_once() -> None:
    assert _lockstep(_values(), SCALAR_CALLS).traces == 1


# ---------------------------------------------------------------------- requires_grad and the parameter arrays


def test_a_value_that_stops_requiring_grad_traces_again() -> None:
    def freeze(k: int, params: list[Any], opt: Any) -> None:
        if k == 2:
            params[1].requires_grad = False

    compiled = _lockstep(_values(), SCALAR_CALLS, freeze)
    assert compiled.traces == 2


def test_a_tensor_given_a_new_array_traces_again() -> None:
    def swap(k: int, params: list[Any], opt: Any) -> None:
        if k == 2:
            params[0].data = np.full_like(params[0].data, 0.05)

    assert _lockstep(_tensors(), TENSOR_CALLS, swap).traces == 2


def test_a_value_given_a_new_number_replays() -> None:
    """A Value's number is read at every replay (`w1 = params.w1.data`), so p.data = x needs no new trace."""

    def nudge(k: int, params: list[Any], opt: Any) -> None:
        params[0].data = 0.3 + k

    assert _lockstep(_values(), SCALAR_CALLS, nudge).traces == 1


# ---------------------------------------------------------------------- .grad written by hand inside the step


class _Holder:
    """Parameters kept in a plain object: what compile finds by looking into the objects fn reaches."""


def _hand_cleared(value: Any) -> Build:
    def build() -> tuple[list[Any], Any, Callable[..., Any]]:
        holder = _Holder()
        holder.w = [Value(0.7), Value(-0.4), Value(0.1)]
        holder.opt = optim.SGD(holder.w, lr=0.1)

        def step(x: Any, t: Any) -> Any:
            for p in holder.w:
                p.grad = value  # by hand, as micrograd's zero_grad does (p.grad = 0)
            loss = ((holder.w[0] * x[0] + holder.w[1] * x[1] + holder.w[2]).tanh() - t) ** 2
            loss.backward()
            holder.opt.step()
            return loss

        return holder.w, holder.opt, step

    return build


@pytest.mark.parametrize("value", [None, 0, 0.0])
def test_a_gradient_set_by_hand_in_the_step_is_replayed_and_traces_once(value: Any) -> None:
    compiled = _lockstep(_hand_cleared(value), SCALAR_CALLS)
    assert compiled.traces == 1
    assert f".grad = {value!r}  # set by hand in the step" in compiled.source


def test_a_gradient_set_by_hand_to_a_value_is_refused() -> None:
    w = Value(0.5)

    def step(x: Any) -> Any:
        w.grad = x[0]  # a traced Value as a gradient: the replay could not do this
        loss = w * x[0]
        loss.backward()
        return loss

    with pytest.raises(CompileError, match=r"p\.grad = <a Value> by hand"):
        tg.compile(step)([2.0])


# ---------------------------------------------------------------------- the package's own functions are trace-safe


@pytest.mark.parametrize("which", ["softmax", "log_softmax"])
def test_softmax_on_values_shifts_by_each_call_s_own_maximum(which: str) -> None:
    """softmax's shift max(x) is a node of the graph (`max(...)` in the code), not a float read at trace time:
    with call 1's maximum frozen, call 2's e^(800 - 1) would overflow; with the node it equals eager."""
    from tinygrad_edu.nn import functional as F

    w = Value(1.0, name="w")
    fn = getattr(F, which)

    def step(x: Any) -> Any:
        out = fn([w * v for v in x])
        out[0].backward()
        return out

    compiled = tg.compile(step)
    for x in ([0.0, 1.0, 0.5], [800.0, 0.0, -3.0], [-2.0, 650.0, 0.25], [0.0, 1.0, 0.5]):
        w.grad = None
        eager = step([Value(v, requires_grad=False) for v in x])
        eager_grad = w.grad
        w.grad = None
        replay = compiled(x)
        assert [v.data for v in replay] == [v.data for v in eager] and w.grad == eager_grad
    assert compiled.traces == 1 and "max(" in compiled.source


def test_a_tensor_gradient_cleared_by_hand_in_the_step_traces_once_more_and_equals_eager() -> None:
    """On the tensor engine the hand-written clear is not recorded: call 2 (its .grad filled by call 1) traces
    again, and from then on every call replays; every call equals eager."""

    def build() -> tuple[list[Any], Any, Callable[..., Any]]:
        w = Tensor(np.full((3, 1), 0.3, np.float32), requires_grad=True)
        opt = optim.SGD([w], lr=0.1)

        def step(x: Any) -> Any:
            w.grad = None
            loss = (x @ w).sum()
            loss.backward()
            opt.step()
            return loss

        return [w], opt, step

    assert _lockstep(build, TENSOR_CALLS).traces == 2
