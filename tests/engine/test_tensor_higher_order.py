"""Gradients of gradients on the Tensor engine: every op's second derivative against PyTorch (float64)
and against finite differences of first derivatives (gradgradcheck); grad()'s contract on Tensors; an MLP's
Hessian-vector product."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import GradcheckError, GraphError, Tensor, concatenate, cross_entropy, gradgradcheck, linear, ops
from tinygrad_edu.autograd import grad
from tinygrad_edu.tensor import _apply

TARGET = np.array([1, 0, 4, 2])
ROWS = [0, 2, 0]  # a repeated row: Index's backward must add, not overwrite


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _signed(rng, shape):
    """Values away from 0 and from each other's kinks (relu, abs, clip at ±0.5, max, maximum)."""
    magnitude = rng.uniform(0.6, 1.5, shape) + np.arange(int(np.prod(shape))).reshape(shape) * 1e-2
    return magnitude * rng.choice([-1.0, 1.0], shape)


# op name -> (input makers, our function, PyTorch's function). Each case reaches its op in the
# forward pass; the loss squares the result so the gradient arriving at the op depends on the inputs.
CASES = {
    "Add": ([_signed, _signed], ((3, 4), (4,)), lambda x, y: x + y, lambda t, x, y: x + y),
    "Sub": ([_signed, _signed], ((3, 4), (3, 1)), lambda x, y: x - y, lambda t, x, y: x - y),
    "Mul": ([_signed, _signed], ((3, 4), (4,)), lambda x, y: x * y, lambda t, x, y: x * y),
    "Div": ([_signed, _positive], ((3, 4), (3, 4)), lambda x, y: x / y, lambda t, x, y: x / y),
    "Pow": ([_positive, _signed], ((3, 4), (4,)), lambda x, y: x**y, lambda t, x, y: x**y),
    "Maximum": ([_signed, _signed], ((3, 4), (3, 4)), lambda x, y: x.maximum(y), lambda t, x, y: t.maximum(x, y)),
    "Neg": ([_signed], ((3, 4),), lambda x: -x, lambda t, x: -x),
    "Exp": ([_signed], ((3, 4),), lambda x: x.exp(), lambda t, x: x.exp()),
    "Log": ([_positive], ((3, 4),), lambda x: x.log(), lambda t, x: x.log()),
    "Tanh": ([_signed], ((3, 4),), lambda x: x.tanh(), lambda t, x: x.tanh()),
    "Sigmoid": ([_signed], ((3, 4),), lambda x: x.sigmoid(), lambda t, x: x.sigmoid()),
    "Relu": ([_signed], ((3, 4),), lambda x: x.relu(), lambda t, x: x.relu()),
    "Abs": ([_signed], ((3, 4),), lambda x: x.abs(), lambda t, x: x.abs()),
    "Clip": ([_signed], ((3, 4),), lambda x: x.clip(-1.0, 1.0), lambda t, x: x.clamp(-1.0, 1.0)),
    "MatMul": ([_signed, _signed], ((3, 4), (4, 2)), lambda x, y: x @ y, lambda t, x, y: x @ y),
    "MatMul 1-D": ([_signed, _signed], ((4,), (4, 2)), lambda x, y: x @ y, lambda t, x, y: x @ y),
    "MatMul batched": ([_signed, _signed], ((2, 3, 4), (4,)), lambda x, y: x @ y, lambda t, x, y: x @ y),
    "Linear": (
        [_signed, _signed, _signed],
        ((3, 4), (2, 4), (2,)),
        lambda x, w, b: linear(x, w, b),
        lambda t, x, w, b: t.nn.functional.linear(x, w, b),
    ),
    "Sum": ([_signed], ((3, 4),), lambda x: x.sum(axis=1), lambda t, x: x.sum(dim=1)),
    "Mean": ([_signed], ((3, 4),), lambda x: x.mean(axis=0, keepdims=True), lambda t, x: x.mean(dim=0, keepdim=True)),
    "Max": ([_signed], ((3, 4),), lambda x: x.max(axis=1), lambda t, x: t.amax(x, dim=1)),
    "Expand": ([_signed], ((3, 1),), lambda x: x.expand(3, 4), lambda t, x: x.expand(3, 4)),
    "Reshape": ([_signed], ((3, 4),), lambda x: x.reshape(2, 6), lambda t, x: x.reshape(2, 6)),
    "Permute": ([_signed], ((2, 3, 4),), lambda x: x.permute(2, 0, 1), lambda t, x: x.permute(2, 0, 1)),
    "Index": ([_signed], ((3, 4),), lambda x: x[ROWS], lambda t, x: x[ROWS]),
    "Index slice": ([_signed], ((3, 4),), lambda x: x[1:, ::2], lambda t, x: x[1:, ::2]),
    "Scatter": (
        [_signed],
        ((3, 4),),
        lambda x: _apply(ops.Scatter, (x,), (5, 4), np.array(ROWS)),
        lambda t, x: t.zeros(5, 4, dtype=t.float64).index_add(0, t.tensor(ROWS), x),
    ),
    "Concatenate": (
        [_signed, _signed],
        ((3, 2), (3, 4)),
        lambda x, y: concatenate([x, y], axis=1),
        lambda t, x, y: t.cat([x, y], dim=1),
    ),
    "Softmax": ([_signed], ((3, 4),), lambda x: x.softmax(axis=-1), lambda t, x: x.softmax(dim=-1)),
    "LogSoftmax": ([_signed], ((3, 4),), lambda x: x.log_softmax(axis=0), lambda t, x: x.log_softmax(dim=0)),
    "CrossEntropy": (
        [_signed],
        ((4, 5),),
        lambda x: cross_entropy(x, TARGET),
        lambda t, x: t.nn.functional.cross_entropy(x, t.tensor(TARGET)),
    ),
}


