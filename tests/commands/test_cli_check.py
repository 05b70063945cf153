"""`tinygrad-edu check FILE`: exit 0/1/2, one line naming the file and line for a bad file, never a traceback.

The file runs in a child process with a time limit, so an early exit() or an endless loop cannot fake a pass.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from locations import EXAMPLES

GOOD = (
    "from tinygrad_edu.check import reference\n\n"
    "def gradients(state, x, t):\n    return reference.gradients(state, x, t)\n"
)


def run_check(tmp_path, source, *args, binary=False):
    path = tmp_path / "user.py"
    path.write_bytes(source) if binary else path.write_text(source)
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu.cli", "check", str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr, path


def test_a_correct_file_exits_0(tmp_path):
    code, out, err, _ = run_check(tmp_path, GOOD)
    assert code == 0, err
    assert "all 4 parameters match autodiff" in out


def test_a_wrong_file_exits_1(tmp_path):
    source = GOOD.replace(
        "return reference.gradients(state, x, t)", "return {k: -v for k, v in reference.gradients(state, x, t).items()}"
    )
    code, out, _, _ = run_check(tmp_path, source)
    assert code == 1 and "sign flipped" in out


@pytest.mark.parametrize(
    ("source", "words", "line"),
    [
        ("def gradients(state, x, t)\n    return {}\n", "syntax error", 1),
        ("import not_a_module_at_all\n", "ModuleNotFoundError", 1),
        ("x = 1\nundefined_name\n", "NameError", 2),
        ("def gradients(state, x, t):\n    return 42\n", "returned int 42", None),
        ("SIZES = [2, 'a', 2]\ndef gradients(state, x, t):\n    return {}\n", "SIZES", None),
        ("def gradients(state, x, t):\n    return gradients(state, x, t)\n", "infinite recursion", 2),
        ("import sys\nsys.exit(0)\n", "exit(0)", 2),
    ],
)
def test_a_bad_file_exits_2_with_one_line(tmp_path, source, words, line):
    code, _, err, path = run_check(tmp_path, source)
    assert code == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert words in err and str(path) in err
    if line is not None:
        assert f"line {line}" in err


def test_nul_bytes_exit_2(tmp_path):
    code, _, err, _ = run_check(tmp_path, b"x = 1\n\0\n", binary=True)
    assert code == 2 and "NUL byte" in err and "line 2" in err


def test_os_exit_is_not_a_pass(tmp_path):
    code, _, err, _ = run_check(tmp_path, "import os\nos._exit(0)\n")
    assert code == 2 and "ended the process" in err


def test_an_endless_loop_is_stopped_by_the_timeout(tmp_path):
    code, _, err, _ = run_check(tmp_path, "while True:\n    pass\n", "--timeout", "1")
    assert code == 2 and "still running after 1 s" in err


@pytest.mark.parametrize("args", [["--timeout", "0"], ["--timeout", "nan"], ["--steps", "0"], ["--rtol", "-1"]])
def test_bad_options_exit_2(tmp_path, args):
    code, _, err, _ = run_check(tmp_path, GOOD, *args)
    assert code == 2 and "Traceback" not in err


def test_help_says_check_runs_the_file_and_gives_the_exit_codes():
    out = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu.cli", "check", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "RUNS THE CODE IN FILE" in out
    assert "0 every check matches, 1 mistakes found" in out and "2 usage or input error" in out
    for option in ("--rtol", "--atol", "--loss", "--steps", "--timeout"):
        assert option in out


def test_the_articles_level1_code_yields_all_its_defects():
    out = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu.cli", "check", "examples/article_code/level1.py"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert out.stdout.count("once per input") == 2  # both bias updates sit inside the weight loop
    assert "compares the outputs with the class labels, not the one-hot targets" in out.stdout  # the printed error


def test_the_articles_level2_code_yields_its_defect():
    out = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu.cli", "check", "examples/article_code/level2.py", "--engine", "value"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert "the derivative of the Sigmoid, a(1 − a), is applied twice in the delta of layer 0" in out.stdout
    # and the line of the article's code that computed the wrong delta (the one with σ' twice)
    lines = Path("examples/article_code/level2.py").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "layer.deltas = (next_layer.weights.T" in text)
    where = f"δ of layer 0 (δ_h1, δ_h2) is first computed at examples/article_code/level2.py, line {line}:"
    assert where in out.stdout
    # the whole statement, over its three lines, never cut mid-expression
    assert "* (sigmoid_derivative(layer.outputs))" in out.stdout.split(where, 1)[1].splitlines()[0]


def test_the_graph_is_written(tmp_path):
    path = tmp_path / "level2.dot"
    out = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu.cli", "check", "examples/article_code/level2.py", "--graph", str(path)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1 and f"wrote {path}" in out.stdout
    assert "digraph" in path.read_text() and "#e31a1c" in path.read_text()  # wrong parameters in red


def test_the_graph_goes_through_render_with_its_time_out(tmp_path, monkeypatch):
    """A `dot` that hangs is stopped after the time-out, the DOT source (legend and all) is left, no half image.

    Before, --graph ran `dot` through graphviz's pipe() with no time-out and wrote whatever came back.
    """
    from tinygrad_edu.check.userfile import check_file
    from tinygrad_edu.commands import check as command
    from tinygrad_edu.errors import RenderError

    hanging = tmp_path / "bin" / "dot"
    hanging.parent.mkdir()
    hanging.write_text("#!/bin/sh\nexec sleep 5\n")
    hanging.chmod(0o755)
    monkeypatch.setenv("PATH", f"{hanging.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(command, "GRAPH_TIMEOUT", 0.5)
    result = check_file(str(EXAMPLES / "article_code" / "level2.py"))
    target = tmp_path / "graph.svg"
    with pytest.raises(RenderError, match=r"--graph: render: `dot` did not finish within 0.5 s") as caught:
        command._write_graph("level2.py", result, str(target))
    assert not target.exists()
    left = tmp_path / "graph.dot"
    assert str(left) in str(caught.value)
    assert "check_legend" in left.read_text() and "#e31a1c" in left.read_text()  # the report's drawing, as drawn


def test_render_writes_a_drawing_as_it_is_and_refuses_draw_keywords_with_it(tmp_path):
    import graphviz

    from tinygrad_edu.errors import ArgumentError
    from tinygrad_edu.viz import render

    drawing = graphviz.Digraph()
    drawing.node("a", "only a note")
    assert Path(render(drawing, tmp_path / "note.dot")).read_text() == drawing.source
    with pytest.raises(ArgumentError, match=r"already a drawing, so draw's keywords \(max_nodes\)"):
        render(drawing, tmp_path / "note.svg", max_nodes=10)
    assert not (tmp_path / "note.svg").exists()
