"""The tensor engine's higher-order backward meets the version counters and graph release (merge of both)."""

import numpy as np
import pytest

from tinygrad_edu import GraphError, Tensor, keep_graph, no_grad, ops
from tinygrad_edu.autograd import grad


def _mul_graph() -> tuple[Tensor, Tensor, Tensor]:
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = Tensor(np.array([3.0, 4.0]))
    return a, c, (a * c * a).sum()


def test_create_graph_backward_checks_versions():
    _, c, y = _mul_graph()
    c.add_(1.0)  # Mul's backward for `a` reads c, so the gradient would be taken at the new values
    with pytest.raises(GraphError, match="Mul needs its input 1"):
        y.backward(create_graph=True)


def test_tensor_grad_checks_versions():
    a, c, y = _mul_graph()
    c.fill_(0.0)
    with pytest.raises(GraphError, match="Mul needs its input 1"):
        grad(y, a)


def test_create_graph_gradient_is_right_when_nothing_was_written():
    a, _, y = _mul_graph()
    (g,) = grad(y, a, create_graph=True)
    np.testing.assert_allclose(g.data, 2 * np.array([3.0, 4.0]) * np.array([1.0, 2.0]))  # d(c a²)/da = 2ca
    g.sum().backward()
    np.testing.assert_allclose(a.grad, 2 * np.array([3.0, 4.0]))  # d²/da² = 2c


def test_expand_backward_reads_no_input_value():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = a.expand(3, 2).sum()
    with no_grad():
        a.add_(5.0)  # Expand's gradient is a sum over the new axis: a's value is not needed
    y.backward()
    np.testing.assert_array_equal(a.grad, [3.0, 3.0])


def test_scatter_backward_reads_no_input_value():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (ops.scatter(a, (4,), np.array([3, 0])) * np.array([1.0, 2.0, 3.0, 4.0])).sum()
    with no_grad():
        a.mul_(7.0)
    y.backward()
    np.testing.assert_array_equal(a.grad, [4.0, 1.0])  # a[0] lands at 3 (weight 4), a[1] at 0 (weight 1)


def test_tensor_grad_releases_the_graph_unless_kept():
    a, _, y = _mul_graph()
    grad(y, a)
    with pytest.raises(GraphError, match="already used by a backward pass"):
        grad(y, a)

    a, _, y = _mul_graph()
    with keep_graph():
        first = grad(y, a)[0]
    second = grad(y, a)[0]  # the graph was kept, so a second pass works
    np.testing.assert_array_equal(first, second)


def test_backward_releases_intermediates_but_the_root_keeps_its_grad():
    _, _, y = _mul_graph()
    h = y._parents[0]
    y.backward()
    assert h.grad is None and y.grad is not None and float(y.grad) == 1.0
    assert y._parents == ()
