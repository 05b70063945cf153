"""fit / predict / evaluate / accuracy / summary / datasets, checked against loops and numbers computed here."""

import io
import sys

import numpy as np
import pytest

from tinygrad_edu import Tensor, Value, nn, optim
from tinygrad_edu.errors import ShapeError
from tinygrad_edu.train import History, accuracy, evaluate, fit, max_margin_loss, predict, progress_bar, summary
from tinygrad_edu.train.datasets import MissingDependencyError, load_article, load_digits, make_moons, one_hot

X_ARTICLE, Y_ARTICLE = load_article()


def article_model(seed, engine="tensor", hidden=2, final_sigmoid=True):
    layers = [
        nn.Linear(2, hidden, generator=seed, engine=engine, dtype=np.float64),
        nn.Sigmoid(),
        nn.Linear(hidden, 2, generator=seed + 1, engine=engine, dtype=np.float64),
    ]
    if final_sigmoid:
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers, engine=engine)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ---------------------------------------------------------------------- datasets


def test_article_dataset():
    X, Y = load_article()
    assert X.shape == (10, 2) and Y.shape == (10, 2)
    assert X[0].tolist() == [2.7810836, 2.550537003] and X[8].tolist() == [8.675418651, -0.242068655]
    np.testing.assert_array_equal(Y, [[1, 0]] * 5 + [[0, 1]] * 5)
    _, labels = load_article(one_hot=False)
    assert labels.tolist() == [0] * 5 + [1] * 5


def test_one_hot():
    np.testing.assert_array_equal(one_hot(np.array([2, 0, 1])), [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert one_hot(np.array([0]), 3).shape == (1, 3)
    with pytest.raises(ValueError, match="labels must lie"):
        one_hot(np.array([3]), 3)


def test_moons_lie_on_their_half_circles_without_noise():
    X, y = make_moons(51, noise=None, generator=0)
    outer, inner = X[y == 0], X[y == 1]
    assert len(outer) == 25 and len(inner) == 26
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0, atol=1e-12)
    assert outer[:, 1].min() >= -1e-12  # the upper half
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0, atol=1e-12)
    assert inner[:, 1].max() <= 0.5 + 1e-12  # the lower half, moved


def test_moons_noise_and_seed():
    a, _ = make_moons(2000, noise=0.1, generator=3, shuffle=False)
    clean, _ = make_moons(2000, noise=None, shuffle=False)
    s1, y1 = make_moons(300, generator=5)
    s2, y2 = make_moons(300, generator=5)
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(y1, y2)
    assert 0 < y1[:150].sum() < 150  # shuffled: the classes are mixed
    noise = (a - clean).ravel()
    assert abs(noise.std() - 0.1) < 0.005 and abs(noise.mean()) < 0.005
    c, _ = make_moons(2000, noise=0.1, generator=4, shuffle=False)
    assert not np.array_equal(a, c)


def test_moons_match_scikit_learn_geometry():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    X, y = make_moons(101, noise=None, shuffle=False)
    X_ref, y_ref = sklearn_datasets.make_moons(101, noise=0, shuffle=False)
    np.testing.assert_allclose(X, X_ref, atol=1e-12)
    np.testing.assert_array_equal(y, y_ref)


def test_digits_with_scikit_learn():
    pytest.importorskip("sklearn")
    X, y = load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0.0 and X.max() == 1.0
    assert sorted(set(y.tolist())) == list(range(10))


def test_digits_without_scikit_learn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(MissingDependencyError, match="pip install scikit-learn") as info:
        load_digits()
    assert isinstance(info.value, ImportError)


# ---------------------------------------------------------------------- accuracy and the max-margin loss


def test_accuracy_rules():
    out = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    assert accuracy(out, [0, 1, 1, 1]) == 0.75
    assert accuracy(out, one_hot(np.array([0, 1, 1, 1]))) == 0.75
    scores = np.array([[0.5], [-2.0], [0.1], [-0.1]])
    assert accuracy(scores, [1, -1, -1, -1]) == 0.75  # signed labels: the sign decides
    probabilities = np.array([[0.7], [0.2], [0.4]])
    assert accuracy(probabilities, [1, 0, 1]) == pytest.approx(2 / 3)  # 0/1 labels: p > 0.5 decides


