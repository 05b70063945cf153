"""`tinygrad-edu article --code` and `train --compile`."""

from __future__ import annotations

import re

import pytest

from tinygrad_edu.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out


def test_article_code_prints_the_formulas_and_the_compiled_step(capsys):
    code, out = run(capsys, "article", "--code")
    assert code == 0
    formulas, _, source = out.partition("def step(")
    assert "δ_o1 = ∂E/∂s_o1" in formulas  # the article's side
    assert "# ---- forward" in source and "# ---- backward" in source and "# ---- update" in source
    assert "s_o1 = w5 * a_h1 + w6 * a_h2 + b_o1" in source
    assert re.search(r"δ_o1 = a_o1 \* \(1\.0 - a_o1\) \* .*# sigmoid: d/da = s \(1 - s\)", source)
    assert "params.w5.grad = a_h1 * δ_o1  # ∂E/∂w5" in source
    assert "optimizer.step()" in source


def test_article_code_step_gives_the_article_numbers():
    """The compiled step's update is the article's: w5 = 0.5 - 0.5 * 0.082167041 = 0.458916... (section II)."""
    from tinygrad_edu.compile.article import PARAMETERS, article_step

    step, params = article_step()
    assert step.traces == 1
    # two steps ran (trace, checked replay): w5 moved twice by lr * its gradient, down from 0.5
    assert params["w5"].data < PARAMETERS["w5"] - 0.08


def final_line(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("final loss"))


@pytest.mark.parametrize("dataset, engine", [("digits", "tensor"), ("article", "value")])
def test_train_compile_gives_the_same_numbers(capsys, dataset, engine):
    if dataset == "digits":
        pytest.importorskip("sklearn")  # the digits data set (conftest.py words the skip)
    argv = ["train", "--dataset", dataset, "--engine", engine, "--no-progress", "--epochs", "3"]
    code_eager, eager = run(capsys, *argv)
    code_compiled, compiled = run(capsys, *argv, "--compile")
    assert code_eager == code_compiled == 0
    assert final_line(eager) == final_line(compiled)
