"""PyTorch's registration rules: what `Module.__setattr__` registers, what it refuses, and what it warns about.

* assigning a non-parameter over a parameter raises (`layer.weight = Tensor(values)` would silently
  drop the weight from `parameters()` and `state_dict()`);
* only `ModuleList` / `Sequential` register Modules; a plain list, tuple or dict does not, whether
  it was written as a literal or filled by `.append`, and `parameters()` warns about it;
* the scalar engine's array (a list of Values) is a parameter when assigned.
"""

import warnings

import numpy as np
import pytest

from tinygrad_edu import Tensor, TinygradEduError, Value, nn, no_grad
from tinygrad_edu.errors import ParameterAssignmentError, TinygradEduWarning, UnregisteredParametersWarning


def names(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnregisteredParametersWarning)
        return [name for name, _ in model.named_parameters()]


# ---------------------------------------------------------------------- item 5: assigning over a parameter


@pytest.mark.parametrize(
    "value",
    [
        Tensor(np.ones((2, 3))),  # requires_grad=False: a constant, not a parameter
        np.ones((2, 3)),
        [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
        3.0,
    ],
    ids=["tensor-no-grad", "ndarray", "list", "float"],
)
def test_assigning_a_non_parameter_over_a_weight_raises_and_says_how(value):
    layer = nn.Linear(3, 2, generator=0)
    before = layer.weight
    with pytest.raises(ParameterAssignmentError) as info:
        layer.weight = value
    message = str(info.value)
    assert "with no_grad(): layer.weight.data[...] = " in message and "load_state_dict" in message
    assert isinstance(info.value, TypeError) and isinstance(info.value, TinygradEduError)
    # Nothing changed: the weight is still the parameter, listed and saved.
    assert layer.weight is before
    assert names(layer) == ["weight", "bias"] and list(layer.state_dict()) == ["weight", "bias"]


def test_the_ways_the_message_suggests_work():
    layer = nn.Linear(3, 2, generator=0)
    values = np.arange(6.0).reshape(2, 3)
    with no_grad():
        layer.weight.data[...] = values
    np.testing.assert_array_equal(layer.weight.data, values)
    layer.load_state_dict({"weight": values + 1, "bias": np.zeros(2)})
    np.testing.assert_array_equal(layer.weight.data, values + 1)


def test_legitimate_assignments_keep_working():
    layer = nn.Linear(3, 2, generator=0)
    new = Tensor(np.zeros((2, 3)), requires_grad=True)
    layer.weight = new  # a new parameter replaces the old one (PyTorch: assigning an nn.Parameter)
    assert dict(layer.named_parameters())["weight"] is new
    layer.bias = None  # dropping the bias, as PyTorch allows
    assert names(layer) == ["weight"] and list(layer.state_dict()) == ["weight"]
    layer.bias = Tensor(np.ones(2), requires_grad=True)
    assert names(layer) == ["weight", "bias"]
    del layer.bias
    layer.bias = 0.0  # after `del`, the name is free for anything
    assert names(layer) == ["weight"]

    neuron = nn.Neuron([0.1, 0.2], 0.5)
    neuron.bias = Value(0.7)
    neuron.weights = [Value(1.0), Value(2.0)]
    assert [p.data for p in neuron.parameters()] == [1.0, 2.0, 0.7]


def test_scalar_engine_parameters_refuse_numbers_too():
    neuron = nn.Neuron([0.1, 0.2], 0.5)
    with pytest.raises(ParameterAssignmentError, match=r"layer\.bias\.data = new_value"):
        neuron.bias = 0.3
    with pytest.raises(ParameterAssignmentError, match="that does not require grad"):
        neuron.bias = Value(0.3, requires_grad=False)
    linear = nn.Linear(2, 2, engine="value", generator=0)
    with pytest.raises(ParameterAssignmentError, match="load_state_dict"):
        linear.weight = [[0.0, 0.0], [0.0, 0.0]]
    assert neuron.bias.data == 0.5 and len(names(linear)) == 6


# ---------------------------------------------------------------------- item 6: one rule for containers


class Appended(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = []
        for k in range(2):
            self.layers.append(nn.Linear(2, 2, generator=k))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class Literal(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(2, 2, generator=k) for k in range(2)]

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


@pytest.mark.parametrize("cls", [Appended, Literal])
def test_a_plain_list_of_modules_registers_nothing_and_warns(cls):
    model = cls()
    with pytest.warns(UnregisteredParametersWarning) as record:
        params = list(model.parameters())
    assert params == [] and list(model.state_dict()) == []
    message = str(record[0].message)
    assert "'layers'" in message and "plain list" in message and "nn.ModuleList" in message
    assert record[0].filename == __file__  # pointed at the caller's line, not the package's


def test_module_list_registers_whichever_way_it_is_filled():
    class Wrapped(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList()
            self.layers.append(nn.Linear(2, 2, generator=0))
            self.more = nn.ModuleList([nn.Linear(2, 2, generator=1)])

    with warnings.catch_warnings():
        warnings.simplefilter("error", TinygradEduWarning)
        assert names(Wrapped()) == ["layers.0.weight", "layers.0.bias", "more.0.weight", "more.0.bias"]


@pytest.mark.parametrize(
    ("attr", "what", "fix"),
    [
        (lambda: (nn.Linear(1, 1),), "plain tuple holding Modules", "nn.ModuleList"),
        (lambda: {"a": nn.Linear(1, 1)}, "plain dict holding Modules", "setattr(self, key, module)"),
        (lambda: [Tensor(np.ones(2), requires_grad=True)], "holding parameters", "its own attribute"),
        (lambda: {"w": Value(1.0)}, "holding parameters", "its own attribute"),
        (lambda: [[nn.Linear(1, 1)], [nn.Linear(1, 1)]], "plain list holding Modules", "nn.ModuleList"),
        (lambda: {"stage": [nn.Linear(1, 1)]}, "plain dict holding Modules", "setattr"),
    ],
    ids=["tuple", "dict", "tensor-list", "value-dict", "nested-list", "dict-of-lists"],
)
def test_other_plain_containers_warn_with_their_fix(attr, what, fix):
    model = nn.Module()
    model.things = attr()
    with pytest.warns(UnregisteredParametersWarning, match="things") as record:
        assert list(model.parameters()) == []
    assert what in str(record[0].message) and fix in str(record[0].message)


def test_nested_attribute_is_named_with_its_path():
    outer = nn.Sequential(Literal())
    with pytest.warns(UnregisteredParametersWarning, match=r"'0\.layers'"):
        list(outer.named_parameters())


def test_value_lists_are_parameters_when_assigned_and_appending_later_warns():
    class Scalars(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = [Value(1.0), Value(2.0)]  # the scalar engine's array: registered
            self.late = []
            self.late.append(Value(3.0))  # filled after assignment: not registered, and said so
            self.constants = [Value(4.0, requires_grad=False), 5.0]  # no parameters: no warning

    model = Scalars()
    with pytest.warns(UnregisteredParametersWarning) as record:
        assert [p.data for p in model.parameters()] == [1.0, 2.0]
    assert len(record) == 1
    assert "'late'" in str(record[0].message) and "assign the filled list" in str(record[0].message)


def test_cached_activations_in_a_list_do_not_warn():
    class Caches(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2, generator=0)
            self.outputs = []

        def forward(self, x):
            out = self.lin(x)
            self.outputs.append(out)  # a non-leaf result, not a parameter
            return out

    model = Caches()
    model(Tensor(np.ones((1, 2), np.float32)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", TinygradEduWarning)
        assert names(model) == ["lin.weight", "lin.bias"]


def test_the_package_models_follow_the_rule_without_warnings():
    rng = np.random.default_rng(0)
    models = [
        nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 2, engine="tensor")),
        nn.Sequential(nn.Linear(2, 3, engine="value"), nn.ReLU(), nn.Linear(3, 1, engine="value")),
        nn.Network([nn.Layer.random(2, 2, rng)], nn.Layer.random(2, 2, rng)),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", TinygradEduWarning)
        counts = [sum(1 for _ in m.parameters()) for m in models]
    assert counts == [4, 6 + 3 + 3 + 1, 12]


# ---------------------------------------------------------------------- beyond the list: computed results


def test_an_activation_kept_as_an_attribute_is_not_a_parameter():
    """`self.hidden_out = h` in forward registered the activation as a parameter (PyTorch: a plain attribute)."""

    class Keeps(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2, generator=0)
            self.neuron = nn.Neuron([0.1, 0.2], 0.3)

        def forward(self, x):
            self.hidden_out = self.lin(x).sigmoid()  # (a NumPy array: read in the layer's dtype)
            self.scalar_out = [self.neuron(x[0].tolist())]
            return self.hidden_out

    model = Keeps()
    model(np.ones((1, 2)))
    assert names(model) == ["lin.weight", "lin.bias", "neuron.weights.0", "neuron.weights.1", "neuron.bias"]
    assert list(model.state_dict()) == ["lin.weight", "lin.bias", "neuron.weights", "neuron.bias"]


def test_a_computed_tensor_over_a_weight_is_refused():
    layer = nn.Linear(2, 2, generator=0)
    with pytest.raises(ParameterAssignmentError, match="computed by ops"):
        layer.weight = layer.weight * 2.0
    layer.weight = (layer.weight * 2.0).detach().requires_grad_()  # a new leaf is a new parameter
    assert names(layer) == ["weight", "bias"]


def test_over_a_parameter_a_module_is_refused_and_over_a_module_a_non_module_too():
    """PyTorch's __setattr__: a parameter slot takes a parameter or None, a child slot a Module or None."""
    layer = nn.Linear(2, 2, generator=0)
    with pytest.raises(ParameterAssignmentError, match="which is a parameter"):
        layer.weight = nn.Identity()
    model = nn.Sequential(nn.Linear(2, 2, generator=0))
    model.head = nn.Linear(2, 1, generator=1)
    for value in (Tensor(np.ones(2), requires_grad=True), [nn.Linear(2, 1)], 3.0):
        with pytest.raises(ParameterAssignmentError, match="which is a sub-module"):
            model.head = value
    assert "head.weight" in names(model)
    model.head = nn.Identity()  # a Module over a Module: fine
    model.head = None  # and None removes it
    assert names(model) == ["0.weight", "0.bias"]
