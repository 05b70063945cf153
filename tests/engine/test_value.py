"""The scalar engine: every `Value` op's result against `math`, its gradient against finite differences."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import floats

from tinygrad_edu import Value, gradcheck, weighted_sum

TOL = {"atol": 1e-7, "rtol": 1e-6}  # far tighter than the defaults: float64 central differences allow it

# name -> (our op on Values, the same maths on floats, the strategy for its inputs)
UNARY = {
    "exp": (lambda a: a.exp(), math.exp, floats(-3, 3)),
    "log": (lambda a: a.log(), math.log, floats(0.1, 5)),
    "tanh": (lambda a: a.tanh(), math.tanh, floats(-3, 3)),
    "sigmoid": (lambda a: a.sigmoid(), lambda a: 1 / (1 + math.exp(-a)), floats(-6, 6)),
    "relu": (lambda a: a.relu(), lambda a: max(a, 0.0), floats(-3, 3, kinks=(0.0,))),
    "neg": (lambda a: -a, lambda a: -a, floats()),
    "square": (lambda a: a**2, lambda a: a * a, floats()),
    "cube": (lambda a: a**3, lambda a: a**3, floats()),
    "pow -1": (lambda a: a**-1, lambda a: 1 / a, floats(0.2, 3)),
    "pow -1 negative base": (lambda a: a**-1, lambda a: 1 / a, floats(-3, -0.2)),
    "pow 0.5": (lambda a: a**0.5, math.sqrt, floats(0.1, 4)),
    "pow -2.5": (lambda a: a**-2.5, lambda a: a**-2.5, floats(0.3, 3)),
    "pow 0": (lambda a: a**0, lambda a: 1.0, floats()),
    "radd": (lambda a: 2 + a, lambda a: 2 + a, floats()),
    "rsub": (lambda a: 1 - a, lambda a: 1 - a, floats()),
    "rmul": (lambda a: 3 * a, lambda a: 3 * a, floats()),
    "rtruediv": (lambda a: 2 / a, lambda a: 2 / a, floats(0.2, 3)),
    "rpow": (lambda a: 2**a, lambda a: 2**a, floats()),
    "add number": (lambda a: a + 1.5, lambda a: a + 1.5, floats()),
    "sub number": (lambda a: a - 1.5, lambda a: a - 1.5, floats()),
    "div number": (lambda a: a / 4, lambda a: a / 4, floats()),
}

BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, floats(), floats()),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, floats(), floats()),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, floats(), floats()),
    "div": (lambda a, b: a / b, lambda a, b: a / b, floats(), floats(0.2, 3)),
    "div negative": (lambda a, b: a / b, lambda a, b: a / b, floats(), floats(-3, -0.2)),
    "pow value": (lambda a, b: a**b, lambda a, b: a**b, floats(0.2, 3), floats(-2, 2)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_value_and_gradient(name, data):
    op, reference, strategy = UNARY[name]
    a = data.draw(strategy)
    out = op(Value(a))
    assert out.data == pytest.approx(reference(a), rel=1e-12, abs=1e-12)
    assert gradcheck(op, [Value(a)], **TOL)


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_value_and_gradient(name, data):
    op, reference, left, right = BINARY[name]
    a, b = data.draw(left), data.draw(right)
    assert op(Value(a), Value(b)).data == pytest.approx(reference(a, b), rel=1e-12, abs=1e-12)
    assert gradcheck(op, [Value(a), Value(b)], **TOL)


@given(a=floats(-3, 3), b=floats(-3, 3))
def test_gradients_match_hand_derivatives(a, b):
    """Closed forms written out by hand, not by the engine: d/da of sigmoid(a*b) + tanh(a) * exp(b)."""
    x, y = Value(a), Value(b)
    (x * y).sigmoid().__add__(x.tanh() * y.exp()).backward()
    s = 1 / (1 + math.exp(-a * b))
    assert x.grad == pytest.approx(s * (1 - s) * b + (1 - math.tanh(a) ** 2) * math.exp(b), rel=1e-12)
    assert y.grad == pytest.approx(s * (1 - s) * a + math.tanh(a) * math.exp(b), rel=1e-12)


@given(a=floats(0.2, 3), b=floats(-2, 2))
def test_value_power_gradients_closed_form(a, b):
    x, y = Value(a), Value(b)
    (x**y).backward()
    assert x.grad == pytest.approx(b * a ** (b - 1), rel=1e-12)
    assert y.grad == pytest.approx(a**b * math.log(a), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("a", [-40.0, -700.0, -800.0, 40.0, 800.0])
def test_sigmoid_is_stable_for_large_inputs(a):
    """Both branches of the sigmoid: no OverflowError, and the limits 0 and 1 (derivative 0 there)."""
    x = Value(a)
    out = x.sigmoid()
    out.backward()
    expected = math.exp(a) / (1 + math.exp(a)) if a < 0 else 1 / (1 + math.exp(-a))
    assert out.data == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert x.grad == pytest.approx(expected * (1 - expected), rel=1e-12, abs=1e-300)


def test_relu_gradient_at_zero_is_zero():
    """PyTorch's convention: relu'(0) = 0."""
    x = Value(0.0)
    x.relu().backward()
    assert x.grad == 0.0


@given(
    ws=st.lists(floats(), min_size=1, max_size=4),
    data=st.data(),
)
def test_weighted_sum_value_and_gradient(ws, data):
    n = len(ws)
    xs = data.draw(st.lists(floats(), min_size=n, max_size=n))
    b = data.draw(floats())
    mask = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))  # which inputs are Values
    expected = sum(w * x for w, x in zip(ws, xs)) + b
    # Everything a Value: weights, inputs and bias all get gradients.
    out = weighted_sum([Value(w) for w in ws], [Value(x) for x in xs], Value(b))
    assert out.data == pytest.approx(expected, rel=1e-12, abs=1e-12)

    def as_values(*args):
        w, x, bias = args[:n], args[n : 2 * n], args[2 * n]
        return weighted_sum(list(w), list(x), bias).tanh()

    assert gradcheck(as_values, [Value(v) for v in [*ws, *xs, b]], **TOL)

    # Plain numbers for some inputs and for the bias: folded into the node, gradients only for the Values.
    def mixed(*w):
        inputs = [Value(x) if m else x for x, m in zip(xs, mask)]
        return weighted_sum(list(w), inputs, b) * 2.0

    assert gradcheck(mixed, [Value(w) for w in ws], **TOL)


def test_weighted_sum_gradients_closed_form():
    w = [Value(0.1), Value(0.2)]
    x = [Value(2.78), Value(2.55)]
    bias = Value(0.5)
    s = weighted_sum(w, x, bias)
    s.backward()
    assert s.data == pytest.approx(0.278 + 0.51 + 0.5, rel=1e-15)
    assert [v.grad for v in w] == [2.78, 2.55]
    assert [v.grad for v in x] == [0.1, 0.2]
    assert bias.grad == 1.0


def test_weighted_sum_without_bias_and_repeated_weight():
    """The same Value as two weights: its gradient is the sum over both edges."""
    w = Value(3.0)
    x = Value(5.0)
    s = weighted_sum([w, w], [x, 2.0])
    s.backward()
    assert s.data == 3.0 * 5.0 + 3.0 * 2.0
    assert w.grad == 5.0 + 2.0
    assert x.grad == 3.0


def test_constants_do_not_become_nodes():
    x = Value(2.0)
    y = 2 * x + 1
    assert y._parents[0]._parents == (x,)
    assert all(type(p) is Value for p in y._parents)


def test_item_and_float():
    x = Value(1.25)
    assert x.item() == 1.25
    assert float(x) == 1.25
    assert "1.25" in repr(x)


def test_backward_takes_pytorch_gradient_keyword_and_scales_every_grad():
    torch = pytest.importorskip("torch")
    a, b = Value(1.5), Value(-2.0)
    (a * b + a.tanh()).backward(gradient=0.25)
    ta = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(-2.0, dtype=torch.float64, requires_grad=True)
    (ta * tb + ta.tanh()).backward(gradient=torch.tensor(0.25, dtype=torch.float64))
    assert a.grad == pytest.approx(ta.grad.item(), abs=1e-15) and b.grad == pytest.approx(tb.grad.item(), abs=1e-15)


def test_micrograd_label_is_another_spelling_of_name():
    a = Value(2.0, label="a")
    assert a.name == "a" and a.label == "a"
    a.label = "b"
    assert a.name == "b"
    b = Value(1.0, name="x")
    assert b.label == "x" and "name='x'" in repr(b)
