"""Gradients at NaN follow PyTorch on both engines (issue 24 item 8): relu'(NaN) = 1, abs'(NaN) = 0,
maximum with a NaN sends the gradient to both inputs; compared with torch where it is installed."""

import math

import numpy as np
import pytest

from tinygrad_edu import Tensor, Value

NAN = float("nan")
X = np.array([NAN, -1.5, 0.0, 2.0])


def tensor_grad(fn, x=X):
    t = Tensor(x.copy(), requires_grad=True)
    fn(t).sum().backward()
    return t.grad


def test_relu_at_nan_passes_the_gradient():
    np.testing.assert_array_equal(tensor_grad(Tensor.relu), [1.0, 0.0, 0.0, 1.0])
    v = Value(NAN)
    v.relu().backward()
    assert v.grad == 1.0  # the scalar engine agrees


def test_abs_at_nan_has_gradient_zero():
    np.testing.assert_array_equal(tensor_grad(Tensor.abs), [0.0, -1.0, 0.0, 1.0])


def test_maximum_with_nan_sends_the_gradient_to_both_inputs():
    a = Tensor(np.array([1.0, NAN, NAN, 1.0, 2.0, 1.0]), requires_grad=True)
    b = Tensor(np.array([NAN, 1.0, NAN, 1.0, 1.0, 2.0]), requires_grad=True)
    out = a.maximum(b)
    assert np.isnan(out.data[:3]).all()
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 1.0, 1.0, 0.5, 1.0, 0.0])
    np.testing.assert_array_equal(b.grad, [1.0, 1.0, 1.0, 0.5, 0.0, 1.0])


@pytest.mark.parametrize("op", ["relu", "abs", "maximum", "rmaximum", "clip", "sigmoid", "tanh"])
def test_nan_gradients_match_pytorch(op):
    torch = pytest.importorskip("torch")
    other = np.array([1.0, 1.0, NAN, -1.5])
    ours = {
        "relu": lambda t: t.relu(),
        "abs": lambda t: t.abs(),
        "maximum": lambda t: t.maximum(Tensor(other)),
        "rmaximum": lambda t: Tensor(other).maximum(t),
        "clip": lambda t: t.clip(-1.0, 1.0),
        "sigmoid": lambda t: t.sigmoid(),
        "tanh": lambda t: t.tanh(),
    }[op]
    theirs = {
        "relu": torch.relu,
        "abs": torch.abs,
        "maximum": lambda t: torch.maximum(t, torch.tensor(other)),
        "rmaximum": lambda t: torch.maximum(torch.tensor(other), t),
        "clip": lambda t: torch.clamp(t, -1.0, 1.0),
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
    }[op]
    t = torch.tensor(X, requires_grad=True)
    theirs(t).sum().backward()
    np.testing.assert_allclose(tensor_grad(ours), t.grad.numpy(), rtol=1e-12, atol=0)  # NaN matches NaN


def test_value_relu_matches_tensor_relu_at_nan():
    v = Value(NAN)
    v.relu().backward()
    assert math.isclose(v.grad, float(tensor_grad(Tensor.relu, np.array([NAN]))[0]))
