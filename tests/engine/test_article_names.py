"""The article's names (tinygrad_edu.article_names) point at the right numbers in every layout of its network."""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest

from tinygrad_edu import article_names as names
from tinygrad_edu import nn
from tinygrad_edu.check import article_network
from tinygrad_edu.graph import walk
from tinygrad_edu.tensor import Tensor
from tinygrad_edu.value import Value

# The article's section I, typed in from the article: weights and biases by their names.
ARTICLE = {"w1": 0.1, "w2": 0.2, "w3": 0.3, "w4": 0.4, "w5": 0.5, "w6": 0.6, "w7": 0.7, "w8": 0.8}
ARTICLE |= {"b_h1": 0.5, "b_h2": 0.12, "b_o1": 0.2, "b_o2": 0.4}


def sequential() -> nn.Sequential:
    model = nn.Sequential(
        nn.Linear(2, 2, dtype=np.float64), nn.Sigmoid(), nn.Linear(2, 2, dtype=np.float64), nn.Sigmoid()
    )
    model.load_state_dict(article_network.state_dict())
    return model


def test_every_parameter_has_a_name_and_a_place() -> None:
    assert tuple(ARTICLE) == names.PARAMETERS
    assert set(names.WIRING) == set(names.PARAMETERS)


def test_sequential_keys_hold_the_article_numbers() -> None:
    state = {k: np.asarray(v) for k, v in sequential().state_dict().items()}
    for name, value in ARTICLE.items():
        key, index = names.parameter_key(name)
        assert state[key][index] == pytest.approx(value), name
        assert names.parameter_name(key, index) == name


def test_weights_are_out_by_in_as_the_article_multiplies_them() -> None:
    """s_o1 = w5·a_h1 + w6·a_h2 + b_o1: row 0 of the second weight, column k multiplies a_hk."""
    assert names.parameter_key("w5") == ("2.weight", (0, 0))
    assert names.parameter_key("w6") == ("2.weight", (0, 1))
    assert names.parameter_key("w7") == ("2.weight", (1, 0))
    assert names.parameter_key("b_o2") == ("2.bias", (1,))
    assert names.matrix_names("0.weight") == [["w1", "w2"], ["w3", "w4"]]
    assert names.matrix_names("output_layer.bias") == ["b_o1", "b_o2"]
    assert names.matrix_names("3.weight") is None


def test_wiring_recomputes_the_article_forward_pass() -> None:
    """Evaluating s = Σ w·x + b from WIRING alone gives the sums the Sequential computes."""
    q = {"i1": 2.78, "i2": 2.55, "1": 1.0, **ARTICLE}
    for layer in (("s_h1", "s_h2"), ("s_o1", "s_o2")):
        for s in layer:
            q[s] = sum(ARTICLE[p] * q[x] for p, (x, target) in names.WIRING.items() if target == s)
        for s in layer:
            q["a" + s[1:]] = 1.0 / (1.0 + np.exp(-q[s]))
    out = sequential()(Tensor(np.array([2.78, 2.55])))
    np.testing.assert_allclose(out.data, [q["a_o1"], q["a_o2"]], rtol=1e-12)
    assert q["s_h1"] == pytest.approx(1.288)  # the article's own number


def test_scalar_network_names_both_spellings() -> None:
    """nn.Network's named_parameters (one per scalar) and state_dict (packed like Linear) both map back."""
    hidden = nn.Layer([nn.Neuron([ARTICLE["w1"], ARTICLE["w2"]], ARTICLE["b_h1"]), nn.Neuron([0.3, 0.4], 0.12)])
    output = nn.Layer([nn.Neuron([ARTICLE["w5"], ARTICLE["w6"]], ARTICLE["b_o1"]), nn.Neuron([0.7, 0.8], 0.4)])
    net = nn.Network(hidden_layers=[hidden], output_layer=output)
    for key, p in net.named_parameters():
        assert p.data == pytest.approx(ARTICLE[names.parameter_name(key)]), key
    state = {k: np.asarray(v) for k, v in net.state_dict().items()}
    for name, value in ARTICLE.items():
        key, index = names.parameter_key(name, layout="network")
        assert state[key][index] == pytest.approx(value)


def test_article_network_keys_are_the_names() -> None:
    model = article_network.ArticleNetwork()
    for key, p in model.named_parameters():
        assert names.parameter_name(key) == key
        assert p.data == ARTICLE[key]
    assert names.parameter_key("w5", layout="article") == ("w5", ())


def test_delta_is_the_sums_gradient() -> None:
    """δ_o1 = (a_o1 − target)·a_o1(1 − a_o1) (the article's formula) is s_o1.grad."""
    E, _ = article_network.article_network()
    nodes = {n.name: n for n in walk(E) if isinstance(n, Value)}
    for s, t in (("s_o1", 0.1), ("s_o2", 0.9)):
        a = nodes["a" + s[1:]].data
        delta = names.delta_name(s)
        assert nodes[s].grad == pytest.approx((a - t) * a * (1 - a), rel=1e-12), delta
        assert names.node_of_delta(delta) == s
        assert names.node_of_delta(names.delta_name(s, plain=True)) == s
    assert names.delta_name("s_o1") == "δ_o1"
    assert names.delta_name("a_o1") is None
    assert names.node_of_delta("δ_x9") is None


def test_node_names_and_descriptions() -> None:
    assert names.node_names("a_h") == ("a_h1", "a_h2")
    assert names.node_names("s_o1") == ("s_o1",)
    assert names.node_names("n7") is None
    assert names.describe("w5") == "w5 multiplies a_h1 in s_o1."
    assert "δ_o1" in names.describe("s_o1")
    for name in (*names.PARAMETERS, *names.NODES, *names.INPUTS, *names.TARGETS, names.LOSS, "δ_h1"):
        sentence = names.describe(name)
        assert sentence.endswith(".") and sentence.count(".") <= 2 and len(sentence) < 90, sentence
    with pytest.raises(KeyError, match="not one of the article's names"):
        names.describe("w9")
    with pytest.raises(KeyError, match="w9"):
        names.parameter_key("w9")
    with pytest.raises(KeyError, match="layout"):
        names.parameter_key("w1", layout="keras")


def test_imports_nothing_from_the_package() -> None:
    """It sits below everything (viz, check and the compiler import it), so it imports nothing of ours."""
    tree = ast.parse(inspect.getsource(names))
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert imported == ["__future__"]
