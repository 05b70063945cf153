"""A compiled step leaves exactly what the eager step leaves: loss, every gradient, every parameter, the
optimizer's state, over many steps, on both engines. Equality, never closeness."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.nn import functional as F

STEPS = 8


def _state(model: Any, opt: Any) -> list[Any]:
    out = []
    for p in model.parameters():
        out.append(np.array(p.data, copy=True) if type(p) is Tensor else p.data)
        out.append(None if p.grad is None else (np.array(p.grad, copy=True) if type(p) is Tensor else p.grad))
    for group in opt.param_groups:
        for p in group["params"]:
            state = opt.state.get(p) if p in opt.state else opt.state.get(id(p), {})
            for k in sorted(state or {}):
                v = state[k]
                out.append(np.array(v, copy=True) if isinstance(v, np.ndarray) else v)
    return out


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    return a == b or (a != a and b != b)


def training_step(opt: Any, loss_of: Callable[..., Any]) -> Callable[..., Any]:
    """The step every test compiles: zero_grad, the loss of the arguments, backward, the optimizer's step."""

    def step(*args: Any) -> Any:
        opt.zero_grad()
        loss = loss_of(*args)
        loss.backward()
        opt.step()
        return loss

    return step


def _run_both(build: Callable[[], tuple[Any, Any, Callable[..., Any]]], batches: list[tuple[Any, ...]]) -> Any:
    """Train one copy eagerly and one compiled from the same start; compare after every step."""
    model_e, opt_e, step_e = build()
    model_c, opt_c, step_c = build()
    compiled = tg.compile(step_c)
    for k, batch in enumerate(batches):
        loss_e = step_e(*batch)
        loss_c = compiled(*batch)
        assert _equal(np.asarray(loss_e.data), np.asarray(loss_c.data)), f"loss differs at step {k}"
        for i, (a, b) in enumerate(zip(_state(model_e, opt_e), _state(model_c, opt_c), strict=True)):
            assert _equal(a, b), f"state item {i} differs after step {k}"
    assert compiled.traces == _traces(opt_c)
    return compiled


def _traces(opt: Any) -> int:
    """Traces a step with `opt` needs: one, and another for the steps after the first where the first step
    makes the optimizer's buffers (SGD's momentum buffer, Adam's averages): another branch of the update."""
    plain = type(opt) is optim.SGD and not opt.param_groups[0]["momentum"]
    return 1 if plain else 2


def _digits_batches(n: int = STEPS, batch: int = 16, classes: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(1)
    return [(rng.standard_normal((batch, 5)).astype(np.float32), rng.integers(0, classes, batch)) for _ in range(n)]


ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
OPTIMIZERS: dict[str, Callable[[Any], Any]] = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "nesterov": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda ps: optim.Adam(ps, lr=0.01, weight_decay=1e-4),
}


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_tensor_sequential_cross_entropy(activation: str, optimizer: str) -> None:
    def build() -> Any:
        model = nn.Sequential(nn.Linear(5, 7, generator=0), ACTIVATIONS[activation](), nn.Linear(7, 3, generator=1))
        opt = OPTIMIZERS[optimizer](model.parameters())

        def step(x: Any, y: Any) -> Any:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return model, opt, step

    _run_both(build, _digits_batches())


@pytest.mark.parametrize("loss_name", ["mse", "bce"])
def test_tensor_hand_written_model(loss_name: str) -> None:
    """A model written by hand (no Sequential): matmul, +, sigmoid, mean; MSE and BCE."""

    def build() -> Any:
        rng = np.random.default_rng(3)
        w1 = Tensor(rng.standard_normal((5, 4)).astype(np.float32) * 0.5, requires_grad=True)
        b1 = Tensor(np.zeros(4, np.float32), requires_grad=True)
        w2 = Tensor(rng.standard_normal((4, 1)).astype(np.float32) * 0.5, requires_grad=True)
        model = nn.Module()
        model.w1, model.b1, model.w2 = w1, b1, w2
        opt = optim.Adam(model.parameters(), lr=0.02)

        def step(x: Any, t: Any) -> Any:
            opt.zero_grad()
            out = ((x @ w1 + b1).tanh() @ w2).sigmoid()
            loss = F.mse_loss(out, t) if loss_name == "mse" else F.binary_cross_entropy(out, t)
            loss.backward()
            opt.step()
            return loss

        return model, opt, step

    rng = np.random.default_rng(4)
    batches = [
        (rng.standard_normal((6, 5)).astype(np.float32), rng.integers(0, 2, (6, 1)).astype(np.float32))
        for _ in range(STEPS)
    ]
    _run_both(build, batches)


