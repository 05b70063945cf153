"""Input validation sweep: bad inputs to public functions and CLI commands get clear errors.

Each row of the table is a call with a bad input, the exception types it may raise (the package's
own types, or the builtin a Python user expects, such as IndexError for an index out of range), and
a pattern the message must match: it has to name the function or what to fix, not just repeat
NumPy. The CLI rows check exit status 2, a message on stderr ending in one `error:` line, and no
traceback. Rows that once failed (bugs this sweep found, since fixed) stay as regressions.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import (
    DTypeError,
    GraphError,
    MathDomainError,
    MixedEngineError,
    ShapeError,
    Tensor,
    TinygradEduError,
    Value,
    nn,
    optim,
)
from tinygrad_edu.cli import main
from tinygrad_edu.train.checkpoint import CheckpointError, load, save
from tinygrad_edu.train.datasets import make_moons, one_hot


def ones(*shape):
    return Tensor(np.ones(shape))


def grad_ones(*shape):
    return Tensor(np.ones(shape), requires_grad=True)


CASES = [
    # (id, call, exception types, message pattern)
    ("Tensor int requires_grad", lambda: Tensor(np.array([1, 2]), requires_grad=True), DTypeError, "floating"),
    pytest.param("Tensor(str)", lambda: Tensor("abc"), DTypeError, "Tensor"),
    pytest.param("Tensor(dict)", lambda: Tensor({"a": 1}), DTypeError, "Tensor"),
    pytest.param("Tensor(ragged)", lambda: Tensor([[1, 2], [3]]), DTypeError, "Tensor"),
    ("Tensor + str", lambda: ones(2) + "a", TypeError, "Tensor \\+ str"),
    ("Tensor + Value", lambda: ones(2) + Value(1.0), MixedEngineError, "do not mix"),
    ("matmul inner mismatch", lambda: ones(2, 3) @ ones(2, 3), ShapeError, r"\(2, 3\) and \(2, 3\)"),
    ("matmul 0-d", lambda: tg.matmul(Tensor(1.0), ones(2)), ShapeError, "at least one axis"),
    ("broadcast mismatch", lambda: ones(2, 3) + ones(4), ShapeError, r"\(2, 3\) and \(4,\)"),
    pytest.param("reshape size", lambda: ones(6).reshape(4, 2), ShapeError, "^(?!.*broadcast)"),
    pytest.param("permute repeat", lambda: ones(2, 3).permute(0, 0), ShapeError, "^(?!.*broadcast)"),
    pytest.param("sum axis", lambda: ones(2, 3).sum(axis=5), ShapeError, "^(?!.*broadcast)"),
    pytest.param("softmax axis", lambda: ones(2, 3).softmax(axis=3), ShapeError, "^(?!.*broadcast)"),
    pytest.param("concatenate", lambda: tg.concatenate([ones(2, 3), ones(2, 4)]), ShapeError, "^(?!.*broadcast)"),
    ("index out of range", lambda: ones(3)[5], IndexError, "out of bounds"),
    ("max of empty", lambda: ones(0).max(), ShapeError, "empty"),
    ("backward non-scalar", lambda: (grad_ones(3) * 2).backward(), GraphError, "sum"),
    ("backward without grad", lambda: ones(1).backward(), GraphError, "requires_grad"),
    ("backward gradient shape", lambda: (grad_ones(3) * 2).backward(np.ones(2)), ShapeError, r"\(2,\).*\(3,\)"),
    ("linear shapes", lambda: tg.linear(ones(2, 3), ones(4, 2)), ShapeError, "in_features"),
    ("cross_entropy float target", lambda: tg.cross_entropy(ones(2, 3), np.array([0.0, 1.0])), DTypeError, "integer"),
    ("cross_entropy class range", lambda: tg.cross_entropy(ones(2, 3), np.array([0, 3])), MathDomainError, "0, 3"),
    ("cross_entropy batch", lambda: tg.cross_entropy(ones(2, 3), np.array([0, 1, 2])), ShapeError, "target"),
    ("concatenate nothing", lambda: tg.concatenate([]), ValueError, "at least one"),
    ("stack shapes", lambda: tg.stack([ones(2), ones(3)]), ShapeError, "same shape"),
    ("clip without bounds", lambda: ones(2).clip(), ValueError, "min, max"),
    pytest.param("Value(str)", lambda: Value("x"), TypeError, "Value"),
    pytest.param("Value(None)", lambda: Value(None), TypeError, "Value"),
    pytest.param("Value(list)", lambda: Value([1.0]), TypeError, "Value"),
    ("Value(Tensor)", lambda: Value(ones(1)), MixedEngineError, "item"),
    ("Value + str", lambda: Value(1.0) + "a", TypeError, "Value \\+ str"),
    ("Value log 0", lambda: Value(0.0).log(), MathDomainError, "positive"),
    ("Value / 0", lambda: Value(1.0) / 0, ZeroDivisionError, "Value / 0"),
    ("Value negative ** 0.5", lambda: Value(-1.0) ** 0.5, MathDomainError, "negative base"),
    ("weighted_sum lengths", lambda: tg.weighted_sum([Value(1.0)], [1.0, 2.0]), ShapeError, "one weight per input"),
    ("Linear engine", lambda: nn.Linear(2, 3, engine="gpu"), ValueError, "'tensor' or 'value'"),
    ("Linear zero features", lambda: nn.Linear(0, 3), ValueError, "positive int"),
    ("Linear float features", lambda: nn.Linear(2.5, 3), ValueError, "positive int"),
    ("Linear wrong input", lambda: nn.Linear(2, 3)(ones(4, 5)), ShapeError, "in_features"),
    ("Linear value wrong input", lambda: nn.Linear(2, 3, engine="value")([1.0, 2.0, 3.0]), ShapeError, "expected 2"),
    (
        "Sequential mixed engines",
        lambda: nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1, engine="value"))(ones(1, 2)),
        MixedEngineError,
        "engine",
    ),
    ("MSELoss shapes", lambda: nn.MSELoss()(ones(2, 3), ones(2, 4)), ShapeError, "target"),
    ("MSELoss reduction", lambda: nn.MSELoss(reduction="avg"), ValueError, "reduction"),
    ("SGD negative lr", lambda: optim.SGD(nn.Linear(2, 3).parameters(), lr=-1.0), ValueError, "lr"),
    ("SGD no parameters", lambda: optim.SGD([], lr=0.1), ValueError, "empty"),
    ("SGD ndarray parameter", lambda: optim.SGD([np.ones(3)], lr=0.1), TypeError, "model.parameters"),
    pytest.param(
        "SGD nan lr",
        lambda: optim.SGD(nn.Linear(2, 3).parameters(), lr=float("nan")),
        ValueError,
        "lr",
    ),
    pytest.param(
        "SGD str lr",
        lambda: optim.SGD(nn.Linear(2, 3).parameters(), lr="0.1"),
        TypeError,
        "SGD",
    ),
    ("Adam betas", lambda: optim.Adam(nn.Linear(2, 3).parameters(), betas=(1.5, 0.9)), ValueError, "betas"),
    ("one_hot negative", lambda: one_hot(np.array([-1, 2])), ValueError, "one_hot"),
    ("one_hot floats", lambda: one_hot(np.array([0.5, 2])), ValueError, "integer"),
    ("make_moons zero samples", lambda: make_moons(0), ValueError, "n_samples"),
    pytest.param(
        "make_moons negative noise",
        lambda: make_moons(10, noise=-1),
        ValueError,
        "make_moons",
    ),
    ("load_state_dict missing keys", lambda: nn.Linear(2, 3).load_state_dict({}), TinygradEduError, "missing"),
    ("load missing file", lambda: load(nn.Linear(2, 3), "/nonexistent/model.npz"), FileNotFoundError, "model.npz"),
    ("load a folder", lambda: load(nn.Linear(2, 3), "/"), CheckpointError, "not a readable checkpoint"),
    pytest.param(
        "save into a missing folder",
        lambda: save(nn.Linear(2, 3), "/nonexistent/model.npz"),
        FileNotFoundError,
        r"^(?!.*\.tmp)",
    ),
]


@pytest.mark.parametrize(
    ("name", "call", "errors", "pattern"), CASES, ids=[c.values[0] if hasattr(c, "values") else c[0] for c in CASES]
)
def test_bad_input_gets_a_clear_error(name, call, errors, pattern):
    with pytest.raises(errors, match=pattern):
        call()


def test_load_state_dict_with_integer_arrays_keeps_float_parameters():
    """Integer arrays are a documented result: they are cast to the parameter's float dtype."""
    layer = nn.Linear(2, 3)
    layer.load_state_dict({"weight": np.arange(6).reshape(3, 2), "bias": np.array([1, 2, 3])})
    assert layer.weight.data.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.data, np.arange(6).reshape(3, 2))


# ---------------------------------------------------------------------- the command line

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
    path = tmp_path / "solution.py"
    path.write_text("def gradients(state, inputs, targets):\n    return {'0.weight': np.zeros((5, 5))}\n")
    status = main(["check", str(path)])
    err = capsys.readouterr().err
    assert status in (1, 2)  # 1: the check ran and reported the solution wrong; 2: refused
    assert "Traceback" not in err
