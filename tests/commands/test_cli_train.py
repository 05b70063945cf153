"""`tinygrad-edu train` end to end: it trains, prints numbers that the saved weights reproduce, and fails politely."""

import re
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_edu.cli import main
from tinygrad_edu.train.datasets import load_article


def final_numbers(out):
    match = re.search(r"final loss ([0-9.]+), accuracy ([0-9.]+) \((\d+)/(\d+) correct\)", out)
    assert match, out
    return float(match[1]), float(match[2]), int(match[3]), int(match[4])


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_article_trains_and_the_saved_weights_reproduce_the_printed_loss(tmp_path, capsys):
    path = tmp_path / "article.npz"
    assert main(["train", "--dataset", "article", "--no-progress", "--save", str(path)]) == 0
    out = capsys.readouterr().out
    loss, acc, correct, total = final_numbers(out)
    assert (acc, correct, total) == (1.0, 10, 10)
    assert "sgd lr=0.5, 40 epochs, batch size 1" in out
    with np.load(path, allow_pickle=False) as saved:
        W1, b1, W2, b2 = (saved[k].astype(np.float64) for k in ("0.weight", "0.bias", "2.weight", "2.bias"))
    X, Y = load_article()
    outputs = sigmoid(sigmoid(X @ W1.T + b1) @ W2.T + b2)
    # per-sample E = 1/2 sum (target - output)^2, averaged over the 10 samples (batch size 1)
    assert loss == pytest.approx(np.mean(0.5 * ((outputs - Y) ** 2).sum(axis=1)), abs=2e-6)
    assert np.mean(outputs.argmax(1) == Y.argmax(1)) == 1.0


def test_both_engines_give_the_same_run(capsys):
    runs = []
    for engine in ("tensor", "value"):
        assert main(["train", "--engine", engine, "--epochs", "10", "--seed", "3", "--no-progress"]) == 0
        runs.append(final_numbers(capsys.readouterr().out))
    assert runs[0][0] == pytest.approx(runs[1][0], rel=1e-4)  # float32 tensors, float64 Values
    assert runs[0][1:] == runs[1][1:]


