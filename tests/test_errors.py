"""Bad input raises the package's error type *and* the builtin a user would catch, with a message that teaches."""

import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import (
    DTypeError,
    GradcheckError,
    GraphError,
    MathDomainError,
    MixedEngineError,
    ShapeError,
    Tensor,
    TinygradEduError,
    Value,
    ops,
)
from tinygrad_edu.tensor import _apply


def raises(kind, builtin, *words):
    """pytest.raises for `kind`, also checking it is a `builtin` and a TinygradEduError, and names `words`."""
    assert issubclass(kind, builtin) and issubclass(kind, TinygradEduError)
    return pytest.raises(kind, match="(?s)" + "".join(f"(?=.*{re.escape(w)})" for w in words))


@pytest.mark.parametrize(
    ("kind", "builtin"),
    [
        (ShapeError, ValueError),
        (MathDomainError, ValueError),
        (DTypeError, TypeError),
        (MixedEngineError, TypeError),
        (GraphError, RuntimeError),
        (GradcheckError, AssertionError),
    ],
)
def test_every_error_is_a_package_error_and_a_builtin(kind, builtin):
    assert issubclass(kind, TinygradEduError) and issubclass(kind, builtin)
    assert kind.__name__ in tg.__all__


# ---------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("fn", "op"),
    [
        (lambda a, b: a + b, "add"),
        (lambda a, b: a - b, "sub"),
        (lambda a, b: a * b, "mul"),
        (lambda a, b: a / b, "div"),
        (lambda a, b: a**b, "pow"),
        (lambda a, b: a.maximum(b), "maximum"),
    ],
)
def test_mismatched_broadcast_names_op_and_both_shapes(fn, op):
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.ones((4,)))
    with raises(ShapeError, ValueError, op, "(2, 3)", "(4,)"):
        fn(a, b)


def test_matmul_mismatch():
    with raises(ShapeError, ValueError, "matmul", "(2, 3)", "(4, 5)", "transpose"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    with raises(ShapeError, ValueError, "matmul", "(3,)", "(2,)"):
        tg.matmul(Tensor(np.ones(3)), Tensor(np.ones(2)))
    with raises(ShapeError, ValueError, "matmul"):
        Tensor(np.ones(3)) @ Tensor(np.array(2.0))  # a 0-d operand


def test_linear_mismatch():
    x, w = Tensor(np.ones((4, 3))), Tensor(np.ones((5, 4)))
    with raises(ShapeError, ValueError, "linear", "(4, 3)", "(5, 4)", "in_features"):
        tg.linear(x, w)
    with raises(ShapeError, ValueError, "linear", "(7,)"):
        tg.linear(Tensor(np.ones((4, 4))), w, Tensor(np.ones(7)))


def test_concatenate_and_stack_mismatch():
    with raises(ShapeError, ValueError, "concatenate", "(2, 3)", "(2, 4)"):
        tg.concatenate([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))])
    with raises(ShapeError, ValueError, "stack", "(2, 3)", "(3, 2)"):
        tg.stack([Tensor(np.ones((2, 3))), Tensor(np.ones((3, 2)))])


def test_reshape_to_a_wrong_size():
    with raises(ShapeError, ValueError, "reshape", "(2, 3)"):
        Tensor(np.ones((2, 3))).reshape(4, 2)


# ---------------------------------------------------------------------- dtypes


def test_integer_tensor_cannot_require_grad():
    with raises(DTypeError, TypeError, "int64", "requires_grad", "float"):
        Tensor(np.array([1, 2], dtype=np.int64), requires_grad=True)
    with raises(DTypeError, TypeError, "int32"):
        Tensor.from_numpy(np.array([1, 2], dtype=np.int32), requires_grad=True)
    with raises(DTypeError, TypeError, "bool"):
        Tensor(np.array([True])).requires_grad_()


def test_cross_entropy_rejects_float_and_out_of_range_targets():
    logits = Tensor(np.zeros((2, 3)), requires_grad=True)
    with raises(DTypeError, TypeError, "cross_entropy", "integer", "float64"):
        tg.cross_entropy(logits, np.array([0.0, 1.0]))
    with raises(DTypeError, TypeError, "cross_entropy", "float32"):
        tg.cross_entropy(logits, Tensor([0, 1]))  # a list becomes float32: say dtype=np.int64
    with raises(MathDomainError, ValueError, "cross_entropy", "[0, 3)", "3"):
        tg.cross_entropy(logits, np.array([0, 3]))
    with raises(MathDomainError, ValueError, "cross_entropy", "-1"):
        tg.cross_entropy(logits, np.array([-1, 0]))
    with raises(ShapeError, ValueError, "cross_entropy", "(2, 3)", "(3,)"):
        tg.cross_entropy(logits, np.array([0, 1, 2]))


# ---------------------------------------------------------------------- graph misuse


def test_backward_on_non_scalar_without_gradient():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with raises(GraphError, RuntimeError, "backward", "(2, 3)", "gradient"):
        y.backward()


def test_backward_with_a_gradient_of_the_wrong_shape():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with raises(ShapeError, ValueError, "backward", "(3, 2)", "(2, 3)"):
        y.backward(gradient=np.ones((3, 2)))


def test_backward_through_a_freed_graph_names_the_op():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.sigmoid().sum()
    y.backward()
    with raises(GraphError, RuntimeError, "Sum", "retain_graph=True"):
        y.backward()
    # A second root sharing the freed part of the graph cannot go through it either.
    h = x.tanh()
    (h * 2).sum().backward()
    with raises(GraphError, RuntimeError, "Tanh", "freed"):
        (h * 3).sum().backward()