def test_max_margin_loss_both_engines_match_the_formula():
    scores = np.array([[0.5], [-2.0], [1.5], [-0.2]])
    y = np.array([1.0, -1.0, -1.0, 1.0])
    expected = np.mean(np.maximum(0, 1 - y * scores[:, 0]))  # 0.5, 0, 2.5, 1.2 -> 1.05
    assert expected == pytest.approx(1.05)
    s = Tensor(scores, requires_grad=True)
    loss = max_margin_loss(s, y)  # (batch,) labels against (batch, 1) scores must not broadcast
    assert loss.item() == pytest.approx(expected)
    loss.backward()
    np.testing.assert_allclose(s.grad[:, 0], np.where(1 - y * scores[:, 0] > 0, -y, 0) / 4)
    values = [[Value(v)] for v in scores[:, 0]]
    v_loss = max_margin_loss(values, [[t] for t in y])
    assert v_loss.data == pytest.approx(expected)
    v_loss.backward()
    np.testing.assert_allclose([row[0].grad for row in values], s.grad[:, 0])


# ---------------------------------------------------------------------- fit


def test_fit_full_batch_matches_hand_written_gradient_descent():
    model = nn.Linear(2, 1, generator=0, dtype=np.float64)
    W, b = model.weight.data.copy(), model.bias.data.copy()
    X = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]])
    y = np.array([[1.0], [0.0], [2.0]])
    history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.05), X, y, epochs=4, progress=False)
    losses = []
    for _ in range(4):  # d/dW mean((XWᵀ + b - y)²) = 2/n (XWᵀ + b - y)ᵀ X
        residual = X @ W.T + b - y
        losses.append(np.mean(residual**2))
        W = W - 0.05 * 2 / 3 * residual.T @ X
        b = b - 0.05 * 2 / 3 * residual.sum(axis=0)
    np.testing.assert_allclose(model.weight.data, W, rtol=1e-12)
    np.testing.assert_allclose(model.bias.data, b, rtol=1e-12)
    np.testing.assert_allclose(history["loss"], losses, rtol=1e-12)
    assert history.epoch == [1, 2, 3, 4]
    assert isinstance(history, History) and history.final()["loss"] == history.loss[-1]


@pytest.mark.parametrize("batch_size", [1, 3, None])
def test_both_engines_train_the_same(batch_size):
    tensor_model, value_model = article_model(0), article_model(9, engine="value")
    value_model.load_state_dict(tensor_model.state_dict())
    loss_fn = nn.MSELoss(reduction="half_sum")  # a summing loss: batches must reduce alike on both engines
    runs = []
    for model in (tensor_model, value_model):
        runs.append(
            fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.5), X_ARTICLE, Y_ARTICLE, epochs=3,
                batch_size=batch_size if batch_size else 10, shuffle=False, progress=False)
        )  # fmt: skip
    np.testing.assert_allclose(runs[0]["loss"], runs[1]["loss"], rtol=1e-12)
    np.testing.assert_array_equal(runs[0]["accuracy"], runs[1]["accuracy"])
    for key, array in tensor_model.state_dict().items():
        np.testing.assert_allclose(value_model.state_dict()[key], array, rtol=1e-11)


def test_value_engine_defaults_to_per_sample_steps():
    model = article_model(0, engine="value")
    twin = article_model(0, engine="value")
    fit(model, nn.MSELoss(reduction="half_sum"), optim.SGD(model.parameters(), lr=0.5), X_ARTICLE, Y_ARTICLE,
        epochs=1, shuffle=False, progress=False)  # fmt: skip
    opt = optim.SGD(twin.parameters(), lr=0.5)
    for x, y in zip(X_ARTICLE, Y_ARTICLE):  # the article's Level 1 loop
        opt.zero_grad()
        out = twin(list(x))
        (0.5 * sum((o - t) ** 2 for o, t in zip(out, y))).backward()
        opt.step()
    for key, array in twin.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[key], array, rtol=1e-12)


