"""Values and gradients against PyTorch in float64, on random compositions of ops (skipped without torch).

Kinks are not avoided here: relu'(0), |x|'(0), clip on its bounds and ties in max / maximum follow
PyTorch's conventions, so the two must agree there too.
"""

import numpy as np
import pytest
import strategies as S
from hypothesis import given, note
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor

torch = pytest.importorskip("torch", reason="needs PyTorch: pip install -e '.[torch]' (CPU build: README)")
F = torch.nn.functional

TOL = {"rtol": 1e-10, "atol": 1e-10}


def pair(array):
    """The same float64 leaf in both frameworks."""
    return Tensor(array.copy(), requires_grad=True), torch.tensor(array, dtype=torch.float64, requires_grad=True)


def assert_same(ours, theirs):
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **TOL)


def backward_both(ours, theirs, rng):
    """Backward with the same random upstream gradient (exercises `backward(gradient=...)`)."""
    g = rng.standard_normal(ours.shape)
    ours.backward(gradient=g)
    theirs.backward(torch.tensor(g))


def assert_grads(our_leaves, torch_leaves):
    for i, (a, b) in enumerate(zip(our_leaves, torch_leaves)):
        expected = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        got = np.zeros(a.shape) if a.grad is None else a.grad
        np.testing.assert_allclose(got, expected, err_msg=f"leaf {i}", **TOL)


# ---------------------------------------------------------------------- random elementwise chains

# Steps that keep the broadcast shape of (h, y): (ours, torch), both written on h and the second input y.
STEPS = {
    "add": (lambda h, y: h + y, lambda h, y: h + y),
    "rsub": (lambda h, y: y - h, lambda h, y: y - h),
    "mul": (lambda h, y: h * y, lambda h, y: h * y),
    "div": (lambda h, y: h / (y * y + 1), lambda h, y: h / (y * y + 1)),
    "pow": (lambda h, y: (h * h + 0.5) ** y.tanh(), lambda h, y: (h * h + 0.5) ** y.tanh()),
    "maximum": (lambda h, y: h.maximum(y), lambda h, y: torch.maximum(h, y)),
    "exp": (lambda h, y: h.tanh().exp(), lambda h, y: h.tanh().exp()),
    "log": (lambda h, y: (h * h + 1).log(), lambda h, y: (h * h + 1).log()),
    "tanh": (lambda h, y: h.tanh(), lambda h, y: h.tanh()),
    "sigmoid": (lambda h, y: h.sigmoid(), lambda h, y: h.sigmoid()),
    "relu": (lambda h, y: h.relu(), lambda h, y: h.relu()),
    "abs": (lambda h, y: h.abs(), lambda h, y: h.abs()),
    "clip": (lambda h, y: h.clip(-0.5, 0.5), lambda h, y: h.clamp(-0.5, 0.5)),
    "neg": (lambda h, y: -h, lambda h, y: -h),
    "square": (lambda h, y: h**2, lambda h, y: h**2),
    "rdiv": (lambda h, y: 1 / (h * h + 1), lambda h, y: 1 / (h * h + 1)),
    "rpow": (lambda h, y: 2 ** h.tanh(), lambda h, y: 2 ** h.tanh()),
    "softmax": (lambda h, y: h.softmax(-1), lambda h, y: h.softmax(-1)),
    "log_softmax": (lambda h, y: h.log_softmax(0), lambda h, y: h.log_softmax(0)),
}


def finishers(ndim, draw):
    """A last op that changes the shape: a reduction, a reshape, a permutation or an index."""
    choice = draw(st.sampled_from(["sum", "mean", "max", "reshape", "T", "permute", "index", "none"]))
    keepdims = draw(st.booleans())
    if choice in ("sum", "mean", "max"):
        axis = draw(S.axes(ndim))
        dims = tuple(range(ndim)) if axis is None else axis
        if choice == "max":
            return (
                choice,
                (lambda h: h.max(axis=axis, keepdims=keepdims)),
                (lambda h: h.amax(dim=dims, keepdim=keepdims)),
            )
        if choice == "sum":
            return (
                choice,
                (lambda h: h.sum(axis=axis, keepdims=keepdims)),
                (lambda h: h.sum(dim=dims, keepdim=keepdims)),
            )
        return choice, (lambda h: h.mean(axis=axis, keepdims=keepdims)), (lambda h: h.mean(dim=dims, keepdim=keepdims))
    if choice == "reshape":
        return choice, (lambda h: h.reshape(-1, 1)), (lambda h: h.reshape(-1, 1))
    if choice == "T":
        return choice, (lambda h: h.T), (lambda h: h.permute(tuple(reversed(range(ndim)))))
    if choice == "permute":
        axes = tuple(draw(st.permutations(range(ndim))))
        return choice, (lambda h: h.permute(axes)), (lambda h: h.permute(axes))
    if choice == "index" and ndim:
        return choice, (lambda h: h[..., [0, 0, -1]]), (lambda h: h[..., [0, 0, -1]])
    return "none", (lambda h: h), (lambda h: h)