def test_backward_on_something_that_needs_no_grad():
    with raises(GraphError, RuntimeError, "backward", "requires_grad"):
        (Tensor(np.ones(1)) * 2).backward()
    with raises(GraphError, RuntimeError, "backward"):
        (Value(1.0, requires_grad=False) * 2).backward()


# ---------------------------------------------------------------------- the scalar engine's domains


@pytest.mark.parametrize("x", [0.0, -1.5])
def test_log_of_non_positive_value(x):
    with raises(MathDomainError, ValueError, "log", str(x)):
        Value(x).log()


def test_value_pow_value_with_negative_base_is_a_domain_error():
    """Documented: d(a^b)/db = a^b ln a has no real value for a < 0, so this is an error, never a number."""
    with raises(MathDomainError, ValueError, "Value ** Value", "negative", "-2.0"):
        Value(-2.0) ** Value(2.0)
    with raises(MathDomainError, ValueError, "negative"):
        (-2) ** Value(3.0)  # the reflected form takes the same path


def test_negative_base_to_a_non_integer_number_power():
    with raises(MathDomainError, ValueError, "0.5", "negative", "-4.0"):
        Value(-4.0) ** 0.5
    assert (Value(-2.0) ** 3).data == -8.0  # an integer power of a negative base is fine


def test_zero_to_a_negative_power():
    with raises(MathDomainError, ValueError, "-1"):
        Value(0.0) ** -1
    with raises(MathDomainError, ValueError, "0"):
        1 / Value(0.0)


# ---------------------------------------------------------------------- mixing engines


@pytest.mark.parametrize(
    ("fn", "op"),
    [
        (lambda v, t: v + t, "+"),
        (lambda v, t: t + v, "+"),
        (lambda v, t: v * t, "*"),
        (lambda v, t: t * v, "*"),
        (lambda v, t: v - t, None),
        (lambda v, t: t - v, "-"),
        (lambda v, t: v / t, "/"),
        (lambda v, t: t / v, "/"),
        (lambda v, t: v**t, "**"),
        (lambda v, t: t**v, "**"),
    ],
)
def test_value_and_tensor_do_not_mix(fn, op):
    words = ("Value", "Tensor") if op is None else ("Value", "Tensor", op)
    with raises(MixedEngineError, TypeError, *words):
        fn(Value(2.0), Tensor(np.ones(3), requires_grad=True))


def test_value_and_tensor_constructors_refuse_each_other():
    with raises(MixedEngineError, TypeError, "Value(Tensor)", "item()"):
        Value(Tensor(np.ones(1)))
    with raises(MixedEngineError, TypeError, "Tensor(Value)", "v.data"):
        Tensor(Value(1.0))
    with raises(MixedEngineError, TypeError, "weighted_sum"):
        tg.weighted_sum([Value(1.0)], [Tensor(np.ones(1))])


def test_weighted_sum_length_mismatch():
    with raises(ShapeError, ValueError, "weighted_sum", "2 weights", "1 inputs"):
        tg.weighted_sum([Value(1.0), Value(2.0)], [3.0])


# ---------------------------------------------------------------------- gradcheck catches a wrong derivative


class WrongSigmoid(ops.Sigmoid):
    """sigmoid with the classic learner's slip: s instead of s (1 - s)."""

    @staticmethod
    def backward(out, g, needs):
        return (g * out,)


def test_gradcheck_names_the_input_and_element_of_a_wrong_gradient():
    x = Tensor(np.array([[0.5, -1.0], [2.0, 0.0]]), name="x")
    w = Tensor(np.array([1.0, 2.0]))
    # w's gradient is right (it does not go through the wrong op), x's is wrong from its first element.
    with raises(GradcheckError, AssertionError, "input 1", "(x)", "element (0, 0)", "finite differences"):
        tg.gradcheck(lambda w, x: _apply(WrongSigmoid, (x,)) * w, [w, x])
    # The same function with the real op passes: the failure above is the wrong backward, not the check.
    assert tg.gradcheck(lambda w, x: x.sigmoid() * w, [w, x])


def test_gradcheck_reports_the_analytic_and_numeric_values():
    """At x = 0: the wrong rule gives s = 0.5, the right one s (1 - s) = 0.25, so the ratio is 2."""
    x = Tensor(np.array([0.0]))
    with pytest.raises(GradcheckError) as info:
        tg.gradcheck(lambda x: _apply(WrongSigmoid, (x,)), [x])
    found = re.search(r"autodiff gives (\S+) but finite differences give (\S+) ", str(info.value))
    assert found is not None
    analytic, numeric = float(found[1]), float(found[2])
    assert analytic / numeric == pytest.approx(2.0, rel=1e-6)


def test_gradcheck_on_values_names_the_label():
    def wrong_square(a):
        out = a * a
        out._locals = (a.data, a.data / 2)  # a deliberately wrong local derivative on one edge
        return out

    with raises(GradcheckError, AssertionError, "input 0", "(a)"):
        tg.gradcheck(wrong_square, [Value(3.0, label="a")])


def test_gradcheck_refuses_mixed_inputs():
    with pytest.raises(TypeError):
        tg.gradcheck(lambda a, b: a, [Value(1.0), Tensor(np.ones(1))])


# ---------------------------------------------------------------------- once defects, now regressions


def test_value_minus_tensor_names_the_minus():
    with raises(MixedEngineError, TypeError, "Value - Tensor"):
        Value(2.0) - Tensor(np.ones(3))


def test_value_exp_overflow_is_a_clear_error_or_inf():
    try:
        out = Value(1000.0).exp()
    except TinygradEduError as error:
        assert "exp" in str(error)
    else:
        assert out.data == float("inf")
