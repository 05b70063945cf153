"""What a compiled step refuses, and the second call's comparison. Each case would silently give a
different answer on replay without its refusal: the trace would freeze the value it read."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from test_compile_replay import training_step

import tinygrad_edu as tg
from tinygrad_edu import CompileError, Tensor, Value, nn, optim


def _model() -> tuple[Any, Any]:
    model = nn.Sequential(nn.Linear(3, 2, generator=0))
    return model, optim.SGD(model.parameters(), lr=0.1)


X1 = np.array([[1.0, 2.0, 3.0]], np.float32)
X2 = np.array([[-1.0, 0.5, 2.0]], np.float32)


def _raises_at_trace(step: Any, *args: Any, match: str) -> CompileError:
    compiled = tg.compile(step)
    with pytest.raises(CompileError, match=match) as info:
        compiled(*args)
    assert "test_compile_refusals.py" in str(info.value)  # it names the line of fn
    return info.value


def test_python_if_on_a_traced_value_is_refused() -> None:
    """The branch taken at trace time would freeze: later calls would always take it."""
    model, _ = _model()

    def step(x: Any) -> Any:
        loss = model(x).sum()
        if loss.item() > 0:  # eagerly this depends on x; a replay would always do what call 1 did
            loss = loss * 2.0
        loss.backward()
        return loss

    _raises_at_trace(step, X1, match="item")


@pytest.mark.parametrize("read", ["float", "bool", "tolist", "numpy", "data_float", "data_ufunc", "data_index"])
def test_reading_a_traced_tensor_into_python_is_refused(read: str) -> None:
    model, _ = _model()

    def step(x: Any) -> Any:
        out = model(x).sum()
        if read == "float":
            scale = float(out)
        elif read == "bool":
            scale = 1.0 if out else 0.0
        elif read == "tolist":
            scale = out.tolist()
        elif read == "numpy":
            scale = out.numpy().sum()
        elif read == "data_float":
            scale = float(out.data)
        elif read == "data_ufunc":
            scale = np.exp(out.data)
        else:
            scale = out.data[()]
        return out * scale

    _raises_at_trace(step, X1, match="traced")


def test_reading_a_traced_value_is_refused() -> None:
    w = Value(0.5)

    def step(x: Any) -> Any:
        s = w * x
        return s * (2.0 if s.item() > 0 else -2.0)

    _raises_at_trace(step, 1.0, match="item")


def test_a_comparison_mask_is_refused() -> None:
    """`x > 0` makes a leaf with no graph: a replay would keep the first batch's mask."""
    model, _ = _model()

    def step(x: Any) -> Any:
        out = model(x)
        return (out * (out > 0)).sum()

    _raises_at_trace(step, X1, match="comparison")


def test_a_tensor_copied_from_a_traced_value_is_refused() -> None:
    """The prototype's bug: the batch reached the graph through a leaf cut off from the argument."""
    model, _ = _model()

    def step(x: Any) -> Any:
        return model(Tensor(x)).sum()

    _raises_at_trace(step, X1, match="Tensor")


def test_detach_is_the_same_values_without_a_gradient() -> None:
    model, opt = _model()
    twin, twin_opt = _model()

    def make(m: Any, o: Any) -> Any:
        def step(x: Any) -> Any:
            o.zero_grad()
            out = m(x)
            loss = (out * out.detach()).sum()
            loss.backward()
            o.step()
            return loss

        return step

    compiled, eager = tg.compile(make(model, opt)), make(twin, twin_opt)
    for x in (X1, X2, X1 * 3):
        assert np.array_equal(compiled(x).data, eager(Tensor(x)).data)
    assert all(np.array_equal(p.data, q.data) for p, q in zip(model.parameters(), twin.parameters()))


@pytest.mark.parametrize("source", ["tensor_randn", "numpy", "python"])
def test_randomness_inside_the_step_is_refused(source: str) -> None:
    """A mask drawn inside the step would be frozen at its first draw."""
    model, _ = _model()

    def step(x: Any) -> Any:
        out = model(x)
        if source == "tensor_randn":
            noise = Tensor.randn(*out.shape)
        elif source == "numpy":
            noise = np.random.rand(*out.shape).astype(np.float32)
        else:
            noise = random.random()
        return (out * noise).sum()

    _raises_at_trace(step, X1, match="random")


def test_a_hand_written_update_is_refused_on_tensors() -> None:
    model, _ = _model()

    def step(x: Any) -> Any:
        for p in model.parameters():
            p.grad = None
        loss = model(x).sum()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.1 * p.grad  # NumPy in place: a replay would not do it
        return loss

    _raises_at_trace(step, X1, match="by hand")


def test_a_hand_written_update_is_refused_on_values() -> None:
    w = Value(0.5)

    def step(x: Any) -> Any:
        w.grad = None
        loss = (w * x) ** 2
        loss.backward()
        w.data -= 0.1 * w.grad
        return loss

    _raises_at_trace(step, 2.0, match="by hand")


