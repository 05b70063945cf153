"""Layers on both engines, the article's Neuron/Layer/Network, and nn.init."""

import math

import numpy as np
import pytest

from tinygrad_edu import MixedEngineError, ShapeError, Tensor, Value, gradcheck, nn, ops
from tinygrad_edu.nn import functional as F


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def build(engine, activation=nn.Sigmoid, seed=0):
    g = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(2, 3, generator=g, dtype=np.float64, engine=engine),
        activation(),
        nn.Linear(3, 2, generator=g, dtype=np.float64, engine=engine),
    )


def value_grads(model):
    """Each value-engine parameter's gradient, packed into the tensor engine's shapes."""
    packed = {name: np.zeros(a.shape) for name, a in model.state_dict().items()}
    for name, p in model.named_parameters():
        parts = name.split(".")
        key = next(k for k in packed if name.startswith(k + ".") or name == k)
        index = tuple(int(i) for i in parts[len(key.split(".")) :])
        packed[key][index] = p.grad
    return packed


# ---------------------------------------------------------------------- Linear


def test_linear_init_is_pytorch_default_and_reproducible():
    a = nn.Linear(16, 8, generator=3)
    b = nn.Linear(16, 8, generator=3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert a.weight.shape == (8, 16) and a.bias.shape == (8,) and a.weight.dtype == np.float32
    bound = 1 / math.sqrt(16)
    for p in (a.weight.data, a.bias.data):
        assert np.all(np.abs(p) <= bound)
    assert np.abs(a.weight.data).max() > 0.8 * bound  # spread over the whole interval, not a smaller one
    c = nn.Linear(16, 8, generator=4)
    assert not np.array_equal(a.weight.data, c.weight.data)


def test_linear_same_generator_gives_the_same_weights_on_both_engines():
    t = nn.Linear(3, 2, generator=11, dtype=np.float64)
    v = nn.Linear(3, 2, generator=11, engine="value")
    for name, array in t.state_dict().items():
        np.testing.assert_array_equal(v.state_dict()[name], array)
    t.reset_parameters(generator=12)
    v.reset_parameters(generator=12)
    np.testing.assert_array_equal(v.state_dict()["weight"], t.state_dict()["weight"])


def test_linear_forward_is_one_fused_op():
    layer = nn.Linear(4, 3, generator=0, dtype=np.float64)
    x = Tensor(np.random.default_rng(1).normal(size=(5, 4)), requires_grad=True)
    y = layer(x)
    assert y._op is ops.Linear and y._parents == (x, layer.weight, layer.bias)
    np.testing.assert_allclose(y.data, x.data @ layer.weight.data.T + layer.bias.data, rtol=1e-14)
    assert nn.Linear(4, 3, bias=False)(Tensor(np.ones((2, 4), np.float32))).shape == (2, 3)


def test_linear_accepts_numpy_and_casts_to_its_dtype():
    layer = nn.Linear(2, 2, generator=0)
    y = layer(np.ones((3, 2)))
    assert y.dtype == np.float32 and y.shape == (3, 2)


def test_linear_errors_name_the_fix():
    with pytest.raises(ShapeError, match="in_features"):
        nn.Linear(3, 2)(Tensor(np.ones((4, 2))))
    with pytest.raises(ValueError, match="positive int"):
        nn.Linear(0, 2)
    with pytest.raises(ValueError, match="engine"):
        nn.Linear(2, 2, engine="numpy")
    with pytest.raises(MixedEngineError, match="engine='value'"):
        nn.Linear(2, 2)([Value(1.0), Value(2.0)])
    with pytest.raises(MixedEngineError, match="engine='tensor'"):
        nn.Linear(2, 2, engine="value")(Tensor(np.ones(2)))
    with pytest.raises(ShapeError, match="expected 2 inputs"):
        nn.Linear(2, 2, engine="value")([1.0, 2.0, 3.0])


def test_value_linear_layout_and_forward():
    layer = nn.Linear(2, 3, generator=0, engine="value")
    assert len(layer.weight) == 3 and all(len(row) == 2 for row in layer.weight)
    names = [n for n, _ in layer.named_parameters()]
    assert names[:3] == ["weight.0.0", "weight.0.1", "weight.1.0"] and names[-1] == "bias.2"
    assert layer.num_parameters() == 9
    out = layer([0.5, -2.0])
    W, b = layer.state_dict()["weight"], layer.state_dict()["bias"]
    np.testing.assert_allclose([o.data for o in out], W @ [0.5, -2.0] + b, rtol=1e-15)
    assert all(o._op == "Σw·x" for o in out)  # one weighted_sum node per neuron
    batch = layer([[0.5, -2.0], [1.0, 1.0]])  # a list of samples maps over them
    assert [v.data for v in batch[0]] == [o.data for o in out] and len(batch) == 2


@pytest.mark.parametrize("activation", [nn.Sigmoid, nn.Tanh, nn.ReLU])
def test_both_engines_agree_on_outputs_and_gradients(activation):
    tensor_model = build("tensor", activation, seed=0)
    value_model = build("value", activation, seed=99)
    value_model.load_state_dict(tensor_model.state_dict())  # exchange, then compare
    x = np.array([0.3, -1.7])
    target = np.array([0.1, 0.9])

    t_out = tensor_model(Tensor(x))
    F.mse_loss(t_out, target, reduction="half_sum").backward()
    v_out = value_model(x.tolist())
    F.mse_loss(v_out, target.tolist(), reduction="half_sum").backward()

    np.testing.assert_allclose([v.data for v in v_out], t_out.data, rtol=0, atol=1e-12)
    grads = value_grads(value_model)
    for name, p in tensor_model.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad, rtol=0, atol=1e-12, err_msg=name)

    back = build("tensor", activation, seed=5)
    back.load_state_dict(value_model.state_dict())  # and the other way
    np.testing.assert_array_equal(back(Tensor(x)).data, t_out.data)