def _moons(n: int = 12) -> list[tuple[list[list[float]], list[float]]]:
    rng = np.random.default_rng(5)
    return [(rng.standard_normal((n, 2)).tolist(), (rng.integers(0, 2, n) * 2 - 1).astype(float).tolist())] * STEPS


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_scalar_mlp_max_margin(activation: str, optimizer: str) -> None:
    def build() -> Any:
        model = nn.Sequential(
            nn.Linear(2, 4, generator=0, engine="value"),
            ACTIVATIONS[activation](engine="value"),
            nn.Linear(4, 1, generator=1, engine="value"),
        )
        opt = OPTIMIZERS[optimizer](model.parameters())

        def step(xs: Any, ys: Any) -> Any:
            opt.zero_grad()
            scores = [model(x)[0] for x in xs]
            loss = nn.max_margin_loss(scores, ys) + 1e-4 * sum(p * p for p in model.parameters())
            loss.backward()
            opt.step()
            return loss

        return model, opt, step

    rng = np.random.default_rng(6)
    batches = [(rng.standard_normal((10, 2)).tolist(), (rng.integers(0, 2, 10) * 2 - 1).tolist()) for _ in range(STEPS)]
    _run_both(build, batches)


@pytest.mark.parametrize("loss_name", ["mse", "bce", "ce"])
def test_scalar_losses(loss_name: str) -> None:
    def build() -> Any:
        model = nn.Sequential(
            nn.Linear(2, 3, generator=2, engine="value"), nn.Sigmoid(engine="value"),
            nn.Linear(3, 2, generator=3, engine="value"), nn.Sigmoid(engine="value"),
        )  # fmt: skip
        opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.5)

        def step(x: Any, t: Any) -> Any:
            opt.zero_grad()
            out = model(x)
            if loss_name == "mse":
                loss = F.mse_loss(out, t)
            elif loss_name == "bce":
                loss = F.binary_cross_entropy(out, t)
            else:
                loss = F.cross_entropy(out, 1)
            loss.backward()
            opt.step()
            return loss

        return model, opt, step

    rng = np.random.default_rng(7)
    batches = [(rng.standard_normal(2).tolist(), rng.uniform(0.1, 0.9, 2).tolist()) for _ in range(STEPS)]
    _run_both(build, batches)


def test_learning_rate_schedule_is_read_at_every_replay() -> None:
    """opt.param_groups[0]["lr"] set between calls: the replay uses the new value (micrograd's demo schedule)."""

    def build() -> Any:
        model = nn.Sequential(nn.Linear(2, 3, generator=0, engine="value"), nn.ReLU(engine="value"),
                              nn.Linear(3, 1, generator=1, engine="value"))  # fmt: skip
        opt = optim.SGD(model.parameters(), lr=1.0)
        return model, opt, training_step(opt, lambda xs, ys: nn.max_margin_loss([model(x)[0] for x in xs], ys))

    model_e, opt_e, step_e = build()
    model_c, opt_c, step_c = build()
    compiled = tg.compile(step_c)
    xs, ys = [[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]], [1, -1, 1]
    for k in range(6):
        for opt in (opt_e, opt_c):
            opt.param_groups[0]["lr"] = 1.0 - 0.9 * k / 100
        assert step_e(xs, ys).data == compiled(xs, ys).data
        assert [p.data for p in model_e.parameters()] == [p.data for p in model_c.parameters()]
    assert compiled.traces == 1


