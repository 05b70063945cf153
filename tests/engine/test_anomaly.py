"""detect_anomaly: the first NaN/inf names the op, the shapes and the user's line; off, nothing changes."""

import math

import numpy as np
import pytest

import tinygrad_edu as tg


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_tensor_backward_inf_is_reported_with_op_and_line():
    x = tg.Tensor([1.0, 0.0], requires_grad=True)
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError) as info:
        (x**0.5).sum().backward()  # d sqrt(x)/dx = 1/(2 sqrt x) is inf at 0
    message = str(info.value)
    assert "backward of Pow" in message and "(2,)" in message
    assert "test_anomaly.py" in message  # where the op was created
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, tg.TinygradEduError)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_tensor_forward_nan_is_reported():
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError, match="forward of Log"):
        tg.Tensor([0.0, 1.0], requires_grad=True).log()


def test_value_backward_inf_is_reported():
    a = tg.Value(0.0)
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError, match=r"backward of \*\*0.5"):
        (a**0.5).backward()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_off_by_default_gives_pytorchs_inf():
    x = tg.Tensor([1.0, 0.0], requires_grad=True)
    (x**0.5).sum().backward()
    assert x.grad[0] == 0.5 and math.isinf(x.grad[1])


def test_finite_graph_passes_unchanged():
    x = tg.Tensor(np.array([0.5, 2.0]), requires_grad=True)
    with tg.detect_anomaly():
        x.log().sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 0.5])
