"""Gradients of gradients on the Value engine, and `grad()`'s PyTorch semantics.

Second derivatives are checked against PyTorch float64 (`torch.autograd.functional.hessian`) to
1e-9, and against finite differences of the first derivative (`gradgradcheck`).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import GraphError, MixedEngineError, Value, weighted_sum
from tinygrad_edu.check import article

# name -> (ours on Values, PyTorch on 0-d tensors, point): every op, and each composed op, with
# its inputs also multiplied together where that makes the cross terms of the Hessian non-zero.
CASES = {
    "add": (lambda a, b: (a + b) * (a + 2.0), lambda a, b: (a + b) * (a + 2.0), (0.7, -1.3)),
    "mul": (lambda a, b: a * b * b, lambda a, b: a * b * b, (0.7, -1.3)),
    "mul constant": (lambda a, b: (a * 3.0) * a, lambda a, b: (a * 3.0) * a, (0.7, -1.3)),
    "pow int": (lambda a, b: a**3, lambda a, b: a**3, (0.7, -1.3)),
    "pow float": (lambda a, b: a**2.5, lambda a, b: a**2.5, (0.7, -1.3)),
    "pow negative": (lambda a, b: a**-2, lambda a, b: a**-2, (0.7, -1.3)),
    "pow value": (lambda a, b: a**b, lambda a, b: a**b, (0.7, -1.3)),
    "rpow": (lambda a, b: 2.0**a, lambda a, b: 2.0**a, (0.7, -1.3)),
    "exp": (lambda a, b: (a * b).exp(), lambda a, b: (a * b).exp(), (0.7, -1.3)),
    "log": (lambda a, b: (a * a + b).log(), lambda a, b: (a * a + b).log(), (1.7, 0.4)),
    "tanh": (lambda a, b: (a * b).tanh(), lambda a, b: (a * b).tanh(), (0.7, -1.3)),
    "sigmoid": (lambda a, b: (a * b).sigmoid(), lambda a, b: (a * b).sigmoid(), (0.7, -1.3)),
    "relu": (lambda a, b: (a * b).relu() * a, lambda a, b: (a * b).relu() * a, (0.7, 1.3)),
    "relu off": (lambda a, b: (a * b).relu() * a, lambda a, b: (a * b).relu() * a, (0.7, -1.3)),
    "neg sub": (lambda a, b: -(a - b) * (b - 1.0), lambda a, b: -(a - b) * (b - 1.0), (0.7, -1.3)),
    "div": (lambda a, b: a / b, lambda a, b: a / b, (0.7, -1.3)),
    "rdiv": (lambda a, b: 2.0 / (a * b), lambda a, b: 2.0 / (a * b), (0.7, -1.3)),
    "rsub radd": (lambda a, b: (1.0 - a * b) * (2.0 + a), lambda a, b: (1.0 - a * b) * (2.0 + a), (0.7, -1.3)),
    "weighted_sum": (
        lambda a, b: weighted_sum([a, b], [b, 2.0], a).tanh(),
        lambda a, b: (a * b + b * 2.0 + a).tanh(),
        (0.7, -1.3),
    ),
    "weighted_sum mixed": (
        lambda a, b: weighted_sum([a, b, b], [2.0, a, 3.0], b) * a,
        lambda a, b: (a * 2.0 + b * a + b * 3.0 + b) * a,
        (0.7, -1.3),
    ),
    "weighted_sum values": (
        lambda a, b: weighted_sum([a, b], [b, a]).sigmoid(),
        lambda a, b: (a * b + b * a).sigmoid(),
        (0.7, -1.3),
    ),
}


def hessian(fn, point):
    """Our Hessian: grad with create_graph, then grad of each entry (a constant entry: a zero row)."""
    xs = [Value(p) for p in point]
    first = tg.grad(fn(*xs), xs, create_graph=True, allow_unused=True)
    rows = []
    for g in first:
        if g is None or not g.requires_grad:
            rows.append([0.0] * len(xs))
        else:
            rows.append([0.0 if h is None else h for h in tg.grad(g, xs, allow_unused=True)])
    return np.array(rows)


@pytest.mark.parametrize("name", CASES)
def test_second_derivative_of_every_op_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs, point = CASES[name]
    expected = torch.autograd.functional.hessian(theirs, tuple(torch.tensor(p, dtype=torch.float64) for p in point))
    expected = np.array([[float(h) for h in row] for row in expected])
    np.testing.assert_allclose(hessian(ours, point), expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", CASES)
def test_second_derivative_of_every_op_matches_finite_differences(name):
    ours, _, point = CASES[name]
    assert tg.gradgradcheck(ours, [Value(p) for p in point], atol=1e-6, rtol=1e-5)


def test_gradgradcheck_catches_a_wrong_second_derivative(monkeypatch):
    from tinygrad_edu import sweep

    monkeypatch.setitem(sweep.RULES, "tanh", lambda out, a, b: (1.0 - out,))  # wrong: should be 1 - out²
    with pytest.raises(tg.GradcheckError, match="gradient for input 0"):
        tg.gradgradcheck(lambda a: a.tanh(), [Value(0.4)])


def test_backward_create_graph_makes_grad_a_value_with_a_graph():
    x = Value(0.5, name="x")
    y = x.sigmoid()
    y.backward(create_graph=True)
    s = 1 / (1 + math.exp(-0.5))
    assert type(x.grad) is Value and x.grad.requires_grad
    assert x.grad.data == pytest.approx(s * (1 - s), rel=1e-15)
    (second,) = tg.grad(x.grad, x)
    assert second == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-12)
    from tinygrad_edu.viz import draw

    assert "sigmoid" in draw(x.grad).source  # the gradient's graph is drawn like any graph


def test_backward_create_graph_accumulates_into_a_float_grad():
    x = Value(2.0)
    (x * x).backward()
    (x * x).backward(create_graph=True)
    assert type(x.grad) is Value and x.grad.data == 8.0


def test_first_order_grad_equals_backward_exactly():
    w = [Value(v) for v in (0.3, -0.7, 1.1)]
    x = [Value(v, requires_grad=False) for v in (0.5, 2.0, -1.5)]
    loss = sum((weighted_sum(w, x, w[0]).tanh() * wi for wi in w), Value(0.0)) ** 2
    grads = tg.grad(loss, w)
    assert all(p.grad is None for p in w)  # grad() touches no .grad
    loss.backward()
    assert list(grads) == [p.grad for p in w]
    assert all(type(g) is float for g in grads)


# ---------------------------------------------------------------------- grad() semantics


def test_grad_refuses_an_unused_input_unless_allowed():
    x, unused = Value(1.0), Value(2.0, name="u")
    y = x * 3.0
    with pytest.raises(GraphError, match=r"input 1 \(u\) is not used.*allow_unused=True"):
        tg.grad(y, [x, unused])
    assert tg.grad(y, [x, unused], allow_unused=True) == (3.0, None)


def test_grad_takes_single_nodes_and_sequences_and_returns_a_tuple():
    x = Value(3.0)
    assert tg.grad(x * x, x) == (6.0,)
    assert tg.grad([x * x], (x,)) == (6.0,)


def test_grad_outputs_weight_each_output():
    x = Value(3.0)
    y1, y2 = x * x, x * 5.0
    assert tg.grad([y1, y2], x, grad_outputs=[2.0, 3.0]) == (2.0 * 6.0 + 3.0 * 5.0,)
    with pytest.raises(tg.ShapeError, match="2 outputs but 1 grad_outputs"):
        tg.grad([y1, y2], x, grad_outputs=[1.0])


def test_grad_leaves_every_grad_alone_and_can_run_again():
    x = Value(3.0)
    h = x * x
    y = h.tanh()
    first = tg.grad(y, x, retain_graph=False)
    assert tg.grad(y, x) == first  # the scalar engine keeps its graph
    assert x.grad is None and h.grad is None and y.grad is None


def test_grad_with_respect_to_an_intermediate_node():
    x = Value(3.0)
    h = x * x
    y = h * 2.0 + h
    assert tg.grad(y, h) == (3.0,)


def test_grad_errors_name_the_cause():
    x = Value(1.0)
    with pytest.raises(GraphError, match="output 0 does not require grad"):
        tg.grad(Value(1.0, requires_grad=False) * 2.0, x)
    with pytest.raises(GraphError, match="input 0 does not require grad"):
        tg.grad(x * 2.0, Value(1.0, requires_grad=False))
    with pytest.raises(MixedEngineError):
        tg.grad(x * 2.0, tg.Tensor(np.ones(1), requires_grad=True))


def test_grad_hands_tensors_to_the_tensor_engine(monkeypatch):
    import tinygrad_edu.autograd as autograd

    calls = []

    def fake(*args):
        calls.append(args)
        return ["g"]

    monkeypatch.setattr(autograd, "_grad_tensors", fake)
    t = tg.Tensor(np.ones(2), requires_grad=True)
    out = t.sum()
    assert tg.grad(out, t, create_graph=True) == ("g",)
    assert calls == [([out], [t], [None], None, True)]


def test_create_graph_result_is_differentiable_and_float_result_is_not():
    x = Value(0.3)
    (g,) = tg.grad(x.tanh(), x, create_graph=True)
    assert type(g) is Value and g.requires_grad
    (h,) = tg.grad(g, x)
    t = math.tanh(0.3)
    assert h == pytest.approx(-2 * t * (1 - t * t), rel=1e-14)


# ---------------------------------------------------------------------- the article's network


def test_article_network_hessian_wrt_w5_to_w8_matches_pytorch():
    torch = pytest.importorskip("torch")
    graph = article.build("value")
    names = ["w5", "w6", "w7", "w8"]
    ws = [graph.params[n][0] for n in names]
    first = tg.grad(graph.loss, ws, create_graph=True)
    # dE/dw5 depends on w5, w6 only (the other output's weights are unused), as in PyTorch
    ours = np.array([[0.0 if h is None else h for h in tg.grad(g, ws, allow_unused=True)] for g in first])
    assert ours[0, 2] == ours[0, 3] == 0.0

    state = {k: torch.tensor(v, dtype=torch.float64) for k, v in article.state_dict().items()}
    x = torch.tensor(article.INPUTS, dtype=torch.float64)
    target = torch.tensor(article.TARGETS, dtype=torch.float64)

    def loss(w5, w6, w7, w8):
        w_out = torch.stack([torch.stack([w5, w6]), torch.stack([w7, w8])])
        hidden = torch.sigmoid(state["0.weight"] @ x + state["0.bias"])
        out = torch.sigmoid(w_out @ hidden + state["2.bias"])
        return 0.5 * ((out - target) ** 2).sum()

    point = tuple(torch.tensor(article.WEIGHTS[n], dtype=torch.float64) for n in names)
    expected = np.array([[float(h) for h in row] for row in torch.autograd.functional.hessian(loss, point)])
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-12)
    assert float(loss(*point)) == pytest.approx(graph.loss.data, rel=1e-14)


def test_gradgradcheck_refuses_no_inputs_and_mixed_engines():
    with pytest.raises(tg.TinygradEduError, match="at least one input"):
        tg.gradgradcheck(lambda: Value(1.0), [])
    with pytest.raises(TypeError, match="all of one engine"):
        tg.gradgradcheck(lambda a, b: a, [Value(1.0), tg.Tensor(np.ones(1))])