def test_every_op_in_the_table_has_a_second_derivative_case():
    covered = {name.split()[0] for name in CASES}
    assert covered == {op.__name__ for op in ops.TABLE}


def _arrays(name: str) -> list[np.ndarray]:
    makers, shapes, _, _ = CASES[name]
    rng = np.random.default_rng(sorted(CASES).index(name))
    return [make(rng, shape) for make, shape in zip(makers, shapes)]


def _weights(name: str, shapes: list[tuple[int, ...]]) -> tuple[np.ndarray, list[np.ndarray]]:
    """c weights the squared output; v_i weights the first gradient of input i."""
    rng = np.random.default_rng(1000 + sorted(CASES).index(name))
    out_shape = np.shape(CASES[name][2](*[Tensor(np.ones(s)) for s in shapes]).data)
    return rng.uniform(-1, 1, out_shape), [rng.uniform(-1, 1, s) for s in shapes]


def _ours(name: str) -> list[np.ndarray]:
    fn = CASES[name][2]
    xs = [Tensor(a, requires_grad=True) for a in _arrays(name)]
    c, vs = _weights(name, [x.shape for x in xs])
    out = fn(*xs)
    loss = (out * out * c).sum()
    firsts = grad(loss, xs, create_graph=True)
    assert all(isinstance(f, Tensor) for f in firsts)
    total = sum(((f * v).sum() for f, v in zip(firsts, vs)), Tensor(np.array(0.0)))
    return [np.asarray(g) for g in grad(total, xs)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivative_matches_torch(name):
    torch = pytest.importorskip("torch")
    fn = CASES[name][3]
    xs = [torch.tensor(a, requires_grad=True) for a in _arrays(name)]
    c, vs = _weights(name, [tuple(x.shape) for x in xs])
    out = fn(torch, *xs)
    loss = (out * out * torch.tensor(c)).sum()
    firsts = torch.autograd.grad(loss, xs, create_graph=True)
    total = sum((f * torch.tensor(v)).sum() for f, v in zip(firsts, vs))
    expected = torch.autograd.grad(total, xs)
    for got, want in zip(_ours(name), expected):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivative_matches_finite_differences(name):
    fn = CASES[name][2]
    inputs = [Tensor(a) for a in _arrays(name)]
    assert gradgradcheck(lambda *xs: (lambda out: out * out)(fn(*xs)), inputs, atol=1e-6, rtol=1e-5)


def test_gradgradcheck_catches_a_wrong_second_derivative(monkeypatch):
    # Tanh's backward with z in place of z² is right at first order nowhere, so check a subtler bug:
    # the right first derivative, but saved as a constant, so create_graph loses the d/dx of 1 - z².
    monkeypatch.setattr(ops.Tanh, "saved_tensors", staticmethod(lambda parents, out, saved: saved))
    with pytest.raises(GradcheckError, match="second derivative"):
        gradgradcheck(lambda x: x.tanh(), [Tensor(np.array([0.3, -0.8]))])


# ---------------------------------------------------------------------- grad() on Tensors: PyTorch's contract


def test_tensor_grad_does_not_touch_grad_and_matches_backward():
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    w = Tensor(np.array([1.5, 0.25, -2.0]), requires_grad=True)
    (gx, gw) = grad(((x * w).tanh()).sum(), (x, w), retain_graph=True)
    assert x.grad is None and w.grad is None
    t = np.tanh(x.data * w.data)
    np.testing.assert_allclose(gx, (1 - t**2) * w.data, rtol=1e-15)
    np.testing.assert_allclose(gw, (1 - t**2) * x.data, rtol=1e-15)


def test_tensor_grad_unused_input_raises_unless_allowed():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    unused = Tensor(np.array([3.0]), requires_grad=True)
    with pytest.raises(GraphError, match=r"input 1 .* not used"):
        grad((x * x).sum(), (x, unused), retain_graph=True)
    gx, gu = grad((x * x).sum(), (x, unused), allow_unused=True)
    np.testing.assert_array_equal(gx, [2.0, 4.0])
    assert gu is None


def test_tensor_grad_needs_grad_outputs_for_a_non_scalar_and_weights_by_them():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = x * x
    with pytest.raises(GraphError, match="shape \\(3,\\)"):
        grad(y, x, retain_graph=True)
    (g,) = grad(y, x, grad_outputs=np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(g, [2.0, 0.0, -6.0])


def test_tensor_grad_of_an_input_that_does_not_require_grad_raises():
    x = Tensor(np.array([1.0]), requires_grad=True)
    k = Tensor(np.array([2.0]))
    with pytest.raises(GraphError, match="does not require grad"):
        grad((x * k).sum(), (x, k))


def test_tensor_grad_of_an_intermediate_result_is_the_gradient_flowing_into_it():
    x = Tensor(np.array([0.2, 0.7]), requires_grad=True)
    h = x.exp()
    (gh,) = grad((h * h).sum(), h)
    np.testing.assert_allclose(gh, 2 * np.exp([0.2, 0.7]), rtol=1e-15)


def test_grad_of_several_outputs_adds_their_gradients():
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    a, b = (x * x).sum(), x.exp().sum()
    (g,) = grad((a, b), x)
    np.testing.assert_allclose(g, 2 * x.data + np.exp(x.data), rtol=1e-15)


def test_backward_create_graph_makes_grad_a_tensor_that_can_be_differentiated():
    x = Tensor(np.array([0.3, -1.2]), requires_grad=True)
    x.sigmoid().sum().backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Tensor) and first.requires_grad
    s = 1 / (1 + np.exp(-x.data))
    np.testing.assert_allclose(first.data, s * (1 - s), rtol=1e-15)
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad, s * (1 - s) * (1 - 2 * s), rtol=1e-14)  # σ'' = σ(1-σ)(1-2σ)


