"""Optimizers across the PyTorch bridge: training continues where it stopped.

5 steps here, `to_torch(optimizer, torch_model)`, 5 steps in PyTorch must land where 10 steps here
land (float64, to 1e-12), for every SGD and Adam setting, several parameter groups and both engines;
and back: 5 here, 5 in PyTorch, `from_torch`, 5 here again == 15 here.
"""

import numpy as np
import pytest

from tinygrad_edu import ConversionError, Tensor, from_torch, nn, optim, to_torch
from tinygrad_edu.nn import functional as F

torch = pytest.importorskip("torch", reason="needs PyTorch: pip install -e '.[torch]' (CPU build: README)")

X = np.random.default_rng(7).normal(size=(6, 3))
Y = np.random.default_rng(8).uniform(size=(6, 2))

SETTINGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.05}),
]


def build(engine):
    g = np.random.default_rng(3)
    return nn.Sequential(
        nn.Linear(3, 4, generator=g, dtype=np.float64, engine=engine),
        nn.Tanh(),
        nn.Linear(4, 2, generator=g, dtype=np.float64, engine=engine),
        nn.Sigmoid(),
    )


def make_optimizer(kind, settings, model, groups):
    if groups:  # two groups: the first layer at the given lr, the second at half of it
        lr = settings.get("lr", 1e-3)
        params = [
            {"params": list(model[0].parameters())},
            {"params": list(model[2].parameters()), "lr": lr / 2},
        ]
    else:
        params = model.parameters()
    return getattr(optim, kind)(params, **settings)


def step_ours(model, optimizer, engine, n):
    for _ in range(n):
        optimizer.zero_grad()
        out = model(Tensor(X)) if engine == "tensor" else model(X.tolist())
        F.mse_loss(out, Y if engine == "tensor" else Y.tolist()).backward()
        optimizer.step()


def step_torch(model, optimizer, n):
    for _ in range(n):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(torch.tensor(X)), torch.tensor(Y)).backward()
        optimizer.step()


