"""Imports flow one way: engine <- nn <- train, viz, check <- commands.

Read from the source with `ast`, every import (also those inside functions, which run only
sometimes and so slip past an import-time check), resolved to an absolute module name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from locations import ROOT

PACKAGE = ROOT / "tinygrad_edu"
ENGINE = ("value", "tensor", "ops", "graph", "autograd", "anomaly", "retention", "errors", "rng")
ENGINE += ("formulas", "fused", "sweep", "value_checks")  # what the engine rewrite split out of value.py and ops.py
ENGINE += ("symbolic",)  # the ops' rules written as text, which check and viz both read

# (which files, the module prefixes they must not import)
RULES = [
    ("the engine", [PACKAGE / f"{name}.py" for name in ENGINE], ("viz", "nn", "train", "check", "commands")),
    ("nn", sorted((PACKAGE / "nn").rglob("*.py")), ("viz", "train", "check", "commands")),
    ("torch_bridge", sorted((PACKAGE / "torch_bridge").rglob("*.py")), ("viz", "train", "commands")),
    ("viz", sorted((PACKAGE / "viz").rglob("*.py")), ("commands",)),
    ("check", sorted((PACKAGE / "check").rglob("*.py")), ("commands",)),
]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file; `from X import y` also yields `X.y`."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.append((node.lineno, source))
            found += [(node.lineno, f"{source}.{alias.name}") for alias in node.names]
    return sorted(found)


def offending(path: Path, banned: tuple[str, ...], root: Path = PACKAGE) -> list[str]:
    prefixes = [f"tinygrad_edu.{b}" for b in banned]
    return [
        f"{path.relative_to(root.parent).as_posix()}:{line} imports {target}"
        for line, target in imports(path, root)
        if any(target == p or target.startswith(p + ".") for p in prefixes)
    ]


@pytest.mark.parametrize(("room", "files", "banned"), RULES, ids=[rule[0] for rule in RULES])
def test_imports_flow_one_way(room, files, banned):
    files = [f for f in files if f.exists()]
    assert files, f"no files found for {room}"
    bad = [line for path in files for line in offending(path, banned)]
    assert not bad, f"{room} must not import {', '.join(banned)}:\n" + "\n".join(bad)


def test_the_reader_resolves_relative_and_function_level_imports(tmp_path):
    """The check itself can fail: a planted import of each form is found and named."""
    fake = tmp_path / "tinygrad_edu"
    (fake / "nn").mkdir(parents=True)
    planted = fake / "nn" / "layers.py"
    planted.write_text(
        "from ..viz import draw\n"
        "from .. import commands\n"
        "import tinygrad_edu.train.fit\n"
        "def later():\n"
        "    from ..check.article import build\n"
        "from . import module\n",
        encoding="utf-8",
    )
    bad = offending(planted, ("viz", "train", "check", "commands"), root=fake)
    assert bad == [
        "tinygrad_edu/nn/layers.py:1 imports tinygrad_edu.viz",
        "tinygrad_edu/nn/layers.py:1 imports tinygrad_edu.viz.draw",
        "tinygrad_edu/nn/layers.py:2 imports tinygrad_edu.commands",
        "tinygrad_edu/nn/layers.py:3 imports tinygrad_edu.train.fit",
        "tinygrad_edu/nn/layers.py:5 imports tinygrad_edu.check.article",
        "tinygrad_edu/nn/layers.py:5 imports tinygrad_edu.check.article.build",
    ]
