"""Every example runs, keeps the promise its docstring makes, and its gradients are correct backprop."""

import importlib.util

import numpy as np
import pytest
from locations import EXAMPLES

from tinygrad_edu import Tensor
from tinygrad_edu.train.datasets import load_article, make_moons

X, Y = load_article()
LABELS = Y.argmax(axis=1)


def load_example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def hand_backprop_step(W1, b1, W2, b2, x, target, lr):
    """One per-sample step with the article's delta formulas (one sigmoid derivative per layer)."""
    a_h = sigmoid(W1 @ x + b1)
    a_o = sigmoid(W2 @ a_h + b2)
    delta_o = (a_o - target) * a_o * (1 - a_o)
    delta_h = (W2.T @ delta_o) * a_h * (1 - a_h)
    return W1 - lr * np.outer(delta_h, x), b1 - lr * delta_h, W2 - lr * np.outer(delta_o, a_h), b2 - lr * delta_o


def article_printed_numpy_step(W1, b1, W2, b2, x, target, lr):
    """The article's Level 2 code as printed: the hidden deltas take the sigmoid derivative twice."""
    a_h = sigmoid(W1 @ x + b1)
    a_o = sigmoid(W2 @ a_h + b2)
    delta_o = (a_o - target) * a_o * (1 - a_o)
    delta_h = (W2.T @ delta_o) * a_h * (1 - a_h) * a_h * (1 - a_h)
    return W1 - lr * np.outer(delta_h, x), b1 - lr * delta_h, W2 - lr * np.outer(delta_o, a_h), b2 - lr * delta_o


def params(state, first, second):
    return [state[f"{first}.weight"], state[f"{first}.bias"], state[f"{second}.weight"], state[f"{second}.bias"]]


# ---------------------------------------------------------------------- Level 1


def test_level1_classifies_all_ten_points(capsys):
    result = load_example("level1_pure_python").main([])
    assert result["accuracy"] == 1.0
    assert result["predictions"] == LABELS.tolist()
    assert result["errors"][-1] < result["errors"][0] / 5  # it learned (1.25 at epoch 10, 0.10 at 40)
    assert "9 - Expected=1, Got=1" in capsys.readouterr().out


def test_level1_autodiff_step_is_the_articles_backprop():
    level1 = load_example("level1_pure_python")
    network = level1.build_network(seed=3)
    before = params(network.state_dict(), "hidden_layers.0", "output_layer")
    level1.train(network, [X[0].tolist()], [0], lr=0.5, epochs=1)
    expected = hand_backprop_step(*before, X[0], Y[0], 0.5)
    for got, want in zip(params(network.state_dict(), "hidden_layers.0", "output_layer"), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)


# ---------------------------------------------------------------------- Level 2


def test_level2_classifies_all_ten_points():
    result = load_example("level2_numpy").main([])
    assert result["accuracy"] == 1.0
    assert (result["outputs"].argmax(axis=1) == LABELS).all()


def test_level2_hidden_deltas_take_one_sigmoid_derivative():
    level2 = load_example("level2_numpy")
    model = level2.build_model(seed=0)
    state = model.state_dict()
    before = params(state, 0, 2)
    loss = level2.nn.MSELoss(reduction="half_sum")(model(Tensor(X[:1])), Tensor(Y[:1]))
    loss.backward()
    step = [p.data - 0.5 * p.grad for p in (model[0].weight, model[0].bias, model[2].weight, model[2].bias)]
    correct = hand_backprop_step(*before, X[0], Y[0], 0.5)
    printed = article_printed_numpy_step(*before, X[0], Y[0], 0.5)
    for got, want in zip(step, correct):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert not np.allclose(step[0], printed[0], rtol=1e-6)  # the article's extra factor changes w1..w4


# ---------------------------------------------------------------------- Level 3


def test_level3_reaches_100_percent(capsys):
    result = load_example("level3_keras_style").main(["--no-progress"])
    assert result["accuracy"] == 1.0
    out = capsys.readouterr().out
    assert "Total params: 17" in out and "9 - Expected=1, Got=1" in out
    # The raw predictions are labelled, one numbered row per point, and the class line names its formula.
    assert "predictions = model.predict(X): one row per point" in out
    assert f"class_predictions = predictions.argmax(axis=1): {LABELS.tolist()}" in out
    assert len(result["history"]["loss"]) == 200
    # MSELoss is the mean over all 20 outputs; recompute it from the trained weights
    state = result["model"].state_dict()
    outputs = sigmoid(X @ state["0.weight"].T + state["0.bias"]) @ state["2.weight"].T + state["2.bias"]
    assert result["loss"] == pytest.approx(np.mean((outputs - Y) ** 2), rel=1e-5)
    assert result["loss"] < 0.02


# ---------------------------------------------------------------------- moons


def test_moons_reaches_95_percent():
    moons = load_example("moons")
    result = moons.main(["--no-progress"])
    assert result["accuracy"] >= 0.95
    # the accuracy is the sign of the score against the -1/+1 labels, recomputed here
    Xm, labels = make_moons(100, noise=0.1, generator=0)
    scores = result["model"](Tensor(Xm.astype(np.float32))).data[:, 0]
    assert np.mean((scores > 0) == (labels == 1)) == result["accuracy"]
    assert moons.build_model(0).num_parameters() == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1


def test_moons_draws_the_decision_boundary(tmp_path):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "moons.png"
    load_example("moons").main(["--no-progress", "--epochs", "5", "--plot", str(plot)])
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_draw_graph_writes_to_the_ignored_out_folder_inside_the_repo(monkeypatch, tmp_path):
    draw_graph = load_example("draw_graph")
    monkeypatch.chdir(EXAMPLES.parent)
    assert draw_graph.default_folder() == EXAMPLES.parent / "out"
    assert "out/" in (EXAMPLES.parent / ".gitignore").read_text().split()
    monkeypatch.chdir(tmp_path)  # run from elsewhere: the current folder
    assert draw_graph.default_folder() == tmp_path.resolve()