def test_shuffle_follows_the_generator():
    def run(seed):
        model = article_model(0)
        opt = optim.SGD(model.parameters(), lr=0.5)
        fit(model, nn.MSELoss(), opt, X_ARTICLE, Y_ARTICLE, 2, batch_size=4, generator=seed, progress=False)
        return model.state_dict()["0.weight"]

    np.testing.assert_array_equal(run(1), run(1))
    assert not np.allclose(run(1), run(2))
    # the same batches by hand: permutation per epoch from the same generator
    model = article_model(0)
    opt = optim.SGD(model.parameters(), lr=0.5)
    rng = np.random.default_rng(1)
    for _ in range(2):
        order = rng.permutation(10)
        for start in range(0, 10, 4):
            idx = order[start : start + 4]
            opt.zero_grad()
            nn.MSELoss()(model(Tensor(X_ARTICLE[idx])), Y_ARTICLE[idx]).backward()
            opt.step()
    np.testing.assert_allclose(model.state_dict()["0.weight"], run(1), rtol=1e-12)


def test_fit_metrics_and_integer_labels_with_cross_entropy():
    _, labels = load_article(one_hot=False)
    model = article_model(0, final_sigmoid=False, hidden=3)

    def mean_output(outputs, targets):
        return float(np.mean(outputs))

    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05), X_ARTICLE, labels, 150,
                  metrics=("accuracy", mean_output), progress=False)  # fmt: skip
    assert set(history.history) == {"loss", "accuracy", "mean_output"}
    assert history["accuracy"][-1] == 1.0
    assert history["loss"][-1] < history["loss"][0]
    logits = predict(model, X_ARTICLE)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected_loss = -np.mean(log_p[np.arange(10), labels])
    assert evaluate(model, nn.CrossEntropyLoss(), X_ARTICLE, labels)["loss"] == pytest.approx(expected_loss, rel=1e-12)


def test_fit_rejects_bad_input():
    model = article_model(0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ShapeError, match="10 samples but Y has 9"):
        fit(model, nn.MSELoss(), opt, X_ARTICLE, Y_ARTICLE[:9], 1, progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        fit(model, nn.MSELoss(), opt, X_ARTICLE, Y_ARTICLE, 1, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="unknown metric"):
        fit(model, nn.MSELoss(), opt, X_ARTICLE, Y_ARTICLE, 1, metrics=("f1",), progress=False)
    with pytest.raises(ValueError, match="no parameters"):
        fit(nn.Sequential(nn.Sigmoid()), nn.MSELoss(), opt, X_ARTICLE, Y_ARTICLE, 1, progress=False)


# ---------------------------------------------------------------------- predict / evaluate


def test_predict_both_engines_and_builds_no_graph():
    model = article_model(0)
    out = predict(model, X_ARTICLE)
    W1, b1 = model[0].weight.data, model[0].bias.data
    W2, b2 = model[2].weight.data, model[2].bias.data
    np.testing.assert_allclose(out, sigmoid(sigmoid(X_ARTICLE @ W1.T + b1) @ W2.T + b2), rtol=1e-12)
    np.testing.assert_allclose(predict(model, X_ARTICLE, batch_size=3), out, rtol=1e-12)
    value_model = article_model(5, engine="value")
    value_model.load_state_dict(model.state_dict())
    np.testing.assert_allclose(predict(value_model, X_ARTICLE), out, rtol=1e-12)
    assert all(p.grad is None for p in value_model.parameters())


def test_evaluate_loss_is_the_batch_weighted_mean():
    model = article_model(0)
    out = predict(model, X_ARTICLE)
    per_sample = 0.5 * ((out - Y_ARTICLE) ** 2).sum(axis=1)
    half_sum = nn.MSELoss(reduction="half_sum")
    assert evaluate(model, half_sum, X_ARTICLE, Y_ARTICLE)["loss"] == pytest.approx(per_sample.sum(), rel=1e-12)
    by_one = evaluate(model, half_sum, X_ARTICLE, Y_ARTICLE, batch_size=1)
    assert by_one["loss"] == pytest.approx(per_sample.mean(), rel=1e-12)
    by_four = evaluate(model, half_sum, X_ARTICLE, Y_ARTICLE, batch_size=4)  # batches of 4, 4, 2
    sums = [per_sample[:4].sum(), per_sample[4:8].sum(), per_sample[8:].sum()]
    assert by_four["loss"] == pytest.approx((4 * sums[0] + 4 * sums[1] + 2 * sums[2]) / 10, rel=1e-12)
    assert by_one["accuracy"] == accuracy(out, Y_ARTICLE)


# ---------------------------------------------------------------------- progress


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_silent_off_a_terminal(capsys):
    model = article_model(0)
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), X_ARTICLE, Y_ARTICLE, 3, progress=True)
    assert capsys.readouterr().out == ""  # pytest's captured stdout is not a terminal
    stream = FakeTerminal()
    bar = progress_bar(3, enabled=False, stream=stream)
    bar.update(1, {"loss": 1.0})
    bar.close()
    assert stream.getvalue() == ""