def assert_same(state, reference):
    assert list(state) == list(reference)
    for key in reference:
        np.testing.assert_allclose(np.asarray(state[key]), reference[key], rtol=0, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("engine", ["tensor", "value"])
@pytest.mark.parametrize("groups", [False, True], ids=["one group", "two groups"])
@pytest.mark.parametrize(("kind", "settings"), SETTINGS, ids=[f"{k}{s}" for k, s in SETTINGS])
def test_five_here_five_in_torch_is_ten_here(kind, settings, groups, engine):
    reference = build(engine)
    step_ours(reference, make_optimizer(kind, settings, reference, groups), engine, 10)

    model = build(engine)
    optimizer = make_optimizer(kind, settings, model, groups)
    step_ours(model, optimizer, engine, 5)
    torch_model = to_torch(model)
    torch_optimizer = to_torch(optimizer, torch_model)
    assert type(torch_optimizer).__name__ == kind
    step_torch(torch_model, torch_optimizer, 5)

    expected = reference.state_dict()
    assert_same({k: v.numpy() for k, v in torch_model.state_dict().items()}, expected)
    np.testing.assert_array_equal(model.state_dict()["0.weight"], build_after(kind, settings, groups, engine, 5))


def build_after(kind, settings, groups, engine, n):
    """The model's first weight after n steps here (the hand-over must leave our model untouched)."""
    model = build(engine)
    step_ours(model, make_optimizer(kind, settings, model, groups), engine, n)
    return model.state_dict()["0.weight"]


@pytest.mark.parametrize("engine", ["tensor", "value"])
@pytest.mark.parametrize(("kind", "settings"), SETTINGS, ids=[f"{k}{s}" for k, s in SETTINGS])
def test_and_back_five_here_five_there_five_here_is_fifteen_here(kind, settings, engine):
    reference = build(engine)
    step_ours(reference, make_optimizer(kind, settings, reference, True), engine, 15)

    model = build(engine)
    optimizer = make_optimizer(kind, settings, model, True)
    step_ours(model, optimizer, engine, 5)
    torch_model = to_torch(model)
    torch_optimizer = to_torch(optimizer, torch_model)
    step_torch(torch_model, torch_optimizer, 5)
    back = from_torch(torch_model, engine=engine)
    back_optimizer = from_torch(torch_optimizer, back)
    assert type(back_optimizer) is type(optimizer)
    assert [len(g["params"]) for g in back_optimizer.param_groups] == [len(g["params"]) for g in optimizer.param_groups]
    step_ours(back, back_optimizer, engine, 5)
    assert_same(back.state_dict(), reference.state_dict())


def test_every_setting_and_buffer_is_carried_exactly():
    model = build("tensor")
    optimizer = optim.Adam(
        [{"params": list(model[0].parameters())}, {"params": list(model[2].parameters()), "lr": 0.5, "eps": 1e-3}],
        lr=0.01,
        betas=(0.7, 0.9),
        weight_decay=0.2,
    )
    step_ours(model, optimizer, "tensor", 3)
    torch_model = to_torch(model)
    torch_optimizer = to_torch(optimizer, torch_model)
    for ours, theirs in zip(optimizer.param_groups, torch_optimizer.param_groups):
        for key in ("lr", "betas", "eps", "weight_decay"):
            assert theirs[key] == ours[key], key
        assert theirs["amsgrad"] is False and theirs["maximize"] is False
    weights = torch_model.state_dict(keep_vars=True)
    assert torch_optimizer.param_groups[1]["params"] == [weights["2.weight"], weights["2.bias"]]
    # the same optimizer a PyTorch user would build: the same settings, no more
    reference = torch.optim.Adam(
        [{"params": torch_model[0].parameters()}, {"params": torch_model[2].parameters(), "lr": 0.5, "eps": 1e-3}],
        lr=0.01,
        betas=(0.7, 0.9),
        weight_decay=0.2,
    )
    assert torch_optimizer.state_dict()["param_groups"] == reference.state_dict()["param_groups"]
    assert torch_optimizer.defaults == reference.defaults
    saved = optimizer.state_dict()["state"]
    theirs = torch_optimizer.state_dict()["state"]
    for index in saved:
        assert float(theirs[index]["step"]) == saved[index]["step"] == 3
        for name in ("exp_avg", "exp_avg_sq"):
            np.testing.assert_array_equal(theirs[index][name].numpy(), saved[index][name])
            # copies: stepping in torch leaves our buffers alone
            assert not np.shares_memory(theirs[index][name].numpy(), optimizer.state_dict()["state"][index][name])


def test_value_engine_buffers_are_packed_per_weight():
    model = build("value")
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    step_ours(model, optimizer, "value", 2)
    torch_model = to_torch(model)
    torch_optimizer = to_torch(optimizer, torch_model)
    weight = torch_model.state_dict(keep_vars=True)["0.weight"]
    buffer = torch_optimizer.state[weight]["momentum_buffer"]
    assert buffer.shape == (4, 3) and buffer.dtype == torch.float64
    values = list(model[0].parameters())[:12]  # row-major: weight[i][j] is Value 3 i + j
    expected = [optimizer.state_dict()["state"][i]["momentum_buffer"] for i in range(12)]
    assert [v.data for v in values] == torch_model[0].weight.detach().numpy().reshape(-1).tolist()
    np.testing.assert_array_equal(buffer.numpy().reshape(-1), np.array(expected, dtype=np.float64))


# ---------------------------------------------------------------------- refusals


def test_a_parameter_the_conversion_does_not_know_is_refused():
    model = build("tensor")
    stranger = Tensor(np.zeros(3), requires_grad=True)
    optimizer = optim.SGD([*model.parameters(), stranger], lr=0.1)
    with pytest.raises(ConversionError, match="did not convert"):
        to_torch(optimizer, to_torch(model))


def test_an_optimizer_of_another_model_is_refused():
    optimizer = optim.SGD(build("tensor").parameters(), lr=0.1)
    with pytest.raises(ConversionError, match="did not convert"):
        to_torch(optimizer, to_torch(build("tensor")))


def test_a_torch_model_not_made_by_to_torch_is_refused():
    model = build("tensor")
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2), torch.nn.Sigmoid())
    with pytest.raises(ConversionError, match=r"not made by tinygrad_edu\.to_torch"):
        to_torch(optim.SGD(model.parameters(), lr=0.1), twin)


def test_an_optimizer_needs_the_converted_model():
    with pytest.raises(ValueError, match="to_torch\\(optimizer, to_torch\\(model\\)\\)"):
        to_torch(optim.SGD(build("tensor").parameters(), lr=0.1))


def test_values_of_one_weight_split_across_groups_are_refused():
    model = build("value")
    values = list(model.parameters())
    optimizer = optim.SGD([{"params": values[:5]}, {"params": values[5:]}], lr=0.1)
    with pytest.raises(ConversionError, match="same group"):
        to_torch(optimizer, to_torch(model))


def test_some_values_of_a_weight_are_refused():
    model = build("value")
    optimizer = optim.SGD(list(model.parameters())[1:], lr=0.1)
    with pytest.raises(ConversionError, match=r"11 of the 12 Values of '0\.weight'"):
        to_torch(optimizer, to_torch(model))


