"""nn's global forward hooks (PyTorch's `register_module_forward_pre_hook` / `register_module_forward_hook`),
and `viz.record_modules()`, which draws module clusters through them."""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import pytest

from tinygrad_edu import ArgumentTypeError, Tensor, nn
from tinygrad_edu.nn import hooks
from tinygrad_edu.nn.module import register_module_forward_hook, register_module_forward_pre_hook
from tinygrad_edu.viz import record_modules


def mlp() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(2, 3, generator=0, dtype=np.float64), nn.Sigmoid(), nn.Linear(3, 2, generator=1, dtype=np.float64)
    )


def by_numpy(model: nn.Sequential, x: np.ndarray) -> list[np.ndarray]:
    """Each layer's output, computed with NumPy from the weights: y = x Wᵀ + b, σ(s) = 1 / (1 + e^-s)."""
    w0, b0, w2, b2 = (np.asarray(p.data, np.float64) for p in model.parameters())
    h = x @ w0.T + b0
    a = 1 / (1 + np.exp(-h))
    return [h, a, a @ w2.T + b2]


@pytest.fixture(autouse=True)
def no_hooks_left():
    """Every test leaves the registry as it found it: empty, so `Module.__call__` takes its fast path."""
    assert not hooks.active
    yield
    assert not hooks.active and hooks._pre == () and hooks._post == ()


def test_pre_and_post_hooks_see_the_module_its_inputs_and_its_output_nested():
    model, x = mlp(), np.array([[0.5, -1.0]])
    events = []
    pre = register_module_forward_pre_hook(lambda m, args: events.append(("pre", m, args)))
    post = register_module_forward_hook(lambda m, args, out: events.append(("post", m, args, out)))
    out = model(Tensor(x))
    pre.remove()
    post.remove()
    h, a, y = by_numpy(model, x)
    kinds = [(e[0], type(e[1]).__name__) for e in events]
    assert kinds == [
        ("pre", "Sequential"),
        ("pre", "Linear"),
        ("post", "Linear"),
        ("pre", "Sigmoid"),
        ("post", "Sigmoid"),
        ("pre", "Linear"),
        ("post", "Linear"),
        ("post", "Sequential"),
    ]
    assert events[0][1] is model and events[1][1] is model[0] and events[-1][1] is model
    np.testing.assert_allclose(events[1][2][0].data, x)  # the first Linear's input
    np.testing.assert_allclose(events[2][3].data, h)  # ... its output
    np.testing.assert_allclose(events[4][3].data, a)  # the Sigmoid's output
    assert events[-1][3] is out
    np.testing.assert_allclose(out.data, y, rtol=1e-6)


def test_hook_results_replace_the_inputs_and_the_output_as_in_pytorch():
    model, x = mlp(), np.array([[0.5, -1.0]])
    layer = model[0]
    doubled = register_module_forward_pre_hook(lambda m, args: (args[0] * 2.0,) if m is layer else None)
    bare = register_module_forward_pre_hook(lambda m, args: args[0] * 1.0 if m is layer else None)  # not a tuple
    plus_one = register_module_forward_hook(lambda m, args, out: out + 1.0 if m is model else None)
    try:
        out = model(Tensor(x))
    finally:
        for handle in (doubled, bare, plus_one):
            handle.remove()
    np.testing.assert_allclose(out.data, by_numpy(model, 2 * x)[-1] + 1.0, rtol=1e-6)
    np.testing.assert_allclose(model(Tensor(x)).data, by_numpy(model, x)[-1], rtol=1e-6)  # removed: as before


def test_remove_stops_the_hook_and_is_harmless_twice_and_works_as_a_context_manager():
    model, seen = mlp(), []
    handle = register_module_forward_hook(lambda m, args, out: seen.append(m))
    assert hooks.active
    model(Tensor(np.ones((1, 2))))
    assert len(seen) == 4  # Sequential and its 3 layers
    handle.remove()
    handle.remove()
    assert not hooks.active
    model(Tensor(np.ones((1, 2))))
    assert len(seen) == 4
    with register_module_forward_pre_hook(lambda m, args: seen.append(m)) as inner:
        assert hooks.active and isinstance(inner.id, int)
        model[1](Tensor(np.ones((1, 2))))
    assert seen[-1] is model[1] and len(seen) == 5


def test_a_hook_must_be_callable():
    with pytest.raises(ArgumentTypeError, match="register_module_forward_hook: hook must be callable, got int"):
        register_module_forward_hook(3)
    with pytest.raises(TypeError, match="pre_hook: hook must be callable"):
        register_module_forward_pre_hook("print")


class Boom(nn.Module):
    def forward(self, x):
        raise ValueError("boom")


class Catches(nn.Module):
    """Calls a child that raises, catches the error, and goes on: the child's call never finishes."""

    def __init__(self):
        super().__init__()
        self.boom = Boom()
        self.act = nn.Tanh()

    def forward(self, x):
        with contextlib.suppress(ValueError):
            self.boom(x)
        return self.act(x * 2.0)


def test_forward_that_raises_calls_no_forward_hook_and_leaves_no_stale_recording():
    seen = []
    with register_module_forward_hook(lambda m, args, out: seen.append(m)):
        with pytest.raises(ValueError, match="boom"), record_modules() as calls:
            Boom()(Tensor(np.ones(2)))
        assert seen == [] and len(calls) == 0 and calls._open == []
    model = Catches()
    x = Tensor(np.array([0.3, -0.2]), requires_grad=True)
    with record_modules() as calls:
        out = model(x)
    np.testing.assert_allclose(out.data, np.tanh(2 * np.array([0.3, -0.2])))
    recorded = {type(m).__name__: (start, end) for m, start, end in calls.calls}
    assert set(recorded) == {"Catches", "Tanh"}  # Boom's call raised: not recorded
    start, end = recorded["Catches"]
    s1, e1 = recorded["Tanh"]
    assert start < s1 < out._order < e1 < end  # the Tanh made `out`, inside the outer call
    assert not start < x._order < end and calls._open == []


def test_record_modules_ticks_bracket_the_nodes_each_call_made():
    model = mlp()
    x = Tensor(np.ones((1, 2)), requires_grad=True)
    model(x)  # outside: not recorded
    with record_modules() as calls:
        out = model(x)
    assert [m for m, _, _ in calls.calls] == [model[0], model[1], model[2], model]  # in the order they finished
    ranges = {id(m): (s, e) for m, s, e in calls.calls}
    start, end = ranges[id(model)]
    assert start < out._order < end and not start < x._order < end
    hidden = out._parents[0]  # the sigmoid's output, made inside model[1]'s call
    s1, e1 = ranges[id(model[1])]
    assert s1 < hidden._order < e1 and start < s1 and e1 < end
    model(x)
    assert len(calls) == 4  # the block is over: nothing more is recorded


def test_record_modules_keeps_only_its_own_threads_calls():
    model = mlp()
    started, release = threading.Event(), threading.Event()

    def other() -> None:
        started.wait()
        model(Tensor(np.ones((1, 2))))
        release.set()

    thread = threading.Thread(target=other)
    thread.start()
    with record_modules() as calls:
        started.set()
        release.wait(10)
        model[1](Tensor(np.ones((1, 2))))
    thread.join()
    assert [m for m, _, _ in calls.calls] == [model[1]]
