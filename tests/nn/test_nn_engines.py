"""`nn.engine_of`: the one way the package tells the engines apart, for models, parameters and outputs."""

import numpy as np
import pytest

from tinygrad_edu import ArgumentError, MixedEngineError, Tensor, Value, nn
from tinygrad_edu.nn import functional as F


def test_engine_of_a_node_an_output_and_a_list():
    assert nn.engine_of(Tensor(np.zeros(2))) == "tensor"
    assert nn.engine_of(Value(1.0)) == "value"
    assert nn.engine_of([[1.0, 2.0], [3.0, Value(4.0)]]) == "value"  # found however deep, after plain numbers
    assert nn.engine_of(nn.Linear(2, 3, engine="value")([1.0, 2.0])) == "value"


@pytest.mark.parametrize("engine", ["tensor", "value"])
def test_engine_of_a_model_is_its_parameters_engine(engine):
    model = nn.Sequential(nn.Sigmoid(), nn.Linear(2, 3, engine=engine), nn.ReLU())
    assert nn.engine_of(model) == engine
    assert nn.engine_of(model[1].weight) == engine


def test_a_model_without_parameters_has_the_engine_it_was_built_with():
    assert nn.engine_of(nn.Sequential(nn.Sigmoid(), engine="value")) == "value"
    assert nn.engine_of(nn.Sigmoid(engine="tensor")) == "tensor"
    network = nn.Network([nn.Layer.random(2, 2, generator=0)], nn.Layer.random(2, 1, generator=1))
    assert nn.engine_of(network) == "value"


@pytest.mark.parametrize("thing", [nn.Sigmoid(), 3.0, np.zeros(3), [1.0, 2.0], [Tensor(np.zeros(1))], None])
def test_what_belongs_to_neither_engine_is_refused_or_gets_the_default(thing):
    assert nn.engine_of(thing, "tensor") == "tensor"
    assert nn.engine_of(thing, None) is None
    with pytest.raises(ArgumentError, match="engine"):
        nn.engine_of(thing)


def test_a_parameterless_model_is_refused_by_fit_with_the_fix():
    from tinygrad_edu.train import fit

    with pytest.raises(ArgumentError, match=r"Identity has no parameters and no engine=.*engine='value'"):
        fit(nn.Identity(), nn.MSELoss(), None, np.zeros((2, 1)), np.zeros((2, 1)), progress=False)


def test_activation_modules_call_the_engines_own_functions():
    """The value path goes through `Value.sigmoid` itself (no method looked up by name): same numbers."""
    x = Value(0.3)
    (y,) = nn.Sigmoid()([x])
    y.backward()
    s = 1 / (1 + np.exp(-0.3))
    assert y.data == pytest.approx(s, rel=1e-15) and x.grad == pytest.approx(s * (1 - s), rel=1e-15)
    nested = F.tanh([[0.5, Value(-1.0)], [2.0]])  # raw numbers become constant Values
    assert [[v.data for v in row] for row in nested] == [[np.tanh(0.5), np.tanh(-1.0)], [np.tanh(2.0)]]
    with pytest.raises(MixedEngineError, match="relu: got a Tensor"):
        F.relu([Tensor(np.zeros(1))])
    with pytest.raises(MixedEngineError, match=r"Sigmoid\(engine='value'\) got Tensor"):
        nn.Sigmoid(engine="value")(Tensor(np.zeros(1)))
