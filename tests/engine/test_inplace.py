"""In-place writes and the version counter: backward refuses to use a saved input changed since the forward pass.

Each case is checked against PyTorch (float64), which raises "one of the variables needed for gradient
computation has been modified by an inplace operation" in the same places, and the right order of the
same calls is checked to give PyTorch's numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import DTypeError, GraphError, ShapeError, Tensor, nn, no_grad, optim

torch = pytest.importorskip("torch")


def _pair(seed: int = 0):
    """The same 3-4-2 tanh MLP on both engines (float64), and an input that requires grad."""
    ours = nn.Sequential(
        nn.Linear(3, 4, dtype=np.float64, generator=seed),
        nn.Tanh(),
        nn.Linear(4, 2, dtype=np.float64, generator=seed + 1),
    )
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(seed).standard_normal((5, 3))
    return ours, theirs, x


def test_optimizer_step_between_forward_and_backward_raises_as_in_pytorch():
    ours, theirs, x = _pair()
    xt, xo = torch.tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    # a first backward gives the parameters gradients, so the step really changes them
    ours(xo).sum().backward()
    theirs(xt).sum().backward()
    opt_o, opt_t = optim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(), lr=0.1)

    loss_o, loss_t = ours(xo).sum(), theirs(xt).sum()
    opt_o.step()
    opt_t.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss_t.backward()
    with pytest.raises(GraphError, match="modified by an in-place operation") as caught:
        loss_o.backward()
    message = str(caught.value)
    assert "Linear" in message and "(2, 4)" in message  # the op, and the shape of the changed weight
    assert "optimizer.step()" in message  # and the fix


def test_the_right_order_gives_pytorchs_gradients():
    ours, theirs, x = _pair(3)
    xt, xo = torch.tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    opt_o, opt_t = optim.Adam(ours.parameters(), lr=0.1), torch.optim.Adam(theirs.parameters(), lr=0.1)
    for _ in range(3):
        opt_o.zero_grad()
        opt_t.zero_grad()
        loss_o, loss_t = (ours(xo) ** 2).mean(), (theirs(xt) ** 2).mean()
        loss_o.backward()
        loss_t.backward()
        opt_o.step()
        opt_t.step()
    np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_step_changes_versions_and_load_state_dict_too():
    layer = nn.Linear(2, 2, dtype=np.float64, generator=0)
    start = layer.weight._version  # initialisation wrote the weights in place (as in PyTorch)
    layer(Tensor(np.ones((1, 2)))).sum().backward()
    optim.SGD(layer.parameters(), lr=0.1).step()
    assert layer.weight._version == start + 1
    x = Tensor(np.ones((1, 2)), requires_grad=True)
    loss = layer(x).sum()
    layer.load_state_dict(layer.state_dict())  # same numbers, but written in place: PyTorch raises too
    assert layer.weight._version == start + 2
    with pytest.raises(GraphError, match="in-place"):
        loss.backward()


@pytest.mark.parametrize(
    "write",
    [
        lambda t: t.__iadd__(1.0),
        lambda t: t.__isub__(1.0),
        lambda t: t.__imul__(2.0),
        lambda t: t.__itruediv__(2.0),
        lambda t: t.add_(1.0),
        lambda t: t.sub_(1.0),
        lambda t: t.mul_(2.0),
        lambda t: t.div_(2.0),
        lambda t: t.zero_(),
        lambda t: t.fill_(3.0),
        lambda t: t.copy_(np.arange(3.0)),
        lambda t: t.__setitem__(1, 9.0),
    ],
)
def test_every_in_place_write_bumps_the_version_and_is_seen_by_backward(write):
    w = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    x = Tensor(np.array([4.0, 5.0, 6.0]))  # an input: writes to it are allowed anywhere
    y = (w * x).sum()  # Mul saved x, for w's gradient
    before = x.data.copy()
    write(x)
    assert x._version == 1 and not np.array_equal(x.data, before)
    with pytest.raises(GraphError, match=r"Mul needs its input 1 \(a tensor of shape \(3,\)"):
        y.backward()


def test_writes_pytorch_does_not_check_are_not_refused():
    # Add saves nothing, so changing its input does not change its gradient: no error (as in PyTorch)
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x = Tensor(np.array([3.0, 4.0]))
    y = (w + x).sum()
    x += 1.0
    y.backward()
    np.testing.assert_array_equal(w.grad, [1.0, 1.0])
    # Mul reads x only for w's gradient: x changed but w does not need a gradient here
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0]))
    z = (b * a.detach()).sum() + a.sum()
    with no_grad():
        a -= 1.0
    z.backward()
    np.testing.assert_array_equal(a.grad, [1.0, 1.0])


def test_a_saved_output_changed_in_place_is_caught():
    x = Tensor(np.array([0.5, 1.0]), requires_grad=True)
    y = x.exp()  # backward reads eˣ, the result itself
    with no_grad():
        y += 1.0
    with pytest.raises(GraphError, match="Exp needs its output"):
        y.sum().backward()
    xt = torch.tensor([0.5, 1.0], requires_grad=True)
    yt = xt.exp()
    with torch.no_grad():
        yt += 1.0
    with pytest.raises(RuntimeError, match="inplace"):
        yt.sum().backward()


def test_detach_shares_the_version_counter():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (w * w).sum()
    w.detach().mul_(3.0)  # the same array: PyTorch catches this through the shared counter, and so do we
    assert w._version == 1
    with pytest.raises(GraphError, match="in-place"):
        y.backward()


def test_in_place_on_a_leaf_that_requires_grad_needs_no_grad():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(GraphError, match="no_grad"):
        w += 1.0
    with pytest.raises(GraphError, match="no_grad"):
        w.zero_()
    with no_grad():
        w -= 0.5
    np.testing.assert_array_equal(w.data, [0.5, 1.5])
    assert w.is_leaf and w.requires_grad and w._version == 1


def test_plus_equals_inside_a_graph_makes_a_new_node():
    # `loss += term` in a loop is a common habit; PyTorch records it in place, here it is `loss = loss + term`
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (w * w).sum()
    first = loss
    loss += (w * 3.0).sum()
    assert loss is not first and first.item() == 5.0
    loss.backward()
    np.testing.assert_array_equal(w.grad, 2 * w.data + 3.0)
    with pytest.raises(GraphError, match="recorded graph"):
        (w * 2.0).__setitem__(0, 1.0)
    buffer = Tensor(np.zeros(2))
    with pytest.raises(GraphError, match=r"the value requires grad.*stack"):
        buffer[0] = w[0]  # PyTorch records this; here it would silently drop w's gradient, so it is refused


def test_in_place_errors_name_the_cause():
    t = Tensor(np.array([1, 2, 3]), dtype=np.int64)
    with pytest.raises(DTypeError, match="int64") as caught:
        t += 0.5
    assert isinstance(caught.value, TypeError)
    with pytest.raises(ShapeError, match=r"\(2, 3\)"):
        Tensor(np.zeros(3)).add_(np.ones((2, 3)))
    with pytest.raises(tg.IndexOutOfRangeError, match=r"shape \(3,\)"):
        Tensor(np.zeros(3))[7] = 1.0
    with pytest.raises(tg.MixedEngineError, match=r"v\.data"):
        Tensor(np.zeros(3)).add_(tg.Value(1.0))
    f64 = Tensor(np.zeros(1))
    f64.copy_([0.1])  # a list is copied at full precision (not through float32)
    assert f64.data[0] == 0.1


def test_requires_grad_false_on_a_non_leaf_raises_and_detach_is_the_way():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = w * 2.0
    with pytest.raises(GraphError, match="detach"):
        h.requires_grad_(False)
    wt = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        (wt * 2.0).requires_grad_(False)
    h.requires_grad_(True)  # already true: allowed, as in PyTorch
    cut = h.detach()
    assert not cut.requires_grad and cut.is_leaf
    (cut * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])  # no gradient went through the cut
    w.requires_grad_(False)  # a leaf may
    assert not w.requires_grad


@pytest.mark.parametrize(
    "view",
    [lambda x: x[:2], lambda x: x.reshape(6), lambda x: x.T, lambda x: x.transpose(0, 1), lambda x: x.permute(1, 0)],
)
def test_views_share_the_version_counter_as_in_pytorch(view):
    # a view read by an op, its base changed in place: the op's input changed too (NumPy shares the memory)
    x = Tensor(np.arange(6.0).reshape(3, 2))
    w = Tensor(np.ones(view(x).shape), requires_grad=True)
    y = (view(x) * w).sum()  # Mul saved the view, for w's gradient
    x += 1.0
    with pytest.raises(GraphError, match="in-place"):
        y.backward()
    xt = torch.arange(6.0).reshape(3, 2)
    wt = torch.ones(view(xt).shape, requires_grad=True)
    yt = (view(xt) * wt).sum()
    xt += 1.0
    with pytest.raises(RuntimeError, match="inplace"):
        yt.backward()


def test_a_copy_made_by_fancy_indexing_is_not_a_view():
    w = Tensor(np.ones(2), requires_grad=True)
    x = Tensor(np.arange(6.0).reshape(3, 2))
    picked = x[np.array([0, 2])]  # advanced indexing copies (in NumPy and PyTorch)
    y = (picked[:, 0] * w).sum()
    x += 1.0
    y.backward()  # nothing y read has changed
    np.testing.assert_array_equal(w.grad, [0.0, 4.0])


def test_a_hand_set_grad_of_another_shape_is_refused_by_step():
    # numpy would broadcast it into every element: a silently wrong update (PyTorch refuses the assignment)
    w = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    w.grad = np.array([1.0])
    with pytest.raises(ShapeError, match=r"\(3,\).*\(1,\)"):
        optim.SGD([w], lr=0.1).step()
    np.testing.assert_array_equal(w.data, [1.0, 2.0, 3.0])
    w.grad = np.array([1.0, 0.0, 0.0])
    optim.SGD([w], lr=0.1).step()
    np.testing.assert_allclose(w.data, [0.9, 2.0, 3.0])