def test_third_derivative_of_a_cube():
    x = Tensor(np.array(1.7), requires_grad=True)
    (d1,) = grad(x * x * x, x, create_graph=True)
    (d2,) = grad(d1, x, create_graph=True)
    (d3,) = grad(d2, x)
    assert (float(d1.data), float(d2.data), float(d3)) == pytest.approx((3 * 1.7**2, 6 * 1.7, 6.0), rel=1e-15)


def test_first_order_gradients_are_plain_arrays_and_create_graph_restores_grad_mode():
    from tinygrad_edu import is_grad_enabled, no_grad

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (g,) = grad((x * x).sum(), x)
    assert type(g) is np.ndarray
    with no_grad():
        y = (x * 1.0).sum()
    assert not y.requires_grad  # recorded nothing under no_grad
    loss = (x * x * x).sum()
    with no_grad():  # PyTorch records the derivative graph when asked, even inside no_grad
        (g,) = grad(loss, x, create_graph=True)
        assert not is_grad_enabled()
    assert g.requires_grad


# ---------------------------------------------------------------------- a Hessian-vector product


def _mlp_loss(params, x, y):
    w1, b1, w2, b2 = params
    h = (x @ w1 + b1).tanh()
    return cross_entropy((h @ w2 + b2).sigmoid() * 3.0, y)


def test_mlp_hessian_vector_product_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    shapes = [(3, 5), (5,), (5, 4), (4,)]
    arrays = [rng.normal(0, 0.8, s) for s in shapes]
    vectors = [rng.normal(0, 1, s) for s in shapes]
    x, y = rng.normal(0, 1, (6, 3)), rng.integers(0, 4, 6)

    params = [Tensor(a, requires_grad=True) for a in arrays]
    grads = grad(_mlp_loss(params, Tensor(x), y), params, create_graph=True)
    dot = sum(((g * v).sum() for g, v in zip(grads, vectors)), Tensor(np.array(0.0)))
    ours = grad(dot, params)

    tparams = [torch.tensor(a, requires_grad=True) for a in arrays]
    w1, b1, w2, b2 = tparams
    h = torch.tanh(torch.tensor(x) @ w1 + b1)
    loss = torch.nn.functional.cross_entropy(torch.sigmoid(h @ w2 + b2) * 3.0, torch.tensor(y))
    tgrads = torch.autograd.grad(loss, tparams, create_graph=True)
    theirs = torch.autograd.grad(sum((g * torch.tensor(v)).sum() for g, v in zip(tgrads, vectors)), tparams)
    for got, want in zip(ours, theirs):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------- the engine's buffers


