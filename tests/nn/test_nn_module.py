"""The Module contract: registration, naming, state_dict round trips and load_state_dict's checks."""

import numpy as np
import pytest

from tinygrad_edu import DTypeError, ShapeError, Tensor, TinygradEduError, Value, nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 3, generator=0)
        self.scale = Tensor(np.array([2.0], dtype=np.float32), requires_grad=True)
        self.frozen = Tensor(np.ones(3, dtype=np.float32))  # no grad: a constant, not a parameter
        self.heads = nn.ModuleList([nn.Linear(3, 1, generator=1), nn.Linear(3, 1, generator=2)])

    def forward(self, x):
        h = self.hidden(x).sigmoid() * self.scale * self.frozen
        return self.heads[0](h) + self.heads[1](h)


def mlp(engine="tensor", dtype=np.float64, seed=0):
    g = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(2, 3, generator=g, dtype=dtype, engine=engine),
        nn.Sigmoid(),
        nn.Linear(3, 2, generator=g, dtype=dtype, engine=engine),
    )


def test_registration_and_dotted_names():
    block = Block()
    names = [name for name, _ in block.named_parameters()]
    assert names == [
        "scale",
        "hidden.weight",
        "hidden.bias",
        "heads.0.weight",
        "heads.0.bias",
        "heads.1.weight",
        "heads.1.bias",
    ]
    assert isinstance(block.heads, nn.ModuleList) and len(block.heads) == 2
    assert [name for name, _ in block.named_children()] == ["hidden", "heads"]
    assert list(block.children()) == [block.hidden, block.heads]
    assert [name for name, _ in block.named_modules()] == ["", "hidden", "heads", "heads.0", "heads.1"]
    assert block.num_parameters() == 1 + (2 * 3 + 3) + 2 * (3 + 1)
    assert block.hidden.weight is next(p for n, p in block.named_parameters() if n == "hidden.weight")


def test_reassignment_and_deletion_update_the_registries():
    block = Block()
    del block.scale  # removing a parameter, then any plain value may take its name
    block.scale = 3.0
    assert "scale" not in dict(block.named_parameters())
    block.hidden = nn.Identity()
    assert "hidden.weight" not in dict(block.named_parameters())
    del block.heads
    assert [name for name, _ in block.named_children()] == ["hidden"]