@pytest.mark.parametrize(
    ("make", "setting"),
    [
        (lambda p: torch.optim.Adam(p, amsgrad=True), "amsgrad"),
        (lambda p: torch.optim.Adam(p, maximize=True), "maximize"),
        (lambda p: torch.optim.Adam(p, decoupled_weight_decay=True, weight_decay=0.1), "decoupled_weight_decay"),
        (lambda p: torch.optim.SGD(p, lr=0.1, maximize=True), "maximize"),
    ],
)
def test_torch_settings_we_do_not_have_are_refused_by_name(make, setting):
    torch_model = to_torch(build("tensor"))
    model = from_torch(torch_model)
    with pytest.raises(ConversionError, match=f"{setting}=True"):
        from_torch(make(torch_model.parameters()), model)


@pytest.mark.parametrize("name", ["RMSprop", "AdamW", "Adagrad"])
def test_torch_optimizers_we_do_not_have_are_refused_by_name(name):
    torch_model = to_torch(build("tensor"))
    torch_optimizer = getattr(torch.optim, name)(torch_model.parameters(), lr=0.1)
    with pytest.raises(ConversionError, match=f"torch.optim.{name} has no counterpart"):
        from_torch(torch_optimizer, from_torch(torch_model))


def test_implementation_settings_are_not_settings_of_the_update():
    torch_model = to_torch(build("tensor"))
    torch_optimizer = torch.optim.Adam(torch_model.parameters(), lr=0.01, foreach=False, differentiable=False)
    optimizer = from_torch(torch_optimizer, from_torch(torch_model))
    assert optimizer.param_groups[0]["lr"] == 0.01 and "foreach" not in optimizer.param_groups[0]


def test_a_torch_native_optimizer_comes_over_by_name():
    """A model and optimizer built in PyTorch, trained there, then carried here, train on as they would have there."""
    torch.manual_seed(0)
    torch_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    torch_optimizer = torch.optim.SGD(torch_model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    step_torch(torch_model, torch_optimizer, 3)
    model = from_torch(torch_model)
    optimizer = from_torch(torch_optimizer, model)
    step_ours(model, optimizer, "tensor", 4)
    step_torch(torch_model, torch_optimizer, 4)
    assert_same(model.state_dict(), {k: v.numpy() for k, v in torch_model.state_dict().items()})


@pytest.mark.parametrize(
    ("kind", "settings"),
    [("SGD", {"lr": 0.5, "momentum": 0.9, "nesterov": True}), ("Adam", {"lr": 0.05, "weight_decay": 0.01})],
)
def test_the_articles_network_trains_on_in_torch(kind, settings):
    """Neuron/Layer/Network: each neuron's weights are a row of the torch Layer's weight (one Value per entry)."""

    def network():
        g = np.random.default_rng(4)
        return nn.Network([nn.Layer.random(3, 4, g)], nn.Layer.random(4, 2, g))

    def step_network(model, optimizer, n):
        for _ in range(n):
            optimizer.zero_grad()
            sum(F.mse_loss(model(x), y) for x, y in zip(X.tolist(), Y.tolist())).backward()
            optimizer.step()

    reference = network()
    step_network(reference, getattr(optim, kind)(reference.parameters(), **settings), 10)
    model = network()
    optimizer = getattr(optim, kind)(model.parameters(), **settings)
    step_network(model, optimizer, 5)
    torch_model = to_torch(model)
    torch_optimizer = to_torch(optimizer, torch_model)
    for _ in range(5):
        torch_optimizer.zero_grad()
        out = torch_model(torch.tensor(X))
        ((out - torch.tensor(Y)) ** 2).mean(dim=1).sum().backward()
        torch_optimizer.step()
    assert_same({k: v.numpy() for k, v in torch_model.state_dict().items()}, reference.state_dict())
    back = from_torch(torch_model)
    assert type(back) is nn.Network
    step_network(back, from_torch(torch_optimizer, back), 5)
    fifteen = network()
    step_network(fifteen, getattr(optim, kind)(fifteen.parameters(), **settings), 15)
    assert_same(back.state_dict(), fifteen.state_dict())


def test_a_torch_optimizer_over_weights_of_other_shapes_is_refused():
    torch_model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()
    named = torch.optim.SGD(torch_model.named_parameters(), lr=0.1)  # paired by its param_names
    with pytest.raises(ConversionError, match=r"'0\.weight' is \(5, 3\) but the model's is \(4, 3\)"):
        from_torch(named, build("tensor"))
    with pytest.raises(ConversionError, match="does not pair by name"):
        from_torch(torch.optim.SGD(torch_model.parameters(), lr=0.1), build("tensor"))
