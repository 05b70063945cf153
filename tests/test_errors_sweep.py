"""The README promises that every error tinygrad_edu raises derives from `TinygradEduError`. This walks
the package's source and fails on any `raise ValueError/TypeError/RuntimeError` of the builtin itself,
so the promise stays true as code is added."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import TinygradEduError, gradcheck, nn, optim
from tinygrad_edu.rng import as_generator
from tinygrad_edu.train import checkpoint, fit, summary
from tinygrad_edu.train import datasets as ds
from tinygrad_edu.viz import draw, render

PACKAGE = Path(__file__).parents[1] / "tinygrad_edu"
BUILTINS = {"ValueError", "TypeError", "RuntimeError"}

# Files still being swept by the engineers who own them (empty when every file is clean).
NOT_YET_SWEPT: set[str] = set()


def builtin_raises(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    """`file:line ValueError` for each raise of a bare builtin (called or not) in `path`.

    A raise inside a `try` whose own handler catches that builtin is control flow that never
    reaches the user (`try: ... raise TypeError ... except TypeError: raise UserFileError(...)`).
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    caught_here: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try):
            names = set()
            for handler in node.handlers:
                kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                names |= {k.id for k in kinds if isinstance(k, ast.Name)}
            for statement in node.body:
                for inner in ast.walk(statement):
                    if isinstance(inner, ast.Raise) and _raised_name(inner) in names:
                        caught_here.add(id(inner))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and _raised_name(node) in BUILTINS and id(node) not in caught_here:
            found.append(f"{path.relative_to(root)}:{node.lineno} {_raised_name(node)}")
    return sorted(found, key=lambda hit: int(hit.split(":")[1].split()[0]))


def _raised_name(node: ast.Raise) -> str | None:
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return exc.id if isinstance(exc, ast.Name) else None


def test_the_walker_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from .errors import ShapeError\n"
        "def f(x):\n    if x:\n        raise ValueError('no')\n    if x > 1:\n        raise ShapeError('ok')\n"
        "    raise TypeError\n"
        "def g(x):\n    try:\n        raise TypeError\n    except (TypeError, ValueError):\n"
        "        raise ShapeError('the real one')\n"
    )
    assert builtin_raises(sample, tmp_path) == ["sample.py:4 ValueError", "sample.py:7 TypeError"]


def test_no_bare_builtin_errors_are_raised():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20
    found = [
        hit
        for path in files
        if str(path.relative_to(PACKAGE.parent)) not in NOT_YET_SWEPT
        for hit in builtin_raises(path)
    ]
    assert found == [], "raise a tinygrad_edu.errors class (TinygradEduError + the builtin) instead:\n" + "\n".join(
        found
    )


def fit_once(epochs):
    model = nn.Linear(2, 1, generator=0)
    return fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), np.ones((4, 2)), np.ones((4, 1)), epochs)


@pytest.mark.parametrize(
    ("call", "builtin"),
    [
        (lambda: ds.one_hot(np.array([0, 5]), 3), ValueError),
        (lambda: ds.one_hot(np.zeros((2, 2), dtype=int), 3), ValueError),
        (lambda: ds.make_moons(1), ValueError),
        (lambda: as_generator(-1), ValueError),  # NumPy's raw "expected non-negative integer" before
        (lambda: as_generator("seed"), TypeError),
        (lambda: gradcheck(lambda: None, []), ValueError),
        (lambda: draw(3.0), TypeError),
        (lambda: render(nn.Linear(1, 1).weight.sum(), "x.svg", timeout=float("nan")), ValueError),
        # these leaked Python's own TypeError from deep inside (`'<' not supported`, `cannot be interpreted`)
        (lambda: ds.make_moons("a"), TypeError),
        (lambda: ds.make_moons(10.5), TypeError),
        (lambda: ds.one_hot(np.array([0.5, 1.0]), 3), ValueError),  # was a ShapeError: the shape was fine
        (lambda: fit_once(epochs=1.5), TypeError),
        (lambda: summary(nn.Linear(2, 1), "x", print_fn=None), TypeError),
        (lambda: checkpoint.save(42, "unused.npz"), TypeError),
        (lambda: draw(nn.Linear(1, 1).weight.sum(), highlight="x"), TypeError),
    ],
    ids=[
        "one_hot-range",
        "one_hot-shape",
        "moons",
        "negative-seed",
        "seed-type",
        "gradcheck",
        "draw",
        "nan-timeout",
        "moons-str",
        "moons-float",
        "one_hot-float",
        "fit-epochs-float",
        "summary-str",
        "save-non-model",
        "draw-highlight-str",
    ],
)
def test_swept_errors_keep_their_builtin_and_gain_the_base(call, builtin):
    with pytest.raises(TinygradEduError) as info:
        call()
    assert isinstance(info.value, builtin)