def test_activations_on_both_engines():
    x = np.array([-2.0, 0.0, 1.5])
    for module, fn in [(nn.Sigmoid(), sigmoid), (nn.Tanh(), np.tanh), (nn.ReLU(), lambda a: np.maximum(a, 0))]:
        np.testing.assert_allclose(module(Tensor(x)).data, fn(x), rtol=1e-15)
        np.testing.assert_allclose([v.data for v in module([Value(a) for a in x])], fn(x), rtol=1e-15)
    ident = nn.Identity()
    t = Tensor(x)
    assert ident(t) is t
    with pytest.raises(MixedEngineError):
        nn.Sigmoid(engine="value")(Tensor(x))
    with pytest.raises(MixedEngineError):
        nn.Sigmoid(engine="tensor")([Value(1.0)])
    assert repr(nn.ReLU(engine="value")) == "ReLU(engine='value')"


def test_value_softmax_and_log_softmax_match_the_tensor_engine():
    logits = [2.0, -1.0, 0.5]
    s = F.softmax([Value(v) for v in logits])
    ls = F.log_softmax([Value(v) for v in logits])
    e = np.exp(logits)
    np.testing.assert_allclose([v.data for v in s], e / e.sum(), rtol=1e-15)
    np.testing.assert_allclose([v.data for v in ls], np.log(e / e.sum()), rtol=1e-14)
    np.testing.assert_allclose(F.softmax(Tensor(np.array(logits))).data, e / e.sum(), rtol=1e-15)
    # gradients of a weighted sum of log-softmax outputs, checked against finite differences
    weights = [0.3, -1.2, 2.0]
    assert gradcheck(
        lambda a, b, c: sum(w * o for w, o in zip(weights, F.log_softmax([a, b, c]))), [Value(v) for v in logits]
    )


# ---------------------------------------------------------------------- the article's vocabulary


def article_network():
    hidden = nn.Layer([nn.Neuron([0.1, 0.2], 0.5), nn.Neuron([0.3, 0.4], 0.12)])
    output = nn.Layer([nn.Neuron([0.5, 0.6], 0.2), nn.Neuron([0.7, 0.8], 0.4)])
    return nn.Network(hidden_layers=[hidden], output_layer=output)


def test_article_forward_pass_numbers():
    out = article_network()([2.78, 2.55])
    a_h1, a_h2 = sigmoid(1.288), sigmoid(1.974)  # the article's hidden weighted sums
    a_o1 = sigmoid(0.5 * a_h1 + 0.6 * a_h2 + 0.2)
    a_o2 = sigmoid(0.7 * a_h1 + 0.8 * a_h2 + 0.4)
    np.testing.assert_allclose([v.data for v in out], [a_o1, a_o2], rtol=1e-14)
    # the article rounds its intermediate results to 3 digits and prints 0.753 and 0.839
    np.testing.assert_allclose([v.data for v in out], [0.753, 0.839], atol=1e-3)


