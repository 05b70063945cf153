"""Budgets that keep the engine readable in an evening: lines per engine module, and complexity per function.

Lines, as teenygrad keeps a line budget: each top-level module of the package (the engine and what sits
beside it) has a budget in `LINE_BUDGETS`, the one place they are written; the test prints every module's
count and fails above its budget, or for a module that has none. They started from the sizes after the
split of tensor.py (rounded up to the next ten; tensor.py at the 600 its issue set). Raising one is a
conscious commit, in this file.

Complexity, as radon measures it (cyclomatic complexity: one plus the branches of a function): no function
in the engine's top-level modules above `ENGINE_MAX`, none in the whole package above `PACKAGE_MAX`; the
exceptions are named in `EXEMPT`, each with why.
"""

from __future__ import annotations

import pytest
from locations import ROOT

PACKAGE = ROOT / "tinygrad_edu"
FACE = {"__init__.py", "__main__.py", "cli.py"}  # the package's face: imports and the command line, not the engine

LINE_BUDGETS = {
    "anomaly.py": 110,  # + check_tensor_backward, the tensor loop's anomaly call (issue 29)
    "article_names.py": 200,
    "autograd.py": 120,
    "copying.py": 40,
    "promotion.py": 140,  # PyTorch's type promotion, in one place (issue 24), with when a binary op must cast,
    # the ops that do not promote (matmul, linear) and the float ops of integer tensors
    "errors.py": 140,  # + ParameterNameError (24), the errors of issues 22, 25 and 28, compile's two signals
    "explain.py": 310,
    "files.py": 210,  # + where a write lands: links followed, FIFOs and devices written in place (issue 24)
    "formulas.py": 140,
    "fused.py": 90,  # + what the compile issue (22) added
    "gradcheck.py": 190,
    "graph.py": 300,  # + copies and pickles of the mode switches (issue 24)
    "number_checks.py": 35,  # the one door of the checks on numbers, which a compiled step replays (issue 22)
    "ops.py": 550,
    "optim.py": 300,
    "retention.py": 30,
    "quiet.py": 75,  # np.errstate(all="ignore") at a third of its cost (issue 29's speed), hush() for compile (22)
    "rng.py": 35,  # + while_tracing, compile's hook for its refusal of random draws (issue 22)
    "sweep.py": 90,
    "symbolic.py": 280,
    "tensor.py": 600,  # issue 23's bar; functions that are not methods live in tensor_functions.py
    "tensor_functions.py": 70,  # + _cast, array_arguments: targets and a compiled step's arrays cast as eager does (22)
    "tensor_backward.py": 170,  # issue 29: with Tensor.backward, at most 150 non-blank lines (see below)
    "tensor_checks.py": 380,  # + a Value inside a list, np.array of a tensor that requires grad (issue 24)
    "value.py": 420,  # + is_leaf, detach and copy/deepcopy/pickle of nodes (issue 24); + each derivative
    # written once, for the op method and its @rule (issue 22); + `constant` of graph.Node's protocol (22)
    "value_checks.py": 100,  # + log, exp and pow with their checks, which a compiled step replays too (issue 22)
    "versions.py": 95,  # + note_writes, which a compiled step calls with its counters (issue 22)
}

ENGINE_MAX = 20
PACKAGE_MAX = 40
EXEMPT: dict[str, str] = {}


def engine_modules() -> list[str]:
    return sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in FACE)


def test_every_engine_module_is_within_its_line_budget():
    counts = {name: len((PACKAGE / name).read_text(encoding="utf-8").splitlines()) for name in engine_modules()}
    for name, count in counts.items():  # shown with -s: where each module stands against its budget
        print(f"{name:22} {count:5} / {LINE_BUDGETS.get(name, '-')}")
    unbudgeted = sorted(set(counts) - set(LINE_BUDGETS))
    assert not unbudgeted, f"give these modules a line budget in {__name__}.LINE_BUDGETS: {unbudgeted}"
    over = {name: f"{count} > {LINE_BUDGETS[name]}" for name, count in counts.items() if count > LINE_BUDGETS[name]}
    assert not over, f"over their line budget (split the module, or raise the budget on purpose): {over}"
    gone = sorted(set(LINE_BUDGETS) - set(counts))
    assert not gone, f"these modules are gone: delete their budgets from LINE_BUDGETS: {gone}"