@given(shapes=S.broadcast_pairs(max_dims=3), data=st.data())
def test_random_compositions_match_torch(shapes, data):
    x = data.draw(S.arrays(shapes[0]))
    y = data.draw(S.arrays(shapes[1]))
    names = data.draw(st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=6))
    ndim = max(len(shapes[0]), len(shapes[1]))
    if ndim == 0:  # softmax needs an axis
        names = [n for n in names if "softmax" not in n] or ["tanh"]
    name, finish_ours, finish_torch = finishers(ndim, data.draw)
    note(f"add, {', '.join(names)}, then {name}")
    ox, tx = pair(x)
    oy, ty = pair(y)
    h, k = ox, tx
    for step in ["add", *names]:  # start with a binary op so h has the broadcast shape
        ours, theirs = STEPS[step]
        h, k = ours(h, oy), theirs(k, ty)
    h, k = finish_ours(h), finish_torch(k)
    assert_same(h, k)
    backward_both(h, k, np.random.default_rng(0))
    assert_grads([ox, oy], [tx, ty])


# ---------------------------------------------------------------------- layers and losses


@pytest.mark.parametrize("bias", [True, False])
@given(batch=st.sampled_from([(), (3,), (2, 3)]), data=st.data())
def test_two_layer_network_with_cross_entropy_matches_torch(bias, batch, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((*batch, 4))
    ox, tx = pair(x)
    ow1, tw1 = pair(rng.standard_normal((5, 4)))
    ob1, tb1 = pair(rng.standard_normal(5))
    ow2, tw2 = pair(rng.standard_normal((3, 5)))
    ob2, tb2 = pair(rng.standard_normal(3))
    h = tg.linear(tg.linear(ox, ow1, ob1 if bias else None).tanh(), ow2, ob2)
    k = F.linear(F.linear(tx, tw1, tb1 if bias else None).tanh(), tw2, tb2)
    assert_same(h, k)
    logits, t_logits = h.reshape(-1, 3), k.reshape(-1, 3)
    target = rng.integers(0, 3, logits.shape[0])
    loss = tg.cross_entropy(logits, target) + (logits.softmax(-1) * logits.log_softmax(-1)).mean()
    t_loss = F.cross_entropy(t_logits, torch.tensor(target)) + (t_logits.softmax(-1) * t_logits.log_softmax(-1)).mean()
    assert_same(loss, t_loss)
    loss.backward()
    t_loss.backward()
    assert_grads([ox, ow1, ob1, ow2, ob2], [tx, tw1, tb1, tw2, tb2])


@given(shapes=S.matmul_pairs(), data=st.data())
def test_matmul_matches_torch(shapes, data):
    ox, tx = pair(data.draw(S.arrays(shapes[0])))
    oy, ty = pair(data.draw(S.arrays(shapes[1])))
    h, k = (ox @ oy).sigmoid(), torch.matmul(tx, ty).sigmoid()
    assert_same(h, k)
    backward_both(h, k, np.random.default_rng(1))
    assert_grads([ox, oy], [tx, ty])


@given(shape=S.shapes(min_dims=1), data=st.data())
def test_indexing_matches_torch(shape, data):
    """Integer arrays with repeats and boolean masks: gradients add up where an element is read twice."""
    x = data.draw(S.arrays(shape))
    rows = np.array(data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=5)))
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=x.size, max_size=x.size))).reshape(shape)
    ox, tx = pair(x)
    h = ox[rows].exp().sum() + (ox[mask] ** 2).sum() + ox[..., -1:].tanh().sum()
    k = tx[torch.tensor(rows)].exp().sum() + (tx[torch.tensor(mask)] ** 2).sum() + tx[..., -1:].tanh().sum()
    assert_same(h, k)
    h.backward()
    k.backward()
    assert_grads([ox], [tx])


@given(shape=S.shapes(min_dims=1, max_dims=3), n=st.integers(1, 3), data=st.data())
def test_concatenate_and_stack_match_torch(shape, n, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    leaves = [pair(data.draw(S.arrays(shape))) for _ in range(n)]
    ours, theirs = [a for a, _ in leaves], [b for _, b in leaves]
    h = tg.concatenate([t * (i + 1) for i, t in enumerate(ours)], axis=axis)
    h = tg.stack([h, h.tanh()], axis=axis).sum(axis=axis) * tg.concatenate(ours, axis=axis)
    k = torch.cat([t * (i + 1) for i, t in enumerate(theirs)], dim=axis)
    k = torch.stack([k, k.tanh()], dim=axis).sum(dim=axis) * torch.cat(theirs, dim=axis)
    assert_same(h, k)
    backward_both(h, k, np.random.default_rng(2))
    assert_grads(ours, theirs)


def test_kinks_and_ties_match_torch():
    x = np.array([[0.0, 1.0, 1.0], [-0.5, 0.5, 2.0]])
    y = np.array([0.0, 1.0, -3.0])
    ox, tx = pair(x)
    oy, ty = pair(y)
    h = ox.relu() + ox.abs() + ox.clip(-0.5, 0.5) + ox.maximum(oy) + ox.max(axis=1, keepdims=True) + ox.max()
    h = h + ox ** Tensor(np.zeros(3)) * oy + (ox * 0) ** oy.abs()
    k = tx.relu() + tx.abs() + tx.clamp(-0.5, 0.5) + torch.maximum(tx, ty) + tx.amax(dim=1, keepdim=True) + tx.amax()
    k = k + tx ** torch.zeros(3, dtype=torch.float64) * ty + (tx * 0) ** ty.abs()
    assert_same(h, k)
    backward_both(h, k, np.random.default_rng(3))
    assert_grads([ox, oy], [tx, ty])
