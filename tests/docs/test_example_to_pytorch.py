"""examples/to_pytorch.py: the run handed over to PyTorch mid-training is the run that stayed here, and both are the
article's SGD computed by hand with NumPy; without PyTorch the example says what to install."""

import subprocess
import sys

import numpy as np
import pytest
from locations import EXAMPLES, ROOT
from test_examples import load_example

from tinygrad_edu.check.article_network import state_dict as article_weights
from tinygrad_edu.train.datasets import load_article


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def by_hand(epochs, lr, momentum):
    """The article's per-sample training with its delta formulas, plus PyTorch's momentum rule, in NumPy."""
    state = article_weights()
    params = [state["0.weight"], state["0.bias"], state["2.weight"], state["2.bias"]]
    buffers = None
    X, expected = load_article(one_hot=True)
    for _ in range(epochs):
        for x, target in zip(X, expected):
            W1, b1, W2, b2 = params
            a_h = sigmoid(W1 @ x + b1)
            a_o = sigmoid(W2 @ a_h + b2)
            delta_o = (a_o - target) * a_o * (1 - a_o)
            delta_h = (W2.T @ delta_o) * a_h * (1 - a_h)
            grads = [np.outer(delta_h, x), delta_h, np.outer(delta_o, a_h), delta_o]
            buffers = grads if buffers is None else [momentum * b + g for b, g in zip(buffers, grads)]
            steps = buffers if momentum else grads
            params = [p - lr * s for p, s in zip(params, steps)]
    return dict(zip(["0.weight", "0.bias", "2.weight", "2.bias"], params))


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_the_handed_over_run_is_the_run_here_and_the_articles_sgd(momentum, capsys):
    pytest.importorskip("torch", reason="needs PyTorch: pip install -e '.[torch]'")
    result = load_example("to_pytorch").main(["--momentum", str(momentum)])
    np.testing.assert_allclose(result["errors_handed_over"], result["errors_here"], rtol=0, atol=1e-12)
    assert result["errors_here"][-1] < result["errors_here"][0] / 10  # it learned
    expected = by_hand(40, 0.5, momentum)
    for key, want in expected.items():
        np.testing.assert_allclose(result["weights_here"][key], want, rtol=0, atol=1e-12, err_msg=key)
        np.testing.assert_allclose(result["weights_handed_over"][key], want, rtol=0, atol=1e-12, err_msg=key)
    assert result["weight_difference"] < 1e-12
    out = capsys.readouterr().out
    assert "-> PyTorch" in out and "PyTorch " in out.splitlines()[-2]


def test_without_torch_it_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)
    assert load_example("to_pytorch").main([]) is None
    assert "needs PyTorch, which is not installed; install it with `pip install torch`" in capsys.readouterr().out


def test_it_runs_as_a_plain_script():
    pytest.importorskip("torch", reason="needs PyTorch: pip install -e '.[torch]'")
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "to_pytorch.py"), "--epochs", "4", "--hand-over", "2"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "-> PyTorch" in run.stdout and "largest difference" in run.stdout


def numbers_and_words(text):
    """The page's printed table as tokens: numbers compared to 1e-12 (the last digits are round-off), words exactly."""
    tokens = []
    for token in text.split():
        try:
            tokens.append(float(token))
        except ValueError:
            tokens.append(token)
    return tokens


def test_the_docs_page_shows_what_the_example_prints(capsys):
    pytest.importorskip("torch", reason="needs PyTorch: pip install -e '.[torch]'")
    load_example("to_pytorch").main([])
    printed = capsys.readouterr().out
    page = (ROOT / "docs" / "torch.md").read_text(encoding="utf-8")
    shown = page.split("examples/to_pytorch.py\n```\n\n```text\n", 1)[1].split("\n```", 1)[0]
    got, want = numbers_and_words(printed), numbers_and_words(shown)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g == pytest.approx(w, abs=1e-12) if isinstance(w, float) else g == w
