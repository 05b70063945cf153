"""Every script in examples/ runs as a learner runs it: `python examples/NAME.py`, in a fresh process.

The scripts are found by globbing, so a new example is covered the day it is added. Each runs from an
empty folder (where the examples that write files put them), with no arguments; it must exit 0 and
print no traceback. What each example computes is tested in test_examples.py and its own test files.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from locations import EXAMPLES, ROOT

SCRIPTS = sorted(EXAMPLES.glob("*.py"))


def test_the_examples_are_found():
    assert {"walkthrough.py", "draw_graph.py", "level1_pure_python.py"} <= {p.name for p in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_the_example_runs_as_a_user_runs_it(script, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert done.returncode == 0, f"{script.name} exited {done.returncode}:\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    assert done.stdout.strip(), f"{script.name} printed nothing"


def test_draw_graph_writes_nothing_when_a_drawing_fails(tmp_path, monkeypatch):
    """It draws every graph before it writes a file, so a failure leaves earlier drawings in out/ untouched."""
    import importlib.util

    from tinygrad_edu.errors import GraphError

    spec = importlib.util.spec_from_file_location("example_draw_graph", EXAMPLES / "draw_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "article_graph.svg").write_text("an earlier drawing")
    drawn, real_draw = [], module.draw

    def fails_on_the_tensor_graph(root, *args, **kwargs):
        drawn.append(root)
        if len(drawn) == 2:
            raise GraphError("draw: the graph was released by backward")
        return real_draw(root, *args, **kwargs)

    monkeypatch.setattr(module, "draw", fails_on_the_tensor_graph)
    monkeypatch.setattr(sys, "argv", ["draw_graph.py", str(tmp_path)])
    with pytest.raises(GraphError):
        module.main()
    assert (tmp_path / "article_graph.svg").read_text() == "an earlier drawing"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["article_graph.svg"]
