"""`train --graph-step` under `--compile`, and the live page's flags without `--live`: drawn or refused."""

from __future__ import annotations

import re

import pytest

from tinygrad_edu.cli import main

ARTICLE = ["train", "--dataset", "article", "--epochs", "3", "--no-progress"]


def _grads(path) -> dict[str, str]:
    """Each named node's drawn gradient (the parameters' and the loss's arrays, as the drawing prints them)."""
    text = path.read_text(encoding="utf-8")
    return dict(re.findall(r'label="([\w.]+)\|[^"]*\|grad ([^"|]+)"', text))


@pytest.mark.parametrize("which", ["first", "last", "0", "3"])
def test_graph_step_under_compile_draws_the_same_step_as_eager(tmp_path, capsys, which):
    # The compiled run's drawing is the eager run's, number for number (compile is bit for bit).
    eager, compiled = tmp_path / "eager.dot", tmp_path / "compiled.dot"
    assert main([*ARTICLE, "--graph-step", which, "--graph", str(eager)]) == 0
    said_eager = capsys.readouterr().out.splitlines()[-1]
    assert main([*ARTICLE, "--compile", "--graph-step", which, "--graph", str(compiled)]) == 0
    said_compiled = capsys.readouterr().out.splitlines()[-1]
    grads = _grads(eager)
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= grads.keys() and "—" not in grads["0.weight"]
    assert _grads(compiled) == grads
    loss = re.search(r"loss ([0-9.]+)\)", said_eager).group(1)
    assert f"loss {loss})" in said_compiled
    if which == "first":  # the initial weights differ from the trained ones: the step really was chosen
        assert main([*ARTICLE, "--graph-step", "last", "--graph", str(tmp_path / "last.dot")]) == 0
        assert _grads(tmp_path / "last.dot") != _grads(eager)


def test_graph_step_between_first_and_last_is_refused_under_compile_before_training(tmp_path, capsys):
    out = tmp_path / "g.dot"
    assert main([*ARTICLE, "--compile", "--graph-step", "1", "--graph", str(out)]) == 2
    captured = capsys.readouterr()
    assert "--graph-step 1 with --compile" in captured.err and "first or last (3)" in captured.err
    assert "trained in" not in captured.out and not out.exists()  # refused before any training
    assert len(captured.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--port", "8000"], "--port 8000 without --live"),
        (["--no-open"], "--no-open without --live"),
        (["--speed", "5"], "--speed 5 without --live"),
        (["--port", "8000", "--record", "RUN"], "--port 8000 without --live"),  # --record has no server
    ],
)
def test_live_page_flags_without_live_are_refused(tmp_path, capsys, flags, says):
    flags = [str(tmp_path / "run.html") if f == "RUN" else f for f in flags]
    assert main([*ARTICLE, *flags]) == 2
    captured = capsys.readouterr()
    assert says in captured.err and "add --live" in captured.err
    assert "trained in" not in captured.out and len(captured.err.strip().splitlines()) == 1
    assert not (tmp_path / "run.html").exists()
