"""Classic bugs learners report against micrograd, tinygrad and similar projects; no PyTorch needed.

Each test states the bug it guards against and checks a number worked out by hand.
"""

import math

import numpy as np
import pytest

from tinygrad_edu import MathDomainError, Tensor, Value

# ---------------------------------------------------------------------- reused nodes (micrograd: `=` instead of `+=`)


def test_reused_node_value():
    """b = a + a; c = b + b: a.grad must be 4, not 1 or 2 (a gradient overwritten instead of added)."""
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert c.data == 12.0
    assert b.grad == 2.0
    assert a.grad == 4.0


def test_reused_node_tensor():
    a = Tensor(np.array([3.0, -1.0]), requires_grad=True)
    b = a + a
    c = b + b
    c.sum().backward()
    np.testing.assert_array_equal(c.data, [12.0, -4.0])
    np.testing.assert_array_equal(a.grad, [4.0, 4.0])


@pytest.mark.parametrize(
    ("fn", "value", "grad"),
    [
        (lambda a: a * a, 9.0, 6.0),  # self-multiplication: d(a²)/da = 2a
        (lambda a: a - a, 0.0, 0.0),
        (lambda a: a / a, 1.0, 0.0),
        (lambda a: a**2 / a, 3.0, 1.0),
        (lambda a: a * a * a, 27.0, 27.0),  # 3a²
    ],
)
def test_self_interaction(fn, value, grad):
    a = Value(3.0)
    out = fn(a)
    out.backward()
    assert out.data == pytest.approx(value, abs=1e-15)
    assert a.grad == pytest.approx(grad, abs=1e-15)
    t = Tensor(np.array([3.0]), requires_grad=True)
    fn(t).sum().backward()
    assert t.grad[0] == pytest.approx(grad, abs=1e-15)


def test_24a_plus_3_through_shared_subexpressions():
    """e = 24a + 3 built by doubling shared nodes: every path from e to a counts, de/da = 24."""
    for a, make in [(Value(-1.5), lambda v: v), (Tensor(np.array([-1.5, 2.0]), requires_grad=True), lambda t: t)]:
        b = 2 * make(a)
        c = b + b  # 4a
        d = c + c + c  # 12a
        e = d + d + 3  # 24a + 3
        (e if isinstance(e, Value) else e.sum()).backward()
        if isinstance(a, Value):
            assert e.data == 24 * -1.5 + 3
            assert a.grad == 24.0
        else:
            np.testing.assert_array_equal(e.data, 24 * np.array([-1.5, 2.0]) + 3)
            np.testing.assert_array_equal(a.grad, [24.0, 24.0])


def test_node_with_two_consumers_accumulates():
    """tinygrad's "topo sort" test: h feeds tanh and exp; dL/dh is the sum of both, not the last one seen."""
    x0 = 0.7
    expected = 2 * ((1 - math.tanh(2 * x0) ** 2) + math.exp(2 * x0))
    v = Value(x0)
    h = v * 2
    (h.tanh() + h.exp()).backward()
    assert v.grad == pytest.approx(expected, rel=1e-14)
    t = Tensor(np.array([x0]), requires_grad=True)
    h = t * 2
    (h.tanh() + h.exp()).sum().backward()
    assert t.grad[0] == pytest.approx(expected, rel=1e-14)


def test_diamond_where_the_consumers_are_created_out_of_order():
    """A walk that visits a node before all its consumers are done sends a partial gradient on."""
    x = Value(2.0)
    a = x * 3  # 6
    late = a * a  # created after `early` uses only a
    early = a + 1
    out = late * early  # a² (a + 1): d/da = 3a² + 2a = 120, d/dx = 360
    out.backward()
    assert a.grad == 3 * 36 + 2 * 6
    assert x.grad == 3 * (3 * 36 + 2 * 6)


# ---------------------------------------------------------------------- Value ** Value and negative bases


def test_value_pow_value_negative_base_is_an_error_not_a_silent_number():
    """micrograd-style engines return a number whose exponent gradient uses ln(negative): documented error."""
    with pytest.raises(MathDomainError):
        Value(-2.0) ** Value(3.0)