def _complexities() -> list[tuple[str, str, int]]:
    """(file relative to the package, function name, complexity) for every function and method."""
    complexity = pytest.importorskip("radon.complexity")
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        blocks = complexity.cc_visit(path.read_text(encoding="utf-8"))
        for block in blocks:
            for item in [block, *getattr(block, "methods", []), *getattr(block, "closures", [])]:
                if item is block and hasattr(block, "methods"):
                    continue  # a class: its methods are counted one by one
                found.append((path.relative_to(PACKAGE).as_posix(), item.name, item.complexity))
    return found


def _over(limit: int, top_level_only: bool) -> list[str]:
    return [
        f"{path}:{name} ({value})"
        for path, name, value in _complexities()
        if value > limit and f"{path}:{name}" not in EXEMPT and ("/" not in path or not top_level_only)
    ]


def test_no_engine_function_is_more_complex_than_the_engine_budget():
    over = _over(ENGINE_MAX, top_level_only=True)
    assert not over, f"split these engine functions into named steps (radon cc above {ENGINE_MAX}): {over}"


def test_no_function_in_the_package_is_more_complex_than_the_package_budget():
    over = _over(PACKAGE_MAX, top_level_only=False)
    assert not over, f"split these functions into named steps (radon cc above {PACKAGE_MAX}): {over}"


def test_the_exemptions_are_still_needed():
    """An exemption whose function got simpler, or is gone, is deleted, so the budget covers it again."""
    measured = {f"{path}:{name}": value for path, name, value in _complexities()}
    stale = [key for key in EXEMPT if measured.get(key, 0) <= (PACKAGE_MAX if "/" in key else ENGINE_MAX)]
    assert not stale, f"delete these from EXEMPT in {__name__}: {stale}"


def test_the_complexity_reader_sees_a_planted_branchy_function(tmp_path):
    """The check itself can fail: radon scores a function of 25 branches above the engine budget."""
    complexity = pytest.importorskip("radon.complexity")
    body = "".join(f"    if x == {k}:\n        return {k}\n" for k in range(25))
    (block,) = complexity.cc_visit(f"def branchy(x):\n{body}    return -1\n")
    assert block.name == "branchy" and block.complexity == 26 > ENGINE_MAX


# ---------------------------------------------------------------------- what a reader of Tensor.backward reads

READER_BUDGET = 150  # issue 29: Tensor.backward understood from at most ~150 lines in at most 2 files


def _method_lines(path, cls: str, name: str) -> list[str]:
    """The source lines of `cls.name` in `path`, from `def` to its last line (docstring included)."""
    import ast

    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    klass = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    method = next(n for n in klass.body if isinstance(n, ast.FunctionDef) and n.name == name)
    return text.splitlines()[method.lineno - 1 : method.end_lineno]


def reader_path() -> dict[str, int]:
    """Non-blank lines (code, docstrings and comments: all of it is read) a reader goes through to understand
    `Tensor.backward`: the method in tensor.py, then the whole of tensor_backward.py (its loop, `Totals.add`,
    release, the version-check and anomaly calls, `grad()`'s bookkeeping and the module's imports)."""
    method = _method_lines(PACKAGE / "tensor.py", "Tensor", "backward")
    module = (PACKAGE / "tensor_backward.py").read_text(encoding="utf-8").splitlines()
    return {
        "tensor.py:Tensor.backward": sum(1 for line in method if line.strip()),
        "tensor_backward.py": sum(1 for line in module if line.strip()),
    }


def test_tensor_backward_reads_in_at_most_150_lines_over_two_files():
    counts = reader_path()
    print(counts, sum(counts.values()))  # shown with -s: the count the docs and the issue quote
    assert counts["tensor.py:Tensor.backward"] > 5 and counts["tensor_backward.py"] > 50  # the counter reads code
    assert sum(counts.values()) <= READER_BUDGET, f"{counts}: {sum(counts.values())} > {READER_BUDGET} lines"
    # Tensor.backward hands over to tensor_backward.backprop and nothing else of the engine's third files.
    body = "\n".join(_method_lines(PACKAGE / "tensor.py", "Tensor", "backward"))
    assert "backprop(" in body and "seed(" in body and "keeps_graph(" in body


def test_the_backward_loop_calls_release_version_check_and_anomaly_by_name():
    """Each concern of the loop behind one named call (issue 29), and the loop under the engine's complexity."""
    import ast

    text = (PACKAGE / "tensor_backward.py").read_text(encoding="utf-8")
    loop = next(n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == "backprop")
    called = {n.func.id for n in ast.walk(loop) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert {"release", "check_versions", "check_tensor_backward"} <= called
    assert not any(isinstance(n, ast.Assign) and "_parents" in ast.unparse(n.targets[0]) for n in ast.walk(loop))