@pytest.mark.parametrize("engine", ["tensor", "value"])
@pytest.mark.parametrize("how", ["appended to a group", "a new group", "replaced"])
def test_a_parameter_the_optimizer_gains_between_calls_is_updated(engine: str, how: str) -> None:
    """The update is written out for the optimizer's parameters at the trace; a parameter it gains, or
    one put in another's place, later must be updated as eager updates it (before, the replay went on
    updating the old ones only, silently)."""

    def build() -> Any:
        model = nn.Sequential(nn.Linear(2, 2, generator=0, engine=engine), nn.Linear(2, 1, generator=1, engine=engine))
        first, second = list(model[0].parameters()), list(model[1].parameters())
        opt = optim.SGD(first if how != "replaced" else [*first[:-1], second[0]], lr=0.1)
        return model, opt, training_step(opt, lambda x: (model(x)[0] if engine == "value" else model(x).sum()) ** 2)

    x = [0.5, -1.0] if engine == "value" else np.array([[0.5, -1.0]], np.float32)
    model_e, opt_e, step_e = build()
    model_c, opt_c, step_c = build()
    compiled = tg.compile(step_c)
    for k in range(6):
        if k == 3:
            for model, opt in ((model_e, opt_e), (model_c, opt_c)):
                first, second = list(model[0].parameters()), list(model[1].parameters())
                if how == "appended to a group":
                    opt.param_groups[0]["params"].extend(second)
                elif how == "a new group":
                    opt.param_groups.append(dict(opt.param_groups[0], params=list(second)))
                else:
                    opt.param_groups[0]["params"][-1] = first[-1]
        assert _equal(np.asarray(step_e(x).data), np.asarray(compiled(x).data)), f"loss differs at step {k}"
        for i, (a, b) in enumerate(zip(_state(model_e, opt_e), _state(model_c, opt_c), strict=True)):
            assert _equal(a, b), f"state item {i} differs after step {k}"
    # one trace, one when the parameters outside the optimizer first have a .grad at entry, one for the change
    assert compiled.traces == 3


def test_adam_step_count_is_live() -> None:
    """Adam's bias correction uses the step count of each replay, not the trace's."""

    def build() -> Any:
        model = nn.Sequential(nn.Linear(3, 2, generator=0))
        opt = optim.Adam(model.parameters(), lr=0.1)

        def step(x: Any) -> Any:
            opt.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        return model, opt, step

    x = np.ones((4, 3), np.float32)
    _run_both(build, [(x,)] * 5)


def test_switching_between_compiled_and_eager_steps() -> None:
    model = nn.Sequential(nn.Linear(3, 2, generator=0))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    twin = nn.Sequential(nn.Linear(3, 2, generator=0))
    twin_opt = optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)

    def step_for(m: Any, o: Any) -> Callable[[Any], Any]:
        def step(x: Any) -> Any:
            o.zero_grad()
            loss = (m(x) ** 2).sum()
            loss.backward()
            o.step()
            return loss

        return step

    compiled, eager = tg.compile(step_for(model, opt)), step_for(model, opt)
    reference = step_for(twin, twin_opt)
    rng = np.random.default_rng(0)
    for k in range(8):
        x = rng.standard_normal((4, 3)).astype(np.float32)
        out = (compiled if k % 3 else eager)(x)
        assert _equal(out.data, reference(x).data)
        for p, q in zip(model.parameters(), twin.parameters()):
            assert _equal(p.data, q.data) and _equal(p.grad, q.grad)


@pytest.mark.parametrize("calls", [[()] * 4, [(0.5,), (0.25,), (0.1,), (2.0,)]], ids=["no arguments", "numbers"])
def test_a_tensor_step_with_numbers_or_no_arguments_runs_on_the_tensor_engine(calls: list[tuple[Any, ...]]) -> None:
    """With no array among its arguments, a step runs on the engine of the parameters it reaches: a number is
    a 0-d input of that engine (it used to pick the scalar engine, and fail)."""
    x = Tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))

    def build() -> Any:
        model = nn.Sequential(nn.Linear(3, 2, generator=0))
        opt = optim.SGD(model.parameters(), lr=0.1)
        return model, opt, training_step(opt, lambda *scale: (model(x) ** 2).mean() * (scale[0] if scale else 1.0))

    compiled = _run_both(build, calls)
    assert "tensor engine" in compiled.source
