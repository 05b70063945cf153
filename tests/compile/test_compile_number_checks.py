"""A check on the numbers a loss is given (class indices, probabilities) runs at every replay, not only at trace
time: a batch that eager refuses is refused by the replay too, with the same error, and the state is untouched.

Without it, a replay silently computed something else: a class index of -1 counted from the end (NumPy's
indexing), and binary_cross_entropy of a NaN returned NaN where eager raises. Labels that reach the loss through
an op (`y.reshape(-1)`, `y[:, 0]`) are each call's labels, not the first call's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_compile_replay import _equal, _state, training_step

import tinygrad_edu as tg
from tinygrad_edu import MathDomainError, nn, optim
from tinygrad_edu.nn import functional as F


def _pair(make_model: Any, loss_of: Any, check: bool) -> tuple[Any, Any, Any, Any]:
    """An eager step and a compiled one on two models built alike."""

    def build() -> tuple[Any, Any, Any]:
        model = make_model()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x: Any, y: Any) -> Any:
            opt.zero_grad()
            loss = loss_of(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return model, opt, step

    model_e, opt_e, step_e = build()
    model_c, opt_c, step_c = build()
    return step_e, tg.compile(step_c, check=check), (model_e, opt_e), (model_c, opt_c)


def _batches(classes: int, labels_shape: tuple[int, ...], count: int = 4) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [
        (rng.standard_normal((6, 4)).astype(np.float32), rng.integers(0, classes, labels_shape)) for _ in range(count)
    ]


@pytest.mark.parametrize("check", [True, False])
@pytest.mark.parametrize("bad", [-1, -3, 3, 7, 2**40])
def test_a_class_index_out_of_range_at_a_replay_raises_what_eager_raises(bad: int, check: bool) -> None:
    step_e, step_c, eager, compiled = _pair(lambda: nn.Linear(4, 3, generator=1), tg.cross_entropy, check)
    batches = _batches(3, (6,))
    for x, y in batches[:3]:  # the trace, the checked call, a replay
        assert _equal(step_e(x, y).data, step_c(x, y).data)
    x, y = batches[3]
    y = y.copy()
    y[4] = bad
    with pytest.raises(MathDomainError) as eager_error:
        step_e(x, y)
    with pytest.raises(MathDomainError) as replay_error:
        step_c(x, y)
    assert (
        str(replay_error.value)
        == str(eager_error.value)
        == (f"cross_entropy: class indices must lie in [0, 3), got {bad}")
    )
    assert all(_equal(a, b) for a, b in zip(_state(*eager), _state(*compiled)))  # zero_grad() ran, nothing else
    assert all(p.grad is None for p in compiled[0].parameters())
    y[4] = 1
    assert _equal(step_e(x, y).data, step_c(x, y).data)  # and the next good batch replays as before
    assert step_c.traces == 1
    assert "class_indices(y, 3)" in step_c.source


@pytest.mark.parametrize("labels", ["reshape", "column"])
def test_labels_that_reach_the_loss_through_an_op_are_each_calls_labels(labels: str) -> None:
    """`y.reshape(-1)` made the labels an op's result, which the trace took for a constant: call 1's labels forever
    (caught only by the checked second call; with check=False, silently)."""
    pick = (lambda y: y.reshape(-1)) if labels == "reshape" else (lambda y: y[:, 0])
    step_e, step_c, eager, compiled = _pair(
        lambda: nn.Linear(4, 3, generator=1), lambda z, y: tg.cross_entropy(z, pick(y)), check=False
    )
    for x, y in _batches(3, (6, 1), count=6):
        assert _equal(step_e(x, y).data, step_c(x, y).data)
        assert all(_equal(a, b) for a, b in zip(_state(*eager), _state(*compiled)))
    assert step_c.traces == 1


@pytest.mark.parametrize("engine", ["tensor", "value"])
def test_binary_cross_entropy_refuses_a_nan_at_a_replay_as_eager_does(engine: str) -> None:
    def make() -> Any:
        return nn.Sequential(nn.Linear(2, 1, engine=engine, generator=1), nn.Sigmoid())

    step_e, step_c, eager, compiled = _pair(make, nn.functional.binary_cross_entropy, check=False)

    def batch(a: float, b: float, t: float) -> tuple[Any, Any]:
        if engine == "tensor":
            return np.array([[a, b]], dtype=np.float32), np.array([[t]], dtype=np.float32)
        return [a, b], [t]

    for a, b, t in [(0.5, -1.0, 1.0), (0.2, 0.3, 0.0), (1.0, 2.0, 1.0)]:
        assert _equal(np.asarray(step_e(*batch(a, b, t)).data), np.asarray(step_c(*batch(a, b, t)).data))
    with pytest.raises(MathDomainError) as eager_error:
        step_e(*batch(float("nan"), 2.0, 1.0))
    with pytest.raises(MathDomainError) as replay_error:
        step_c(*batch(float("nan"), 2.0, 1.0))
    assert str(replay_error.value) == str(eager_error.value)
    assert "is not a probability" in str(replay_error.value)
    assert all(_equal(a, b) for a, b in zip(_state(*eager), _state(*compiled)))  # zero_grad() ran, nothing else
    assert all(p.grad is None for p in compiled[0].parameters())
    assert "probabilities(" in step_c.source
    assert step_c.traces == 1


def test_a_check_on_constants_alone_is_not_written() -> None:
    """Labels read from outside fn are a constant of the trace: checked once, at trace time, not at each replay."""
    fixed = np.array([0, 1, 2, 0, 1, 2])
    step_e, step_c, *_ = _pair(lambda: nn.Linear(4, 3, generator=1), lambda z, y: tg.cross_entropy(z, fixed), False)
    for x, y in _batches(3, (6,)):
        assert _equal(step_e(x, y).data, step_c(x, y).data)
    assert "class_indices" not in step_c.source


def test_a_class_index_passed_to_a_scalar_step_is_refused_with_what_to_do() -> None:
    """On the scalar engine an int argument becomes a Value input, and the logit cross_entropy picks by it is
    part of the graph: the replay could not change it, so the step says so (it used to say "got object")."""
    m = nn.Linear(2, 3, engine="value", generator=1)

    @tg.compile
    def step(x: Any, label: Any) -> Any:
        return nn.functional.cross_entropy(m(x), label)

    with pytest.raises(tg.DTypeError, match=r"got a Value .*tensor engine"):
        step([0.5, -1.0], 1)
    assert float(nn.functional.cross_entropy(m([0.5, -1.0]), 1).data) > 0  # eagerly, an int label is fine


def test_labels_in_a_tensor_made_outside_the_step_are_read_at_every_call() -> None:
    """A global Tensor of labels whose `.data` the loop replaces: read afresh at each call, as a tensor operand made
    outside fn is, and checked there (it used to be frozen: call 1's labels; silently with check=False)."""
    results = []
    for compiled in (False, True):
        m = nn.Linear(4, 3, generator=1)
        opt = optim.SGD(m.parameters(), lr=0.1)
        labels = tg.Tensor(np.zeros(6, np.int64))

        def step(x: Any) -> Any:
            opt.zero_grad()
            loss = tg.cross_entropy(m(x), labels)
            loss.backward()
            opt.step()
            return loss

        run = tg.compile(step, check=False) if compiled else step
        rng = np.random.default_rng(0)
        losses = []
        for _ in range(5):
            labels.data = rng.integers(0, 3, 6)
            losses.append(run(rng.standard_normal((6, 4)).astype(np.float32)).data)
        labels.data = np.array([0, 1, 2, 3, 0, 1])
        with pytest.raises(MathDomainError, match="got 3"):
            run(rng.standard_normal((6, 4)).astype(np.float32))
        results.append((losses, [p.data.copy() for p in m.parameters()]))
    (losses_e, params_e), (losses_c, params_c) = results
    assert all(_equal(a, b) for a, b in zip(losses_e, losses_c))
    assert all(_equal(a, b) for a, b in zip(params_e, params_c))
    assert "labels = T_labels.data" in run.source and "class_indices(labels, 3)" in run.source


class _Data:
    labels = tg.Tensor(np.zeros(6, np.int64))  # reached through a class attribute: not among what fn holds


def _labels() -> Any:
    return _Data.labels


def test_labels_in_a_tensor_fn_reaches_only_through_a_call_are_each_calls() -> None:
    """The target Tensor itself tells the trace which tensor it is, however fn reached it."""
    results = []
    for compiled in (False, True):
        m = nn.Linear(4, 3, generator=1)
        opt = optim.SGD(m.parameters(), lr=0.1)
        step = training_step(opt, lambda x, m=m: tg.cross_entropy(m(x), _labels()))
        run = tg.compile(step, check=False) if compiled else step
        rng = np.random.default_rng(0)
        losses = []
        for _ in range(4):
            _Data.labels.data = rng.integers(0, 3, 6)
            losses.append(run(rng.standard_normal((6, 4)).astype(np.float32)).data)
        _Data.labels.data = np.array([0, 1, 2, 5, 0, 1])
        with pytest.raises(MathDomainError, match="got 5"):
            run(rng.standard_normal((6, 4)).astype(np.float32))
        _Data.labels.data = np.array([0, 1])  # another shape: a new trace, which raises what eager raises
        with pytest.raises(tg.ShapeError):
            run(rng.standard_normal((6, 4)).astype(np.float32))
        results.append(losses)
    assert all(_equal(a, b) for a, b in zip(*results))


def test_a_numpy_view_of_a_tensors_data_is_refused_not_frozen() -> None:
    """`labels.data.reshape(-1)` is a NumPy view the replay could not follow (it would be call 1's labels)."""
    labels = tg.Tensor(np.zeros((6, 1), np.int64))
    m = nn.Linear(4, 3, generator=1)

    @tg.compile
    def step(x: Any) -> Any:
        return tg.cross_entropy(m(x), labels.data.reshape(-1))

    with pytest.raises(tg.CompileError, match=r"made with NumPy from a tensor's \.data .*labels\.reshape\(-1\)"):
        step(np.ones((6, 4), np.float32))


def test_a_detached_parameter_is_read_at_every_call() -> None:
    """`w.detach()` inside the step shares the parameter's array: the replay reads it as it is now."""
    results = []
    for compiled in (False, True):
        w = tg.Tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), requires_grad=True)
        opt = optim.SGD([w], lr=0.1)

        def step(x: Any) -> Any:
            opt.zero_grad()
            loss = ((x @ w.T) * (x @ w.detach().T)).mean()
            loss.backward()
            opt.step()
            return loss

        run = tg.compile(step, check=False) if compiled else step
        rng = np.random.default_rng(0)
        results.append([run(rng.standard_normal((5, 4)).astype(np.float32)).data for _ in range(4)] + [w.data])
    assert all(_equal(a, b) for a, b in zip(*results))