def test_value_pow_constant_integer_exponent_with_negative_base_is_fine():
    """With an exponent that needs no gradient, (-2)^2 is well defined and so is d/da = 2a."""
    a = Value(-2.0)
    out = a ** Value(2.0, requires_grad=False)
    out.backward()
    assert out.data == 4.0
    assert a.grad == -4.0


def test_value_pow_value_positive_base_closed_form():
    a, b = Value(1.5), Value(-0.5)
    out = a**b
    out.backward()
    assert out.data == pytest.approx(1.5**-0.5, rel=1e-15)
    assert a.grad == pytest.approx(-0.5 * 1.5**-1.5, rel=1e-15)
    assert b.grad == pytest.approx(1.5**-0.5 * math.log(1.5), rel=1e-15)


# ---------------------------------------------------------------------- reflected ops (the order of the operands)


@pytest.mark.parametrize(
    ("fn", "value", "grad"),
    [
        (lambda x: 1 - x, lambda v: 1 - v, lambda v: -1.0),
        (lambda x: 2**x, lambda v: 2**v, lambda v: 2**v * math.log(2)),
        (lambda x: 1 / x, lambda v: 1 / v, lambda v: -1 / v**2),
        (lambda x: 2 / x, lambda v: 2 / v, lambda v: -2 / v**2),
        (lambda x: 3 + x, lambda v: 3 + v, lambda v: 1.0),
        (lambda x: 3 * x, lambda v: 3 * v, lambda v: 3.0),
        (lambda x: -x, lambda v: -v, lambda v: -1.0),
    ],
    ids=["1 - x", "2 ** x", "1 / x", "2 / x", "3 + x", "3 * x", "-x"],
)
@pytest.mark.parametrize("v", [0.5, -1.25, 3.0])
def test_reflected_ops(fn, value, grad, v):
    x = Value(v)
    out = fn(x)
    out.backward()
    assert out.data == pytest.approx(value(v), rel=1e-15)
    assert x.grad == pytest.approx(grad(v), rel=1e-15)
    t = Tensor(np.array([v]), requires_grad=True)
    out = fn(t)
    out.sum().backward()
    assert out.data[0] == pytest.approx(value(v), rel=1e-15)
    assert t.grad[0] == pytest.approx(grad(v), rel=1e-15)


def test_numpy_scalars_on_the_left_still_build_the_graph():
    x = Value(3.0)
    out = np.float64(2.0) * x - np.float32(1.0)
    assert type(out) is Value
    out.backward()
    assert out.data == 5.0 and x.grad == 2.0


# ---------------------------------------------------------------------- in-place operators rebind


def test_inplace_add_rebinds_the_name_and_keeps_the_graph():
    a = Value(2.0)
    c = a * 3
    before = c
    c += 1  # a new node; the old one is unchanged
    c *= 2
    assert before.data == 6.0
    assert c.data == 14.0
    c.backward()
    assert a.grad == 6.0  # d(2 (3a + 1))/da


def test_inplace_ops_on_tensors_rebind_too():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = a * 3
    before = c
    c += 1
    c **= 2
    np.testing.assert_array_equal(before.data, [3.0, 6.0])
    np.testing.assert_array_equal(c.data, [16.0, 49.0])
    c.sum().backward()
    np.testing.assert_array_equal(a.grad, 2 * (3 * a.data + 1) * 3)


# ---------------------------------------------------------------------- a second backward on Value


def test_second_backward_on_value_accumulates():
    """Documented: leaves add up across backward calls (as in PyTorch); reset with `x.grad = None`."""
    x = Value(2.0)
    y = x * x + x
    y.backward()
    assert x.grad == 5.0
    y.backward()
    assert x.grad == 10.0
    x.grad = None
    y.backward()
    assert x.grad == 5.0