def test_in_place_tensor_ops_are_refused() -> None:
    model, _ = _model()

    def step(x: Any) -> Any:
        loss = model(x).sum()
        with tg.no_grad():
            model[0].weight.mul_(0.5)
        return loss

    _raises_at_trace(step, X1, match="in-place")


def test_a_global_number_is_listed_and_a_change_is_caught_on_the_second_call() -> None:
    """A scale read from a global is a constant of the trace: listed at the top, compared on call 2."""
    model, opt = _model()
    settings = {"scale": 0.37}

    def step(x: Any) -> Any:
        opt.zero_grad()
        loss = model(x).sum() * settings["scale"]
        loss.backward()
        opt.step()
        return loss

    compiled = tg.compile(step)
    compiled(X1)
    header = compiled.source.split("def step")[0]
    assert "0.37" in header and "Constants of this trace" in header
    settings["scale"] = 0.5
    with pytest.raises(CompileError, match="differs from the eager step"):
        compiled(X2)
    # the eager step's state is kept: the weights are what eager training gives
    twin, twin_opt = _model()
    for x, scale in ((X1, 0.37), (X2, 0.5)):
        twin_opt.zero_grad()
        loss = twin(Tensor(x)).sum() * scale
        loss.backward()
        twin_opt.step()
    assert all(np.array_equal(p.data, q.data) for p, q in zip(model.parameters(), twin.parameters()))


def test_a_global_number_on_values_is_one_listed_name_in_forward_and_backward() -> None:
    """The header lists the number once, and every line that uses it (the forward product and its derivative
    in the backward block) says its name, so a reader sees which lines a change of it would change."""
    w = Value(0.5, name="w")
    opt = optim.SGD([w], lr=0.1)
    settings = {"scale": 0.37}

    def step(x: Any) -> Any:
        opt.zero_grad()
        loss = (w * x[0] * settings["scale"]).tanh()
        loss.backward()
        opt.step()
        return loss

    compiled = tg.compile(step)
    compiled([2.0])
    header, body = compiled.source.split("def step")
    assert "c = 0.37" in header and "0.37" not in body
    backward = body.split("# ---- backward")[1].split("# ---- update")[0]
    assert "(c * (1.0 - tanh * tanh))" in backward  # d(a * c)/da = c, by its name, times tanh's rule
    settings["scale"] = 0.5
    with pytest.raises(CompileError, match="differs from the eager step"):
        compiled([2.0])


def test_after_a_failed_check_the_frozen_trace_is_never_replayed() -> None:
    """The check raised: a caller who catches it and goes on gets a fresh trace (and a fresh check), never
    the frozen code unchecked."""
    w = Value(0.5, name="w")
    settings = {"scale": 0.37}

    def step(x: Any) -> Any:
        w.grad = None
        loss = (w * x[0] * settings["scale"]).tanh()
        loss.backward()
        return loss

    compiled = tg.compile(step)
    compiled([2.0])
    settings["scale"] = 0.5
    with pytest.raises(CompileError, match="differs from the eager step"):
        compiled([2.0])
    for _ in range(3):  # scale stays 0.5: traced again, then checked, then replayed; always eager's answer
        got, grad = compiled([2.0]).data, w.grad
        assert (got, grad) == (step([Value(2.0, requires_grad=False)]).data, w.grad)
    assert compiled.traces == 2


def test_a_value_read_by_hand_is_caught_on_the_second_call() -> None:
    """`.data` of a Value cannot be intercepted; the second call's comparison catches the frozen number."""
    w = Value(0.5)
    opt = optim.SGD([w], lr=0.1)

    def step(x: Any) -> Any:
        opt.zero_grad()
        s = w * x
        loss = s * s.data  # the number is frozen at call 1's s
        loss.backward()
        opt.step()
        return loss

    compiled = tg.compile(step)
    compiled(1.0)
    with pytest.raises(CompileError, match="differs"):
        compiled(3.0)


def test_check_false_skips_the_comparison() -> None:
    w = Value(0.5)

    def step(x: Any) -> Any:
        s = w * x
        return s * s.data

    compiled = tg.compile(step, check=False)
    compiled(1.0)
    assert compiled(3.0).data == 1.5 * 0.5  # frozen: exactly why check=True is the default


@pytest.mark.parametrize("engine", ["tensor", "value"])
@pytest.mark.parametrize("where", ["after step()", "before zero_grad()", "a new setting"])
def test_a_step_that_changes_its_optimizers_settings_is_refused(engine: str, where: str) -> None:
    """A schedule inside the step (`opt.param_groups[0]["lr"] *= 0.9`) happened at the trace only: the replay reads
    the settings at each call but did not change them again, so it went on at one learning rate, silently, even
    with the second call's check (which compared parameters and buffers, not settings)."""
    w = Tensor(np.full(3, 0.5), requires_grad=True) if engine == "tensor" else Value(0.5)
    opt = optim.SGD([w], lr=0.1)
    x = np.ones(3) if engine == "tensor" else 2.0

    def step(x: Any) -> Any:
        group = opt.param_groups[0]
        if where == "before zero_grad()":
            group["lr"] = group["lr"] * 0.9
        opt.zero_grad()
        loss = ((w * x).sum() if engine == "tensor" else w * x) ** 2
        loss.backward()
        opt.step()
        if where == "after step()":
            group["lr"] *= 0.9
        elif where == "a new setting":
            group["note"] = "decayed"
        return loss

    key = "'note'" if where == "a new setting" else "'lr'"
    with pytest.raises(CompileError, match=f"changed its optimizer's {key} in param_groups\\[0\\]"):
        tg.compile(step)(x)


