"""Deep graphs: backward walks them with an explicit stack, so depth is limited by memory, not by recursion.

The chain y_{k+1} = a y_k + c (a = 1.0001, c = 0.001) has closed forms to compare with:
    y_n = a^n (y_0 + c / (a - 1)) - c / (a - 1),    dy_n/dy_0 = a^n.
"""

import math
import sys

import numpy as np
import pytest

from tinygrad_edu import Tensor, Value

A, C = 1.0001, 0.001


def closed_form(n, y0):
    power = math.exp(n * math.log1p(A - 1))  # a^n without n roundings
    shift = C / (A - 1)
    return power * (y0 + shift) - shift, power


@pytest.fixture
def default_recursion_limit():
    """CPython's default limit (1000), whatever an earlier test or plugin may have set."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(min(previous, 1000))
    yield
    sys.setrecursionlimit(previous)


def test_million_deep_value_chain(default_recursion_limit):
    n = 1_000_000
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y * A + C
    value, grad = closed_form(n, 1.0)
    assert y.data == pytest.approx(value, rel=1e-9)
    y.backward()  # no RecursionError: the walk is iterative
    assert x.grad == pytest.approx(grad, rel=1e-9)
    del y  # two million nodes freed by reference counting, one after another: no crash
    assert x.grad == pytest.approx(grad, rel=1e-9)


def test_hundred_thousand_op_tensor_chain(default_recursion_limit):
    n = 50_000  # two ops per step
    x0 = np.array([1.0, -2.0, 0.5])
    x = Tensor(x0, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * A + C
    value, grad = closed_form(n, x0)
    np.testing.assert_allclose(y.data, value, rtol=1e-9)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.full(3, grad), rtol=1e-9)
    del y
    np.testing.assert_allclose(x.grad, np.full(3, grad), rtol=1e-9)


def test_deep_mixed_chain_matches_a_hand_run_recurrence(default_recursion_limit):
    """3,000 nodes of mixed ops, deeper than any recursive walk gets; compare with a hand-run recurrence."""
    n = 1_000  # the slope shrinks ~0.6x per step, so it stays far above float64's underflow
    x = Value(0.3)
    y = x
    expected, slope = 0.3, 1.0
    for _ in range(n):
        y = (y * 0.9 + 0.2).tanh()
        nxt = math.tanh(expected * 0.9 + 0.2)
        slope *= 0.9 * (1 - nxt * nxt)
        expected = nxt
    y.backward()
    assert y.data == pytest.approx(expected, rel=1e-12)
    assert 0 < x.grad == pytest.approx(slope, rel=1e-9)