def test_article_backprop_deltas_match_autodiff():
    net = article_network()
    out = net([2.78, 2.55])
    F.mse_loss(out, [0.1, 0.9], reduction="half_sum").backward()
    a_o = np.array([v.data for v in out])
    a_h = sigmoid(np.array([1.288, 1.974]))
    delta_o = (a_o - [0.1, 0.9]) * a_o * (1 - a_o)  # the article's output delta
    w_o = np.array([[0.5, 0.6], [0.7, 0.8]])
    delta_h = (w_o.T @ delta_o) * a_h * (1 - a_h)  # the article's hidden delta
    out_neurons, hidden_neurons = net.output_layer.neurons, net.hidden_layers[0].neurons
    np.testing.assert_allclose([[w.grad for w in n.weights] for n in out_neurons], np.outer(delta_o, a_h), rtol=1e-12)
    np.testing.assert_allclose([n.bias.grad for n in out_neurons], delta_o, rtol=1e-12)
    np.testing.assert_allclose(
        [[w.grad for w in n.weights] for n in hidden_neurons], np.outer(delta_h, [2.78, 2.55]), rtol=1e-12
    )


def test_network_state_dict_uses_the_linear_layout():
    net = article_network()
    sd = net.state_dict()
    assert list(sd) == ["hidden_layers.0.weight", "hidden_layers.0.bias", "output_layer.weight", "output_layer.bias"]
    np.testing.assert_array_equal(sd["hidden_layers.0.weight"], [[0.1, 0.2], [0.3, 0.4]])
    np.testing.assert_array_equal(sd["output_layer.bias"], [0.2, 0.4])
    names = [n for n, _ in net.named_parameters()]
    assert names[:3] == [
        "hidden_layers.0.neurons.0.weights.0",
        "hidden_layers.0.neurons.0.weights.1",
        "hidden_layers.0.neurons.0.bias",
    ]
    assert net.num_parameters() == 12
    other = nn.Network([nn.Layer.random(2, 2, generator=0)], nn.Layer.random(2, 2, generator=1))
    other.load_state_dict(sd)
    assert [v.data for v in other([2.78, 2.55])] == [v.data for v in net([2.78, 2.55])]


def test_network_to_sequential_gives_the_same_outputs():
    net = article_network()
    x = [2.78, 2.55]
    expected = [v.data for v in net(x)]
    seq = net.to_sequential()
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    np.testing.assert_allclose(seq(Tensor(np.array(x))).data, expected, rtol=1e-15)
    value_seq = net.to_sequential(engine="value")
    np.testing.assert_allclose([v.data for v in value_seq(x)], expected, rtol=1e-15)
    assert net.predict(x) == int(np.argmax(expected))


def test_article_vocabulary_checks_sizes():
    with pytest.raises(ShapeError, match="same number of weights"):
        nn.Layer([nn.Neuron([0.1, 0.2], 0.0), nn.Neuron([0.1], 0.0)])
    with pytest.raises(ShapeError, match="one weight per neuron"):
        nn.Network([nn.Layer.random(2, 3, generator=0)], nn.Layer.random(2, 2, generator=0))
    with pytest.raises(ShapeError, match="expected 2 inputs"):
        nn.Neuron([0.1, 0.2], 0.0)([1.0])
    assert nn.Neuron.random(3, generator=0).num_parameters() == 4
    draws = np.random.default_rng(0).random(4)
    np.testing.assert_array_equal([p.data for p in nn.Neuron.random(3, generator=0).parameters()], draws)


# ---------------------------------------------------------------------- nn.init


def test_init_bounds_and_reproducibility():
    w = Tensor(np.zeros((200, 300)), requires_grad=True)
    nn.init.xavier_uniform_(w, generator=0)
    bound = math.sqrt(6 / (200 + 300))
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.95 * bound
    nn.init.kaiming_normal_(w, nonlinearity="relu", generator=0)
    assert abs(w.data.std() - math.sqrt(2 / 300)) < 0.02 * math.sqrt(2 / 300)
    nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=1)
    np.testing.assert_allclose(np.abs(w.data).max(), 1 / math.sqrt(300), rtol=1e-3)
    grid = [[Value(0.0) for _ in range(3)] for _ in range(2)]
    t = Tensor(np.zeros((2, 3)), requires_grad=True)
    nn.init.normal_(grid, generator=5)
    nn.init.normal_(t, generator=5)
    np.testing.assert_array_equal([[v.data for v in row] for row in grid], t.data)
    nn.init.constant_(t, 0.25)
    assert np.all(t.data == 0.25)
    assert nn.init.calculate_gain("tanh") == 5 / 3
    with pytest.raises(ShapeError, match="at least 2 axes"):
        nn.init.xavier_uniform_(Tensor(np.zeros(3), requires_grad=True))
