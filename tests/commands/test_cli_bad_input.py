"""Bad input on the command line: exit status 2, one `error:` line on stderr, and no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tinygrad_edu.cli import main

CLI_CASES = [
    ["train", "--epochs", "-1"],
    ["train", "--lr", "nan"],
    ["train", "--batch-size", "0"],
    ["train", "--dataset", "nope"],
    ["train", "--epochs", "1", "--no-progress", "--save", "/nonexistent/x.npz"],
    ["check", "/nonexistent/solution.py"],
    ["graph", "--format", "dot", "-o", "/nonexistent/g.dot"],
    ["article", "--engine", "gpu"],
    ["nope"],
]


@pytest.mark.parametrize("argv", CLI_CASES, ids=[" ".join(a) for a in CLI_CASES])
def test_cli_bad_input_exits_2_with_one_error_line(argv, capsys):
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's own errors: usage, then one error line
        status = exit_.code
    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines and "error:" in lines[-1]
    assert sum("error:" in line for line in lines) == 1


def test_cli_subprocess_exits_2_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu", "check", str(tmp_path / "missing.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "missing.py" in result.stderr


def test_cli_check_with_a_broken_solution_file_exits_2(tmp_path, capsys):
    """The file forgets `import numpy as np`: refused (2), naming the error and its line, not graded (1)."""
    path = tmp_path / "solution.py"
    path.write_text("def gradients(state, inputs, targets):\n    return {'0.weight': np.zeros((5, 5))}\n")
    status = main(["check", str(path)])
    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in err
    assert f"{path}, line 2: NameError" in err and "'np' is not defined" in err
