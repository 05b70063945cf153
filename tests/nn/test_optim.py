"""Optimizers: hand-computed updates, PyTorch step by step, both engines, and optimizer state."""

import math

import numpy as np
import pytest

from tinygrad_edu import GraphError, ShapeError, Tensor, Value, nn, optim
from tinygrad_edu.nn import functional as F

X = np.random.default_rng(0).normal(size=(8, 2))
Y = np.random.default_rng(1).normal(size=(8, 2))


def model(engine="tensor", seed=0):
    g = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(2, 3, generator=g, dtype=np.float64, engine=engine),
        nn.Tanh(),
        nn.Linear(3, 2, generator=g, dtype=np.float64, engine=engine),
    )


def train_step(net, opt):
    opt.zero_grad()
    if net.engine == "value":
        outputs = [net(row) for row in X.tolist()]
        loss = F.mse_loss(outputs, Y.tolist())
    else:
        loss = F.mse_loss(net(Tensor(X)), Y)
    loss.backward()
    opt.step()


OPTIMIZERS = {
    "sgd": (lambda p: optim.SGD(p, lr=0.1), "SGD", {"lr": 0.1}),
    "momentum_wd": (
        lambda p: optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01),
        "SGD",
        {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01},
    ),
    "nesterov": (
        lambda p: optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
        "SGD",
        {"lr": 0.05, "momentum": 0.8, "nesterov": True},
    ),
    "adam": (lambda p: optim.Adam(p, lr=0.01), "Adam", {"lr": 0.01}),
    "adam_wd": (
        lambda p: optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        "Adam",
        {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
    ),
}


# ---------------------------------------------------------------------- by hand


def test_sgd_on_a_quadratic_matches_the_closed_form():
    # L = ½ Σ p², so grad = p and plain SGD gives p_k = p_0 (1 - lr)^k.
    p = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    for _ in range(5):
        opt.zero_grad()
        (0.5 * (p * p).sum()).backward()
        opt.step()
    np.testing.assert_allclose(p.data, np.array([1.0, -2.0]) * 0.9**5, rtol=1e-14)


def test_sgd_momentum_by_hand():
    # grad = p: b1 = p0, p1 = p0 - lr b1; b2 = m b1 + p1, p2 = p1 - lr b2
    lr, m, p0 = 0.1, 0.5, 2.0
    p1 = p0 - lr * p0
    p2 = p1 - lr * (m * p0 + p1)
    v = Value(p0)
    opt = optim.SGD([v], lr=lr, momentum=m)
    for _ in range(2):
        opt.zero_grad()
        (0.5 * v * v).backward()
        opt.step()
    assert math.isclose(v.data, p2, rel_tol=1e-15)
    assert type(v.data) is float


def test_adam_first_steps_by_hand():
    # Step 1: m̂ = g and v̂ = g², so p moves by lr · g / (|g| + eps), about lr against the gradient's sign.
    lr, eps = 0.1, 1e-8
    p = Tensor(np.array([3.0, -0.5]), requires_grad=True)
    opt = optim.Adam([p], lr=lr, eps=eps)
    (p * np.array([2.0, -4.0])).sum().backward()  # grad = [2, -4], constant
    opt.step()
    g = np.array([2.0, -4.0])
    np.testing.assert_allclose(p.data, [3.0, -0.5] - lr * g / (np.abs(g) + eps), rtol=1e-15)
    # Step 2 with the same gradient: m̂ = g, v̂ = g² again (bias correction undoes the running average).
    opt.step()
    np.testing.assert_allclose(p.data, [3.0, -0.5] - 2 * lr * g / (np.abs(g) + eps), rtol=1e-14)


def test_step_skips_parameters_without_gradients_and_zero_grad_clears():
    a = Tensor(np.array([1.0]), requires_grad=True)
    b = Value(5.0)
    opt = optim.Adam([a, b], lr=0.1)
    (a * 2.0).sum().backward()
    opt.step()
    assert b.data == 5.0 and a.data[0] != 1.0
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_optimizer_errors():
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"model.parameters\(\)"):
        optim.SGD([model()], lr=0.1)
    with pytest.raises(GraphError, match="leaf"):
        optim.SGD([Tensor(np.ones(2), requires_grad=True) * 2], lr=0.1)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam(model().parameters(), betas=(0.9, 1.0))