def test_value_parameters_and_value_lists():
    class Scalars(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = [[Value(1.0), Value(2.0)], [Value(3.0), Value(4.0)]]
            self.b = Value(0.5)
            self.constants = [Value(1.0, requires_grad=False)]  # not a parameter
            self.empty = []

    m = Scalars()
    assert [n for n, _ in m.named_parameters()] == ["w.0.0", "w.0.1", "w.1.0", "w.1.1", "b"]
    sd = m.state_dict()
    assert list(sd) == ["w", "b"]
    np.testing.assert_array_equal(sd["w"], [[1.0, 2.0], [3.0, 4.0]])
    assert sd["b"].shape == ()
    m.load_state_dict({"w": np.array([[5.0, 6.0], [7.0, 8.0]]), "b": np.array(-1.0)})
    assert [p.data for p in m.parameters()] == [5.0, 6.0, 7.0, 8.0, -1.0]


def test_ragged_value_list_is_refused():
    class Ragged(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = [[Value(1.0), Value(2.0)], [Value(3.0)]]

    with pytest.raises(ShapeError, match="same length"):
        Ragged()


def test_assignment_before_init_says_the_fix():
    class Forgot(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__"):
        Forgot()


def test_shared_parameters_are_listed_once():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2
    assert model.num_parameters() == 6
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_zero_grad_train_eval():
    model = mlp()
    (model(Tensor(np.ones((4, 2)))) ** 2).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_state_dict_is_a_copy_and_round_trips():
    model, other = mlp(seed=0), mlp(seed=1)
    x = Tensor(np.random.default_rng(5).normal(size=(6, 2)))
    sd = model.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert sd["0.weight"].shape == (3, 2) and sd["2.bias"].shape == (2,)
    sd["0.weight"][:] = 99.0  # editing the copy must not touch the model
    assert not np.any(model[0].weight.data == 99.0)
    before = other[0].weight
    other.load_state_dict(model.state_dict())
    assert other[0].weight is before  # copied in place: an optimizer holding it still works
    np.testing.assert_array_equal(other(x).data, model(x).data)


def test_state_dict_round_trip_through_a_file(tmp_path):
    model, other = mlp(seed=0), mlp(seed=7)
    path = tmp_path / "model.npz"
    np.savez(path, **model.state_dict())
    with np.load(path, allow_pickle=False) as data:
        other.load_state_dict(dict(data))
    for (name, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_load_state_dict_lists_every_problem_and_leaves_the_model_untouched():
    model = mlp()
    before = model.state_dict()
    bad = model.state_dict()
    del bad["0.bias"]
    bad["3.weight"] = np.zeros(2)
    bad["2.weight"] = np.zeros((3, 2))  # transposed
    bad["0.weight"] = np.full((3, 2), 5.0)  # valid, but must not be copied either
    with pytest.raises(ShapeError) as info:
        model.load_state_dict(bad)
    message = str(info.value)
    assert "missing keys (in the model, not in the state_dict): 0.bias" in message
    assert "unexpected keys (in the state_dict, not in the model): 3.weight" in message
    assert "2.weight is (3, 2) in the state_dict but (2, 3) in the model" in message
    assert isinstance(info.value, TinygradEduError) and isinstance(info.value, ValueError)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)


def test_load_state_dict_non_strict_skips_keys_but_not_shapes():
    model = mlp()
    partial = {"0.weight": np.full((3, 2), 0.25), "extra": np.zeros(1)}
    result = model.load_state_dict(partial, strict=False)
    assert result.missing_keys == ["0.bias", "2.weight", "2.bias"]
    assert result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(model[0].weight.data, np.full((3, 2), 0.25))
    with pytest.raises(ShapeError, match="mis-shaped"):
        model.load_state_dict({"0.weight": np.zeros((2, 3))}, strict=False)


def test_load_state_dict_refuses_non_numbers():
    model = mlp()
    sd = model.state_dict()
    sd["0.bias"] = np.array(["a", "b", "c"])
    with pytest.raises(DTypeError, match=r"0\.bias"):
        model.load_state_dict(sd)


def test_load_state_dict_casts_integer_arrays_to_the_parameter_dtype():
    """Integer arrays are a documented result: they are cast to the parameter's float dtype."""
    layer = nn.Linear(2, 3)
    layer.load_state_dict({"weight": np.arange(6).reshape(3, 2), "bias": np.array([1, 2, 3])})
    assert layer.weight.data.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.data, np.arange(6).reshape(3, 2))
    np.testing.assert_array_equal(layer.bias.data, [1.0, 2.0, 3.0])


def test_repr_like_pytorch():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 2, bias=False, engine="tensor"))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Sigmoid()\n"
        "  (2): Linear(in_features=3, out_features=2, bias=False)\n"
        ")"
    )
    assert repr(nn.MSELoss(reduction="half_sum")) == "MSELoss(reduction='half_sum')"


def test_sequential_indexing_and_engines():
    model = mlp()
    assert len(model) == 3 and isinstance(model[-1], nn.Linear)
    assert [type(m).__name__ for m in model] == ["Linear", "Sigmoid", "Linear"]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is model[0]
    assert model.engine == "tensor" and mlp(engine="value").engine == "value"
    with pytest.raises(TinygradEduError, match="different engines"):
        nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2, engine="value"))


def test_apply_visits_every_module():
    model = mlp()
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert sorted(seen) == ["Linear", "Linear", "Sequential", "Sigmoid"] and seen[-1] == "Sequential"