def test_settings_changed_between_calls_are_read_at_each_call() -> None:
    """The other side of the refusal above: the same schedule outside the step is what a replay follows."""
    runs = []
    for compiled in (False, True):
        w = Tensor(np.full(3, 0.5), requires_grad=True)
        opt = optim.SGD([w], lr=0.1)

        def step(x: Any, w: Any = w, opt: Any = opt) -> Any:
            opt.zero_grad()
            loss = ((w * x).sum()) ** 2
            loss.backward()
            opt.step()
            return loss

        run = tg.compile(step) if compiled else step
        for _ in range(5):
            run(np.ones(3))
            opt.param_groups[0]["lr"] *= 0.9
        runs.append(w.data.copy())
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.parametrize(
    "change",
    ["p.grad = np.clip(p.grad, -0.1, 0.1)", "p.grad *= 0.5", "p.grad = p.grad * 0.5", "p.grad = np.zeros_like(p.data)"],
)
def test_a_gradient_changed_by_hand_on_tensors_is_refused(change: str) -> None:
    """Gradient clipping or scaling by hand between backward and step: a replay sets .grad from backward only,
    so it went on with the unclipped gradients, silently with check=False (and the check caught it only at call 2)."""
    model, opt = _model()

    def step(x: Any) -> Any:
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        for p in model.parameters():
            exec(change, {"np": np, "p": p})
        opt.step()
        return loss

    with pytest.raises(CompileError, match=r"p\.grad|gradient"):
        tg.compile(step, check=False)(X1)


def test_a_gradient_cleared_or_returned_by_a_tensor_step_is_what_eager_gives() -> None:
    """What stays allowed: `p.grad = None` (the next call traces again) and returning the gradients, which are
    each call's (before, the code returned the first call's arrays, frozen)."""
    runs = []
    for compiled in (False, True):
        model, opt = _model()

        def step(x: Any, model: Any = model, opt: Any = opt) -> Any:
            for p in model.parameters():
                p.grad = None
            loss = (model(x) ** 2).sum()
            loss.backward()
            opt.step()
            return loss, [p.grad for p in model.parameters()]

        run = tg.compile(step, check=False) if compiled else step
        runs.append([run(x) for x in (X1, X2, X1, X2)])
    for (loss_e, grads_e), (loss_c, grads_c) in zip(*runs):
        assert loss_e.data == loss_c.data
        assert all(np.array_equal(a, b) and type(b) is np.ndarray for a, b in zip(grads_e, grads_c))


def test_a_value_steps_returned_gradients_are_each_calls() -> None:
    runs = []
    for compiled in (False, True):
        w, b = Value(0.5), Value(-0.25)
        opt = optim.SGD([w, b], lr=0.1)

        def step(x: Any, w: Any = w, b: Any = b, opt: Any = opt) -> Any:
            opt.zero_grad()
            loss = (w * x + b) ** 2
            loss.backward()
            opt.step()
            return loss, [w.grad, b.grad]

        run = tg.compile(step, check=False) if compiled else step
        runs.append([(out.data, grads) for out, grads in (run(x) for x in (1.0, 2.0, -1.0, 3.0))])
    assert runs[0] == runs[1]


def test_a_compiled_step_called_inside_another_is_refused_before_it_runs() -> None:
    """The outer trace would see the inner replay's result as a constant (the check caught it at call 2 only)."""
    model, opt = _model()
    inner = tg.compile(lambda x: (model(x) ** 2).mean())
    inner(X1)  # (used once: its replay is its __call__ now)
    before = model[0].weight.data.copy()

    def step(x: Any) -> Any:
        opt.zero_grad()
        loss = inner(x)
        loss.backward()
        opt.step()
        return loss

    with pytest.raises(CompileError, match="calls the compiled step inner"):
        tg.compile(step)(X1)
    np.testing.assert_array_equal(model[0].weight.data, before)  # refused before fn ran


def test_an_attribute_named_like_a_compiled_global_is_not_a_call_of_it() -> None:
    """`opt.step()` inside fn, with a compiled step bound to a global `step`: an attribute, not that global."""
    model, opt = _model()
    fn = training_step(opt, lambda x: (model(x) ** 2).sum())
    fn.__globals__["step"] = tg.compile(lambda x: model(x).sum())  # (in the module fn runs in)
    try:
        compiled = tg.compile(fn)
        for _ in range(3):
            compiled(X1)
        assert compiled.traces == 1
    finally:
        del fn.__globals__["step"]
