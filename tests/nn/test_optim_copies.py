"""Optimizer state travels with its parameters: deepcopy and pickle of (model, optimizer) mid-training
continue exactly as the uninterrupted run (PyTorch does the same), because the state is keyed by the
parameter itself, not by its id."""

import copy
import pickle

import numpy as np
import pytest

from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.nn import functional as F

X = np.random.default_rng(0).normal(size=(8, 2))
Y = np.random.default_rng(1).normal(size=(8, 2))


def model(engine="tensor", dtype=np.float32):
    g = np.random.default_rng(0)
    return nn.Sequential(
        nn.Linear(2, 3, generator=g, dtype=dtype, engine=engine),
        nn.Tanh(),
        nn.Linear(3, 2, generator=g, dtype=dtype, engine=engine),
    )


def train_step(net, opt):
    opt.zero_grad()
    if net.engine == "value":
        loss = F.mse_loss([net(row) for row in X.tolist()], Y.tolist())
    else:
        loss = F.mse_loss(net(Tensor(X.astype(np.float32))), Y.astype(np.float32))
    loss.backward()
    opt.step()


def weights(net):
    return {k: np.asarray(v) for k, v in net.state_dict().items()}


MAKERS = {
    "adam": lambda p: optim.Adam(p, lr=0.05),
    "momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
}
COPIERS = {
    "deepcopy": copy.deepcopy,
    "pickle": lambda obj: pickle.loads(pickle.dumps(obj)),
}


@pytest.mark.parametrize("engine", ["tensor", "value"])
@pytest.mark.parametrize("maker", sorted(MAKERS))
@pytest.mark.parametrize("copier", sorted(COPIERS))
def test_copied_model_and_optimizer_continue_bit_identically(engine, maker, copier):
    net = model(engine)
    opt = MAKERS[maker](net.parameters())
    for _ in range(3):
        train_step(net, opt)
    twin, twin_opt = COPIERS[copier]((net, opt))
    for _ in range(3):
        train_step(net, opt)
        train_step(twin, twin_opt)
    for key, array in weights(net).items():
        np.testing.assert_array_equal(weights(twin)[key], array, err_msg=key)
    # The copy's state belongs to the copy's parameters (not the originals, not nothing).
    twin_params = list(twin.parameters())
    assert all(twin_opt.param_groups[0]["params"][i] is p for i, p in enumerate(twin_params))
    assert set(map(id, twin_opt.state)) == set(map(id, twin_params))


def test_state_is_reached_by_the_parameter_itself():
    net = model()
    opt = optim.Adam(net.parameters(), lr=0.01)
    train_step(net, opt)
    w = net[0].weight
    assert opt.state[w]["step"] == 1
    assert opt.state[w]["exp_avg"].shape == w.shape
    # Two tensors with equal values are two keys (Tensor == is elementwise, hashing is by identity).
    twin = Tensor(w.data.copy(), requires_grad=True)
    assert twin not in opt.state and w in opt.state


def test_copying_the_optimizer_alone_copies_its_parameters_with_it():
    net = model()
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    train_step(net, opt)
    other = copy.deepcopy(opt)
    p = other.param_groups[0]["params"][0]
    assert p is not net[0].weight
    np.testing.assert_array_equal(other.state[p]["momentum_buffer"], opt.state[net[0].weight]["momentum_buffer"])


def test_pytorch_carries_the_state_too():
    """The contract this follows: in PyTorch, a deep copy of (model, Adam) continues identically."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    x, y = torch.tensor(X, dtype=torch.float32), torch.tensor(Y, dtype=torch.float32)

    def step(n, o):
        o.zero_grad()
        torch.nn.functional.mse_loss(n(x), y).backward()
        o.step()

    for _ in range(3):
        step(net, opt)
    twin, twin_opt = copy.deepcopy((net, opt))
    for _ in range(3):
        step(net, opt)
        step(twin, twin_opt)
    for a, b in zip(net.parameters(), twin.parameters()):
        assert torch.equal(a, b)
