"""A NumPy array passed to a compiled step is treated as the eager step treats that array, whatever its dtype.

A compiled step makes each array argument a Tensor input. The library casts an *array* to the layer's dtype
(a float64 batch into a float32 `Linear`) and a loss's target to the input's dtype, but refuses or promotes a
*Tensor* of another dtype, so the trace took another branch than eager: a float64 batch (NumPy's default)
raised DTypeMismatchError, float64 targets made the loss float64, int or float64 labels for max_margin_loss
were refused as a read of traced data. Each case here compares the compiled step with eager bit for bit, with
the second call's check off (so the check cannot hide a difference)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_compile_replay import _equal, training_step

import tinygrad_edu as tg
from tinygrad_edu import nn, optim

F = nn.functional


def _both(loss: str, x_dtype: Any, y_dtype: Any, steps: int = 5) -> tuple[list[Any], list[Any]]:
    """Losses and final parameters of an eager and a compiled run from the same start on the same batches."""
    runs = []
    for compiled in (False, True):
        width = 1 if loss == "max_margin" else 2
        layers = [nn.Linear(3, 4, generator=1), nn.Tanh(), nn.Linear(4, width, generator=2)]
        model = nn.Sequential(*layers, nn.Sigmoid()) if loss == "bce" else nn.Sequential(*layers)
        opt = optim.SGD(model.parameters(), lr=0.1)
        loss_fn = {"mse": F.mse_loss, "bce": F.binary_cross_entropy, "max_margin": F.max_margin_loss}[loss]
        step = training_step(opt, lambda x, y, model=model: loss_fn(model(x), y))
        run = tg.compile(step, check=False) if compiled else step
        rng = np.random.default_rng(0)
        losses = []
        for _ in range(steps):
            x = (rng.standard_normal((5, 3)) * 3).astype(x_dtype)
            if loss == "max_margin":
                y = (rng.integers(0, 2, (5, 1)) * 2 - 1).astype(y_dtype)
            elif loss == "bce":
                y = rng.integers(0, 2, (5, 2)).astype(y_dtype)
            else:
                y = rng.standard_normal((5, 2)).astype(y_dtype)
            losses.append(run(x, y).data)
        runs.append((losses, [p.data.copy() for p in model.parameters()]))
        if compiled:
            assert run.traces == 1
    return runs[0], runs[1]


@pytest.mark.parametrize("loss", ["mse", "bce", "max_margin"])
@pytest.mark.parametrize("x_dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("y_dtype", [np.float32, np.float64, np.int64])
def test_array_arguments_of_any_dtype_give_what_eager_gives(loss: str, x_dtype: Any, y_dtype: Any) -> None:
    (losses_e, params_e), (losses_c, params_c) = _both(loss, x_dtype, y_dtype)
    assert all(loss.dtype == np.float32 for loss in losses_e)  # cast to the layer's dtype, as eager does
    assert all(_equal(a, b) for a, b in zip(losses_e, losses_c))
    assert all(_equal(a, b) for a, b in zip(params_e, params_c))


def test_a_float64_batch_is_cast_by_one_line_the_replay_runs_on_each_call() -> None:
    model = nn.Linear(3, 2, generator=1)

    @tg.compile
    def forward(x: Any) -> Any:
        return model(x)

    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal((4, 3))  # float64
        assert _equal(forward(x).data, model(x).data)
    assert "x.astype(np.float32, copy=False)" in forward.source
    assert forward.traces == 1


def test_arithmetic_that_numpy_and_a_tensor_agree_on_compiles_whatever_the_other_operand() -> None:
    """A float32 batch with a number, or with a float32 array of another shape: the same dtype either way."""
    model = nn.Linear(3, 2, generator=1)
    shift = np.array([1.0, 2.0, 3.0], np.float32)

    @tg.compile
    def forward(x: Any) -> Any:
        return model((x - 0.5) * 2 + shift)

    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal((4, 3)).astype(np.float32)
        assert _equal(forward(x).data, model((x - 0.5) * 2 + shift).data)
    assert forward.traces == 1


@pytest.mark.parametrize("dtype", [np.uint8, np.int64])
def test_arithmetic_on_an_integer_batch_is_refused_where_numpy_would_compute_in_another_dtype(dtype: Any) -> None:
    """`(x - 0.1307) / 0.3081` on a uint8 batch: NumPy computes it in float64 eagerly, a Tensor in float32, and
    110 of the 256 byte values come out different in float32. The compiled step says so instead of training on
    other numbers."""
    model = nn.Linear(4, 3, generator=1)

    @tg.compile
    def forward(x: Any) -> Any:
        return model((x - 0.1307) / 0.3081)

    x = (np.arange(20).reshape(5, 4) * 13 % 256).astype(dtype)
    with pytest.raises(tg.CompileError, match=r"sub of an array argument of dtype .* float64, .* float32"):
        forward(x)
    converted = x.astype(np.float32)  # converted first, as the message says: it compiles, and agrees with eager
    assert _equal(forward(converted).data, model((converted - 0.1307) / 0.3081).data)


_PREPROCESSING = {
    "x / 16": lambda x: x / 16.0,
    "-x * 2 + 1": lambda x: -x * 2.0 + 1.0,
    "(x - mean) / std": lambda x: (x - np.array([0.5, -0.25, 1.0])) / np.array([2.0, 1.0, 4.0]),
    "x.reshape": lambda x: x.reshape(6, 2).reshape(4, 3),
    "x.T.T": lambda x: x.T.T,
    "x[:, :3] ** 2": lambda x: x[:, :3] ** 2,
}


@pytest.mark.parametrize("check", [True, False])
@pytest.mark.parametrize("prepare", list(_PREPROCESSING))
def test_a_float64_batch_prepared_inside_the_step_is_cast_by_the_layer_as_eager_casts_it(
    prepare: str, check: bool
) -> None:
    """Eagerly `x / 16` on a NumPy batch is NumPy's (a float64 array), which a float32 layer casts; in a compiled
    step `x` is a Tensor, and what it computes from the batch alone stands for that array too (before, the
    layer refused a float64 Tensor: DTypeMismatchError)."""
    runs = []
    for compiled in (False, True):
        model = nn.Sequential(nn.Linear(3, 4, generator=1), nn.Tanh(), nn.Linear(4, 2, generator=2))
        opt = optim.SGD(model.parameters(), lr=0.1)
        step = training_step(opt, lambda x, y, model=model: F.mse_loss(model(_PREPROCESSING[prepare](x)), y))
        run = tg.compile(step, check=check) if compiled else step
        rng = np.random.default_rng(0)
        losses = [run(rng.standard_normal((4, 3)), rng.standard_normal((4, 2))).data for _ in range(5)]
        runs.append((losses, [p.data.copy() for p in model.parameters()]))
        if compiled:
            assert run.traces == 1
    (losses_e, params_e), (losses_c, params_c) = runs
    assert all(loss.dtype == np.float32 for loss in losses_e)
    assert all(_equal(a, b) for a, b in zip(losses_e, losses_c))
    assert all(_equal(a, b) for a, b in zip(params_e, params_c))


def test_a_tensor_made_from_the_batch_and_a_parameter_is_not_an_array() -> None:
    """Only what is computed from array arguments alone stands for an array: `x * w` with a float64 batch and a
    float32 parameter is a Tensor op eagerly too (a float64 Tensor), which a float32 layer refuses either way."""
    w = tg.Tensor(np.ones(3, np.float32), requires_grad=True)
    model = nn.Linear(3, 2, generator=1)

    def step(x: Any) -> Any:
        return model(x * w).sum()

    x = np.ones((4, 3))
    with pytest.raises(tg.DTypeMismatchError):
        step(x)
    with pytest.raises(tg.DTypeMismatchError):
        tg.compile(step)(x)
