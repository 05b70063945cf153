"""Issue 11's scalar items: NaN propagates through relu, division by zero says so, exp's real limit,
every error a tinygrad_edu error; and the slotted engine's bookkeeping (edges, users, graph kept)."""

from __future__ import annotations

import math

import pytest

import tinygrad_edu as tg
from tinygrad_edu import Value
from tinygrad_edu.errors import ArgumentTypeError, DivisionByZeroError, MathDomainError, TinygradEduError


def test_relu_of_nan_is_nan_with_pytorchs_gradient():
    x = Value(math.nan)
    y = x.relu()
    assert math.isnan(y.data)
    y.backward()
    assert x.grad == 1.0  # torch: relu'(nan) passes the gradient (nan <= 0 is false)


def test_relu_of_nan_reaches_anomaly_mode():
    w = Value(2.0)
    with tg.detect_anomaly(), pytest.raises(tg.AnomalyError, match=r"backward of \*"):
        (Value(math.nan).relu() * w).backward()  # d/dw = relu(nan) = nan


@pytest.mark.parametrize("x", [0.0, -0.0])
def test_value_divided_by_a_zero_value_reports_division_by_zero(x):
    with pytest.raises(DivisionByZeroError, match="division by zero") as info:
        Value(1.0) / Value(x)
    assert "**" not in str(info.value)
    assert isinstance(info.value, ZeroDivisionError) and isinstance(info.value, TinygradEduError)


def test_number_divided_by_a_zero_value_reports_division_by_zero():
    with pytest.raises(ZeroDivisionError, match="division by zero") as info:
        1.0 / Value(0.0)
    assert "**" not in str(info.value)


@pytest.mark.parametrize("x", [709.78, 709.7801, 709.782, 709.782712893384])
def test_exp_accepts_every_input_with_a_finite_result(x):
    y = Value(x).exp()
    assert y.data == math.exp(x) and math.isfinite(y.data)


@pytest.mark.parametrize("x", [709.7827128933841, 709.79, 1000.0])
def test_exp_refuses_only_overflow(x):
    with pytest.raises(MathDomainError, match="exp"):
        Value(x).exp()


@pytest.mark.parametrize(
    "make",
    [lambda: Value("a"), lambda: Value([1.0]), lambda: Value(Value(1.0)), lambda: Value(1.0) + "s",
     lambda: Value(1.0) * None, lambda: Value(1.0) ** "2", lambda: Value(1.0) + True],
)  # fmt: skip
def test_bad_operands_raise_a_tinygrad_edu_type_error(make):
    with pytest.raises(ArgumentTypeError) as info:
        make()
    assert isinstance(info.value, TypeError) and isinstance(info.value, TinygradEduError)
    assert "Value" in str(info.value)


def test_pow_domain_errors_name_the_operands():
    with pytest.raises(MathDomainError, match=r"Value \*\* 0.5: a negative base"):
        Value(-2.0) ** 0.5
    with pytest.raises(DivisionByZeroError, match=r"Value \*\* -1"):
        Value(0.0) ** -1


def test_locals_are_taken_at_forward_time_and_the_graph_is_kept():
    """Documented: changing a leaf's data after the forward pass does not change the gradient."""
    a, b = Value(2.0), Value(3.0)
    y = a * b
    a.data = 100.0
    y.backward()
    assert (a.grad, b.grad) == (3.0, 2.0)
    y.backward()  # the graph is still there: the leaves accumulate
    assert (a.grad, b.grad) == (6.0, 4.0)


def test_a_shared_node_gets_all_its_users_before_passing_on():
    """x feeds four paths of different lengths; backward must sum them all before going below x."""
    w = Value(0.5)
    x = w * 3.0
    y = x * x + x.tanh() + (x * 2.0).exp() + x
    y.backward()
    xd = 1.5
    dy_dx = 2 * xd + (1 - math.tanh(xd) ** 2) + 2 * math.exp(2 * xd) + 1
    assert w.grad == pytest.approx(3.0 * dy_dx, rel=1e-15)


def test_constants_never_become_nodes_and_edges_read_as_before():
    x = Value(2.0)
    y = (x * 3.0 + 1.0) ** 2
    assert y._parents[0]._parents[0]._parents == (x,)
    assert y._locals == (2 * 7.0,) and y._parents[0]._locals == (1.0,)
    z = x * x
    assert z._parents == (x, x) and z._locals == (2.0, 2.0)


def test_backward_sums_in_creation_order_bit_for_bit():
    """Gradients must not change in the last bit: each node's contributions are summed newest user first,
    as the walk-and-sort reference below does (a sweep that counts users would reorder the sums)."""
    import random

    from tinygrad_edu.graph import walk

    def reference(root):
        grads = {root: 1.0}
        for node in walk(root, grad_only=True):
            for parent, local in zip(node._parents, node._locals):
                grads[parent] = grads.get(parent, 0.0) + local * grads.get(node, 0.0)
        return grads

    for seed in range(100):
        rng = random.Random(seed)
        leaves = [Value(rng.uniform(-1, 1)) for _ in range(5)]
        nodes = list(leaves)
        for _ in range(60):
            a, b = rng.choice(nodes), rng.choice(nodes)
            nodes.append(rng.choice([lambda: a + b, lambda: a * b, lambda: a.tanh()])())
        nodes[-1].backward()
        expected = reference(nodes[-1])
        assert [leaf.grad for leaf in leaves] == [expected.get(leaf) for leaf in leaves]