def test_adam_and_batches(capsys):
    assert main(["train", "--optimizer", "adam", "--batch-size", "5", "--epochs", "60", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "adam lr=0.01, 60 epochs, batch size 5" in out
    assert final_numbers(out)[1] == 1.0


def test_moons_reaches_95_percent(capsys):
    assert main(["train", "--dataset", "moons", "--no-progress"]) == 0
    assert final_numbers(capsys.readouterr().out)[1] >= 0.95


def test_digits(capsys):
    pytest.importorskip("sklearn")
    assert main(["train", "--dataset", "digits", "--epochs", "5", "--no-progress"]) == 0
    loss, acc, _, total = final_numbers(capsys.readouterr().out)
    assert total == 1797 and acc > 0.9
    assert loss < 0.5  # cross-entropy of a uniform guess over 10 classes is ln 10 = 2.3


def test_digits_without_scikit_learn(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    assert main(["train", "--dataset", "digits", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tinygrad-edu train: error:") and "pip install scikit-learn" in err


def test_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "loss.png"
    assert main(["train", "--epochs", "3", "--no-progress", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_fails_before_training(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["train", "--plot", "loss.png", "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert "pip install 'tinygrad_edu[plot]'" in captured.err
    assert "final loss" not in captured.out  # refused before any training


def test_save_into_a_missing_folder_is_a_one_line_error(tmp_path, capsys):
    assert main(["train", "--epochs", "1", "--no-progress", "--save", str(tmp_path / "no" / "m.npz")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("tinygrad-edu train: error:") and captured.err.count("\n") == 1
    assert "folder does not exist" in captured.err and "final loss" not in captured.out  # checked before training


@pytest.mark.parametrize("bad", [["--epochs", "-1"], ["--batch-size", "0"], ["--lr", "0"], ["--dataset", "mnist"]])
def test_bad_arguments(bad, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", *bad])
    assert info.value.code == 2


def test_python_dash_m_runs_it():
    result = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu", "train", "--dataset", "article", "--epochs", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "final loss" in result.stdout and "\r" not in result.stdout  # a pipe gets no progress bar


def test_graph_draws_the_last_step_with_the_trained_weights_and_their_gradients(tmp_path, capsys):
    from tinygrad_edu import nn
    from tinygrad_edu.train import checkpoint, step_graph

    graph, saved = tmp_path / "step.dot", tmp_path / "model.npz"
    argv = ["train", "--dataset", "article", "--engine", "value", "--no-progress"]
    assert main([*argv, "--graph", str(graph), "--graph-step", "last", "--save", str(saved)]) == 0
    source = graph.read_text()
    # The drawn gradients are those of one more pass over the last sample with the saved weights:
    # recompute them independently of the CLI and find each, formatted as viz prints 4 digits.
    model = nn.Sequential(
        nn.Linear(2, 2, dtype=np.float64, engine="value"),
        nn.Sigmoid(),
        nn.Linear(2, 2, dtype=np.float64, engine="value"),
        nn.Sigmoid(),
    )
    checkpoint.load(model, saved)
    X, Y = load_article(one_hot=True)
    loss = step_graph(model, nn.MSELoss(reduction="half_sum"), X[-1:], Y[-1:])
    assert f"{loss.data:.4g}" in source
    for name, p in model.named_parameters():
        assert name in source
        assert f"{p.grad:.4g}" in source
    assert "subgraph cluster_m" in source  # the modules are drawn as clusters


def test_graph_with_an_unknown_suffix_is_refused_before_training(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:  # argparse refuses it, with the usage line
        main(["train", "--dataset", "article", "--no-progress", "--graph", str(tmp_path / "g.txt")])
    assert exit_info.value.code == 2
    assert ".svg, .png, .pdf, .dot or .html" in capsys.readouterr().err


CLI = [sys.executable, "-m", "tinygrad_edu"]


def test_piped_output_has_epoch_lines_and_labelled_numbers_that_agree(tmp_path):
    from tinygrad_edu import nn
    from tinygrad_edu.train import checkpoint, step_graph

    saved, graph = tmp_path / "m.npz", tmp_path / "g.dot"
    argv = ["train", "--dataset", "article", "--engine", "value", "--save", str(saved), "--graph", str(graph)]
    result = subprocess.run(
        [*CLI, *argv, "--graph-step", "last"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    epochs = re.findall(r"^epoch (\d+)/40 - loss: ([0-9.]+) - accuracy: ([0-9.]+)$", out, re.M)
    assert len(epochs) == 10 and epochs[-1][0] == "40"  # a pipe gets epoch lines instead of the bar
    during = re.search(r"last epoch, while training: loss ([0-9.]+), accuracy ([0-9.]+) \(the progress bar", out)
    assert during and float(during[1]) == pytest.approx(float(epochs[-1][1]), abs=1e-4)
    assert final_numbers(out)[1:] == (1.0, 10, 10)
    assert "(after training: one more pass over all 10 samples, no updates)" in out
    # Each number says which pass it is from, and the graph's pass is recomputed here from the saved weights.
    model = nn.Sequential(
        nn.Linear(2, 2, dtype=np.float64, engine="value"),
        nn.Sigmoid(),
        nn.Linear(2, 2, dtype=np.float64, engine="value"),
        nn.Sigmoid(),
    )
    checkpoint.load(model, saved)
    X, Y = load_article(one_hot=True)
    last = step_graph(model, nn.MSELoss(reduction="half_sum"), X[-1:], Y[-1:]).data
    drew = re.search(r"\(no update; loss ([0-9.]+)\) of the trained weights, on the last sample", out)
    assert drew and float(drew[1]) == pytest.approx(last, abs=1e-6)
    assert graph.exists()


def test_graph_names_the_input_and_target_of_the_drawn_batch(tmp_path, capsys):
    graph = tmp_path / "g.dot"
    argv = ["train", "--dataset", "article", "--epochs", "1", "--no-progress", "--graph", str(graph)]
    assert main([*argv, "--graph-step", "last"]) == 0
    source = graph.read_text()
    X, Y = load_article(one_hot=True)  # the drawn batch is the last sample, in data order
    x = ", ".join(f"{v:.4g}" for v in X[-1])
    t = ", ".join(f"{v:.4g}" for v in Y[-1])
    assert f'"x|(1, 2) float32|data [[{x}]]|grad —"' in source
    assert f'"target|(1, 2) float32|data [[{t}]]|grad —"' in source


def test_graph_step_first_draws_the_initial_weights_where_gradients_still_flow(tmp_path, capsys):
    """On moons the trained max-margin loss is 0 (every gradient 0): --graph draws the first step by default."""
    from tinygrad_edu import nn
    from tinygrad_edu.train import step_graph

    graph, saved = tmp_path / "g.dot", tmp_path / "m.npz"
    argv = ["train", "--dataset", "article", "--engine", "value", "--epochs", "3", "--no-progress"]
    assert main([*argv, "--graph", str(graph), "--save", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "of the first training step (the initial weights), on the first sample" in out
    # the initial weights: the same seed builds the same model before any update
    from tinygrad_edu.commands.train import PRESETS, build_model

    model = build_model(PRESETS["article"], "value", np.random.default_rng(0))
    X, Y = load_article(one_hot=True)
    loss = step_graph(model, nn.MSELoss(reduction="half_sum"), X[:1], Y[:1])
    assert re.search(rf"loss {loss.data:.6f}\)", out)
    source = graph.read_text()
    for _, p in model.named_parameters():
        assert f"{p.grad:.4g}" in source
    assert main([*argv, "--graph", str(graph), "--graph-step", "2"]) == 0
    assert "of the weights after 2 epochs, on the last sample" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([*argv, "--graph", str(graph), "--graph-step", "soon"])
    assert main([*argv, "--graph", str(graph), "--graph-step", "9"]) == 2
    assert "--graph-step 9: training runs 3 epochs" in capsys.readouterr().err