def test_plain_progress_bar_shows_epoch_loss_and_accuracy():
    stream = FakeTerminal()
    bar = progress_bar(3, stream=stream, use_tqdm=False)
    for epoch in (1, 2, 3):
        bar.update(epoch, {"loss": 1.0 / epoch, "accuracy": 0.5})
    bar.close()
    text = stream.getvalue()
    assert text.startswith("\rEpoch 1/3 [") and text.endswith("\n")
    assert "\rEpoch 3/3 [==============================] - loss: 0.3333 - accuracy: 0.5000\n" in text


def test_tqdm_progress_bar_shows_loss():
    pytest.importorskip("tqdm")
    stream = FakeTerminal()
    bar = progress_bar(2, stream=stream, use_tqdm=True)
    bar.update(1, {"loss": 0.25, "accuracy": 1.0})
    bar.update(2, {"loss": 0.125, "accuracy": 1.0})
    bar.close()
    assert "2/2" in stream.getvalue() and "loss: 0.1250 - accuracy: 1.0000" in stream.getvalue()


# ---------------------------------------------------------------------- summary


def test_summary_of_the_article_level3_model():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 2))
    text = summary(model, (2,), print_fn=None)
    lines = text.splitlines()
    assert lines[0] == 'Model: "Sequential"'
    rows = [line.split() for line in lines[4:7]]
    # Linear(in, out) has in*out weights and out biases: 2*3 + 3 = 9, 3*2 + 2 = 8
    assert rows == [["0", "(Linear)", "(None,", "3)", "9"], ["1", "(Sigmoid)", "(None,", "3)", "0"],
                    ["2", "(Linear)", "(None,", "2)", "8"]]  # fmt: skip
    assert "Total params: 17" in lines and "Trainable params: 17" in lines and "Non-trainable params: 0" in lines
    assert "forward" not in model[0].__dict__  # the recording wrappers are gone
    assert all(p.grad is None for p in model.parameters())
    assert model(Tensor(np.ones((4, 2), np.float32))).shape == (4, 2)


def test_summary_of_scalar_models(capsys):
    rng = np.random.default_rng(0)
    network = nn.Network([nn.Layer.random(2, 2, rng)], nn.Layer.random(2, 2, rng))
    summary(network, (2,))
    text = capsys.readouterr().out
    assert " hidden_layers.0 (Layer)" in text and " output_layer (Layer)" in text
    assert text.count("(2,)") == 2 and "Total params: 12" in text
    value_mlp = nn.Sequential(nn.Linear(2, 16, engine="value"), nn.ReLU(), nn.Linear(16, 1, engine="value"))
    text = summary(value_mlp, 2, print_fn=None)
    assert "(16,)" in text and f"Total params: {2 * 16 + 16 + 16 + 1}" in text


def test_fit_on_a_model_without_parameters_says_so():
    from tinygrad_edu.errors import ArgumentError

    model = nn.Sequential(nn.Sigmoid(engine="tensor"))
    with pytest.raises(ArgumentError, match="has no parameters"):
        fit(model, nn.MSELoss(), None, np.zeros((2, 1)), np.zeros((2, 1)), epochs=1)
    with pytest.raises(ArgumentError, match="has no parameters"):
        predict(model, np.zeros((2, 1)))