def test_leaves_never_share_a_gradient_buffer():
    # Add hands the same array to both inputs; the engine keeps new arrays without a copy, so it
    # must tell the two apart: an optimizer's in-place update of one grad must not move the other.
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    (a + b).sum().backward()
    assert a.grad is not b.grad
    a.grad -= 5.0
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_a_0d_node_used_many_times_adds_every_path():
    # 0-d gradients add up to NumPy scalars, which cannot be added into in place
    x = Tensor(np.array(0.7), requires_grad=True)
    y = x + x
    z = y + x
    ((z * 3.0).sum() + (y * 5.0).sum()).backward()
    assert float(x.grad) == 3 * 3 + 2 * 5


def test_first_order_backward_onto_a_graph_grad_adds_numbers_only():
    x = Tensor(np.array([0.5, 1.0]), requires_grad=True)
    (x * x * x).sum().backward(create_graph=True)  # x.grad = 3x², a graph
    assert x.grad.requires_grad
    (x * 2.0).sum().backward()
    assert isinstance(x.grad, Tensor) and not x.grad.requires_grad and x.grad.is_leaf
    np.testing.assert_allclose(x.grad.data, 3 * x.data**2 + 2.0, rtol=1e-15)


def test_a_gradient_graph_draws_like_any_other_graph():
    from tinygrad_edu.viz import draw

    x = Tensor(np.array(0.5), requires_grad=True, name="x")
    (first,) = grad(x.sigmoid(), x, create_graph=True)
    first.backward(retain_graph=True)
    source = draw(first).source
    # dσ/dx = g * (s * (1 - s)): the sigmoid of the forward pass, then Sub, Mul, Mul of the backward one
    assert source.count("Sigmoid") == 1 and source.count("Sub") == 1 and source.count("Mul") == 2
    s = 1 / (1 + np.exp(-0.5))
    assert float(x.grad) == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-14)


def test_tensor_grad_returns_arrays_of_their_own():
    # Add hands one array to both inputs; the caller must get two
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    gx, gy = grad((x + y).sum(), (x, y))
    gx += 1.0
    np.testing.assert_array_equal(gy, [1.0, 1.0])


def test_create_graph_adds_broadcast_gradients_from_every_use():
    # x is broadcast in two products: both gradients are summed back to x's shape, then added
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    a, b = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    (g,) = grad(((x * a) + (x * b) * x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, a.sum(0) + 2 * x.data * b.sum(0), rtol=1e-15)
    (h,) = grad(g.sum(), x)
    np.testing.assert_allclose(h, 2 * b.sum(0), rtol=1e-15)


# ---------------------------------------------------------------------- through the public grad()


def test_public_grad_hands_tensors_to_the_tensor_engine_with_array_weights():
    import tinygrad_edu

    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = x * x
    (g,) = tinygrad_edu.grad(y, x, grad_outputs=np.array([1.0, 0.0, -1.0]), retain_graph=True)
    np.testing.assert_array_equal(g, [2.0, 0.0, -6.0])
    assert x.grad is None
    (first,) = tinygrad_edu.grad(y.sum(), x, create_graph=True)
    (second,) = tinygrad_edu.grad(first.sum(), x)
    np.testing.assert_array_equal(second, [2.0, 2.0, 2.0])


def test_public_grad_hessian_vector_product_matches_torch():
    import tinygrad_edu

    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    arrays = [rng.normal(0, 0.8, s) for s in [(3, 5), (5,), (5, 4), (4,)]]
    vectors = [rng.normal(0, 1, a.shape) for a in arrays]
    x, y = rng.normal(0, 1, (6, 3)), rng.integers(0, 4, 6)
    params = [Tensor(a, requires_grad=True) for a in arrays]
    grads = tinygrad_edu.grad(_mlp_loss(params, Tensor(x), y), params, create_graph=True)
    ours = tinygrad_edu.grad(sum(((g * v).sum() for g, v in zip(grads, vectors)), Tensor(np.array(0.0))), params)
    tparams = [torch.tensor(a, requires_grad=True) for a in arrays]
    w1, b1, w2, b2 = tparams
    h = torch.tanh(torch.tensor(x) @ w1 + b1)
    loss = torch.nn.functional.cross_entropy(torch.sigmoid(h @ w2 + b2) * 3.0, torch.tensor(y))
    tgrads = torch.autograd.grad(loss, tparams, create_graph=True)
    theirs = torch.autograd.grad(sum((g * torch.tensor(v)).sum() for g, v in zip(tgrads, vectors)), tparams)
    for got, want in zip(ours, theirs):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-9, atol=1e-12)


def test_gradgradcheck_dispatches_tensors_to_the_tensor_checker():
    assert gradgradcheck(lambda x, w: (x @ w).sigmoid().sum(), [Tensor(np.ones((2, 3)) * 0.3), Tensor(np.eye(3))])
