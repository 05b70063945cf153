"""The first promises of the README, checked against numbers computed by hand."""

import math

import numpy as np

from tinygrad_edu import Tensor, Value


def test_square_gradient():
    a = Value(2.0)
    (a * a).backward()
    assert a.grad == 4.0


def test_sigmoid_matmul_gradient_matches_hand_derivation():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = Tensor(x, requires_grad=True)
    (t.sigmoid() @ t).sum().backward()
    s = 1 / (1 + np.exp(-x))
    # d/dx sum(s(x) @ x) = (1 @ x^T) * s(1 - s)  +  s^T @ 1
    ones = np.ones((2, 2))
    expected = (ones @ x.T) * s * (1 - s) + s.T @ ones
    np.testing.assert_allclose(t.grad, expected, rtol=1e-12)
    assert math.isclose(float(t.grad[0, 0]), float(expected[0, 0]))