# ---------------------------------------------------------------------- against PyTorch and across engines


def torch_model(torch, net):
    ref = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2)).double()
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in net.state_dict().items()})
    return ref


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_matches_torch_for_10_steps(name):
    torch = pytest.importorskip("torch", reason="needs PyTorch: pip install -e '.[torch]' (CPU build: README)")
    make, torch_name, kwargs = OPTIMIZERS[name]
    net = model()
    ref = torch_model(torch, net)
    opt = make(net.parameters())
    ref_opt = getattr(torch.optim, torch_name)(ref.parameters(), **kwargs)
    x, y = torch.from_numpy(X), torch.from_numpy(Y)
    for step in range(10):
        train_step(net, opt)
        ref_opt.zero_grad()
        torch.nn.functional.mse_loss(ref(x), y).backward()
        ref_opt.step()
        ref_sd = ref.state_dict()
        for key, array in net.state_dict().items():
            np.testing.assert_allclose(array, ref_sd[key].numpy(), rtol=0, atol=1e-10, err_msg=f"{key} step {step}")


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_value_and_tensor_parameters_follow_the_same_path(name):
    make = OPTIMIZERS[name][0]
    net, value_net = model(), model("value", seed=3)
    value_net.load_state_dict(net.state_dict())
    opt, value_opt = make(net.parameters()), make(value_net.parameters())
    for _ in range(5):
        train_step(net, opt)
        train_step(value_net, value_opt)
    for key, array in net.state_dict().items():
        np.testing.assert_allclose(value_net.state_dict()[key], array, rtol=0, atol=1e-12, err_msg=key)


# ---------------------------------------------------------------------- state


@pytest.mark.parametrize("engine", ["tensor", "value"])
def test_state_dict_resumes_training_exactly(engine):
    net = model(engine)
    opt = optim.Adam(net.parameters(), lr=0.05)
    for _ in range(3):
        train_step(net, opt)
    saved_model, saved_opt = net.state_dict(), opt.state_dict()
    assert saved_opt["state"][0]["step"] == 3
    assert saved_opt["param_groups"][0]["lr"] == 0.05
    first = saved_opt["state"][0]["exp_avg"]
    assert isinstance(first, np.ndarray) and first.shape == ((3, 2) if engine == "tensor" else ())

    twin = model(engine, seed=9)
    twin.load_state_dict(saved_model)
    twin_opt = optim.Adam(twin.parameters(), lr=0.001)
    twin_opt.load_state_dict(saved_opt)
    assert twin_opt.param_groups[0]["lr"] == 0.05
    for _ in range(3):
        train_step(net, opt)
        train_step(twin, twin_opt)
    for key, array in net.state_dict().items():
        np.testing.assert_array_equal(twin.state_dict()[key], array, err_msg=key)


def test_state_dict_is_a_copy_and_bad_state_changes_nothing():
    net = model()
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    train_step(net, opt)
    sd = opt.state_dict()
    sd["state"][0]["momentum_buffer"][:] = 123.0
    assert not np.any(opt.state[net[0].weight]["momentum_buffer"] == 123.0)
    before = opt.state_dict()
    bad = opt.state_dict()
    bad["state"][1]["momentum_buffer"] = np.zeros(7)
    bad["param_groups"][0]["lr"] = 5.0
    with pytest.raises(ShapeError, match="momentum_buffer"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(
        opt.state_dict()["state"][1]["momentum_buffer"], before["state"][1]["momentum_buffer"]
    )
    with pytest.raises(ShapeError, match="parameters"):
        optim.SGD(list(net.parameters())[:2], lr=0.1).load_state_dict(before)


def test_param_groups_and_lr_changes():
    net = model()
    opt = optim.SGD([{"params": net[0].parameters(), "lr": 0.0}, {"params": net[2].parameters()}], lr=0.1)
    w0, w2 = net[0].weight.data.copy(), net[2].weight.data.copy()
    train_step(net, opt)
    np.testing.assert_array_equal(net[0].weight.data, w0)  # lr 0 in its group
    assert not np.array_equal(net[2].weight.data, w2)
    assert "lr: 0.1" in repr(opt)