# ---------------------------------------------------------------------- unbroadcast with unequal ndim (old tinygrad)


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [((3,), (2, 3)), ((4, 1), (2, 1, 3)), ((1,), (2, 3)), ((), (2, 2)), ((2, 1, 3), (4, 1))],
)
def test_unbroadcast_with_unequal_ndim(shape_a, shape_b):
    """Gradients of a + b and a * b are summed back over the leading axes *and* the size-1 axes."""
    rng = np.random.default_rng(0)
    a0, b0 = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
    (a * b + a).sum().backward()
    # By hand: d/da Σ (a b + a) = Σ over the copies of (b + 1); d/db = Σ over the copies of a.
    out_shape = np.broadcast_shapes(shape_a, shape_b)
    ga = np.broadcast_to(b0 + 1, out_shape)
    gb = np.broadcast_to(a0, out_shape)

    def sum_to(g, shape):
        while g.ndim > len(shape):
            g = g.sum(axis=0)
        for axis, n in enumerate(shape):
            if n == 1:
                g = g.sum(axis=axis, keepdims=True)
        return g

    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    np.testing.assert_allclose(a.grad, sum_to(ga, shape_a), rtol=1e-14)
    np.testing.assert_allclose(b.grad, sum_to(gb, shape_b), rtol=1e-14)


def test_matmul_one_d_by_one_d_backward():
    """A dot product's upstream gradient is 0-d; promoting it to a matrix once failed (AxisError)."""
    x0, y0 = np.array([1.0, 2.0, 3.0]), np.array([4.0, -5.0, 6.0])
    x, y = Tensor(x0, requires_grad=True), Tensor(y0, requires_grad=True)
    out = x @ y
    out.backward()
    assert out.item() == 4 - 10 + 18
    np.testing.assert_array_equal(x.grad, y0)
    np.testing.assert_array_equal(y.grad, x0)


def test_permute_with_negative_axes_backward():
    """permute(-1, 0, 1) means (2, 0, 1); its inverse once came out as the identity."""
    x0 = np.arange(24.0).reshape(2, 3, 4)
    weights = np.arange(24.0).reshape(4, 2, 3)
    x = Tensor(x0, requires_grad=True)
    (x.permute(-1, 0, 1) * weights).sum().backward()
    np.testing.assert_array_equal(x.grad, np.transpose(weights, (1, 2, 0)))


def test_gradient_of_x_to_the_zero_at_zero():
    """d(x^0)/dx = 0 at x = 0 too (both engines, as PyTorch), not 0 * inf = nan."""
    t = Tensor(np.array([0.0, 2.0]), requires_grad=True)
    (t**0).sum().backward()
    np.testing.assert_array_equal(t.grad, [0.0, 0.0])
    v = Value(0.0)
    (v**0).backward()
    assert v.grad == 0.0


# ---------------------------------------------------------------------- the tensor backward's heap (issue 12)


def test_copied_op_node_with_the_same_tick_backpropagates():
    """A copied op node keeps its creation tick; the heap must never compare two Tensors (their < is elementwise)."""
    import copy

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 2
    (y * copy.copy(y)).sum().backward()  # d/dx (2x)² = 8x
    np.testing.assert_array_equal(x.grad, [8.0, 16.0])


def test_leaf_switched_off_after_forward_gets_no_gradient():
    """As in PyTorch: requires_grad_(False) between forward and backward leaves .grad None (an optimizer skips it)."""
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    loss = (x * w).sum()
    x.requires_grad_(False)
    loss.backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])


def test_zero_d_leaf_with_two_gradients_keeps_an_array():
    """x * x on a 0-d leaf sends it two gradients; their sum is 2x, and .grad stays an ndarray (not a NumPy scalar)."""
    x = Tensor(np.array(3.0, dtype=np.float32), requires_grad=True)
    (x * x).backward()
    assert type(x.grad) is np.ndarray and x.grad.shape == () and x.grad.dtype == np.float32
    assert x.grad == 6.0
    x.grad += 1.0  # an array can be updated in place, as optimizers do
    assert x.grad == 7.0


def test_grad_of_an_input_given_twice_returns_it_twice():
    """grad(loss, [x, x]) gives two entries (as torch.autograd.grad does), two separate arrays."""
    from tinygrad_edu.autograd import grad

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    first, second = grad((x * x).sum(), [x, x])
    np.testing.assert_array_equal(first, [2.0, 4.0])
    np.testing.assert_array_equal(second, [2.0, 4.0])
    first[0] = 99.0
    assert second[0] == 2.0