def test_a_tensor_target_of_another_dtype_follows_type_promotion_eagerly() -> None:
    """Only an array (or a compiled step's array argument) is cast to the input's dtype; a Tensor promotes, as
    in PyTorch."""
    z = tg.Tensor(np.array([[0.5, 0.25]], np.float32))
    assert F.mse_loss(z, tg.Tensor(np.array([[1.0, 0.0]]))).dtype == np.float64
    assert F.mse_loss(z, np.array([[1.0, 0.0]])).dtype == np.float32


def test_one_array_passed_as_two_label_arguments_at_the_trace_stays_two_inputs() -> None:
    """Traced with `step(x, y, y)`, later calls with two different label arrays use each where it goes."""
    results = []
    for compiled in (False, True):
        m = nn.Linear(4, 3, generator=1)
        opt = optim.SGD(m.parameters(), lr=0.1)

        def step(x: Any, y1: Any, y2: Any) -> Any:
            opt.zero_grad()
            z = m(x)
            loss = tg.cross_entropy(z, y1) + tg.cross_entropy(z, y2) * 2.0
            loss.backward()
            opt.step()
            return loss

        run = tg.compile(step, check=False) if compiled else step
        rng = np.random.default_rng(0)
        x, y = rng.standard_normal((6, 4)).astype(np.float32), rng.integers(0, 3, 6)
        losses = [run(x, y, y).data]
        losses += [run(x, rng.integers(0, 3, 6), rng.integers(0, 3, 6)).data for _ in range(3)]
        results.append(losses + [p.data for p in m.parameters()])
    assert all(_equal(a, b) for a, b in zip(*results))


def test_the_value_engines_clamped_log_refuses_a_replay_on_the_other_side_of_the_clamp() -> None:
    """binary_cross_entropy on Values takes log p or -100 (p < e^-100) by a Python branch on p's number: a replay
    cannot switch it, so a call on the other side raises instead of returning log p where eager gives -100."""
    m = nn.Sequential(nn.Linear(1, 1, engine="value", generator=1), nn.Sigmoid())
    w, b = m.parameters()
    w.data, b.data = 1.0, 0.0
    step = tg.compile(lambda x, t: F.binary_cross_entropy(m(x), t), check=False)
    assert step([0.5], [1.0]).data == F.binary_cross_entropy(m([0.5]), [1.0]).data
    assert step([-2.0], [1.0]).data == F.binary_cross_entropy(m([-2.0]), [1.0]).data
    assert F.binary_cross_entropy(m([-110.0]), [1.0]).data == 100.0  # eagerly: the clamp
    with pytest.raises(tg.CompileError, match="other side than at trace time"):
        step([-110.0], [1.0])
