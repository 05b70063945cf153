"""No import cycles anywhere in tinygrad_edu: imports flow one way (engine <- nn <- train, viz, check <- commands).

The graph is read from the source with `ast`, every `import` counted, also those inside functions (a
late import hides a cycle from Python, not from a reader). test_layering.py checks the direction between
rooms; this file checks that no modules, in one room or across rooms, import each other in a loop.
`from . import x` is an edge to the module `x` when there is one, else to the package; a module does not
depend on its parent packages just by living in them (so this reader keeps its own resolution rather than
test_layering's, which also yields the package). A strongly connected component of more than one module
is a cycle, and the failure names its modules and one loop through them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from locations import ROOT as REPOSITORY

PACKAGE = "tinygrad_edu"
ROOT = REPOSITORY / PACKAGE


def module_files(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under the package (a package is its __init__.py)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of `from <level dots><name> import ...` written in `module`."""
    if level == 0:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def import_graph(root: Path = ROOT, package: str = PACKAGE) -> dict[str, set[str]]:
    """module -> the package's modules it imports (anywhere in its body)."""
    files = module_files(root, package)
    graph: dict[str, set[str]] = {name: set() for name in files}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(module, is_package, node.level, node.module)
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    targets.append(submodule if submodule in files else source)
            for target in targets:
                while target and target not in files:  # `import a.b.c` of a name below a module: its module
                    target = target.rpartition(".")[0]
                if target and target != module:
                    graph[module].add(target)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components, iteratively (no recursion), each sorted; only those of more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def a_loop(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One closed path through a component, e.g. [a, b, c, a], found by breadth-first search."""
    members = set(component)
    start = component[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"{component} is not a cycle")  # a component of >1 nodes always has one


def describe(graph: dict[str, set[str]]) -> str:
    return "\n".join(" -> ".join(a_loop(graph, c)) for c in strongly_connected(graph))


# Cycles that exist and are being removed elsewhere, each with where it goes away. The test fails on any
# other cycle, and also once a listed one is gone, so that its entry is deleted with it: when this set is
# empty the test says what it is named for.
KNOWN_CYCLES: set[str] = set()  # none; a cycle someone cannot break yet would be named here, with why


def test_tinygrad_edu_has_no_import_cycle() -> None:
    graph = import_graph()
    assert graph.get("tinygrad_edu.nn.functional"), "the graph is empty"
    cycles = set(describe(graph).splitlines())
    new = "\n".join(sorted(cycles - KNOWN_CYCLES))
    assert not new, f"import cycles (each line one loop; break it by moving what both sides need down):\n{new}"
    gone = "\n".join(sorted(KNOWN_CYCLES - cycles))
    assert not gone, f"these cycles are gone: delete them from KNOWN_CYCLES in {Path(__file__).name}:\n{gone}"


# ---------------------------------------------------------------------- between folders


def folder_graph(graph: dict[str, set[str]], package: str = PACKAGE, root: Path = ROOT) -> dict[str, set[str]]:
    """folder -> the other folders its modules import. A folder is a subpackage (`viz`, `check`, ...);
    the top-level modules are the `engine`, but for the package's face (`__init__`, `cli`, `__main__`),
    which imports every folder to hand them out."""
    subpackages = {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()}

    def folder(module: str) -> str:
        parts = module.split(".")
        if module in (package, f"{package}.cli", f"{package}.__main__"):
            return "face"
        return parts[1] if parts[1] in subpackages else "engine"

    folders: dict[str, set[str]] = {}
    for module, targets in graph.items():
        edges = folders.setdefault(folder(module), set())
        edges.update(folder(t) for t in targets if folder(t) != folder(module))
    return folders


def test_no_two_folders_import_each_other() -> None:
    """Between folders too, imports flow one way (engine <- nn <- train, viz, check <- commands <- face):
    a loop of folders is a loop of ideas, even when no two modules in it form one."""
    folders = folder_graph(import_graph())
    assert {"engine", "nn", "viz", "check"} <= set(folders), "the folder graph is missing folders"
    loops = describe(folders)
    assert not loops, f"folders importing each other in a loop (each line one loop):\n{loops}"


def test_the_folder_check_finds_two_folders_in_a_loop(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "pkg/__init__.py": "from . import viz, check\n",
            "pkg/graph.py": "x = 1\n",
            "pkg/viz/__init__.py": "",
            "pkg/viz/trace.py": "from ..graph import x\ndef f():\n    from ..check.explain import e\n",
            "pkg/check/__init__.py": "",
            "pkg/check/explain.py": "e = 1\n",
            "pkg/check/compare.py": "from ..viz import trace\n",
        },
    )
    graph = import_graph(root, "pkg")
    assert strongly_connected(graph) == []  # no loop of modules ...
    folders = folder_graph(graph, "pkg", root)
    assert folders["face"] == {"viz", "check"} and folders["viz"] == {"engine", "check"}
    assert describe(folders) == "check -> viz -> check"  # ... but a loop of folders


# ---------------------------------------------------------------------- the checker itself


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_the_checker_finds_a_loop_through_a_late_relative_import(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "pkg/__init__.py": "from . import a\n",
            "pkg/a.py": "from .sub import b\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/b.py": "def f():\n    from ..c import thing\n",
            "pkg/c.py": "import pkg.a\nthing = 1\n",
            "pkg/d.py": "from .c import thing\n",  # depends on the loop but is not part of it
        },
    )
    graph = import_graph(root, "pkg")
    assert graph["pkg.sub.b"] == {"pkg.c"}
    assert graph["pkg"] == {"pkg.a"}
    assert strongly_connected(graph) == [["pkg.a", "pkg.c", "pkg.sub.b"]]
    assert describe(graph) == "pkg.a -> pkg.sub.b -> pkg.c -> pkg.a"


def test_the_checker_passes_a_graph_that_flows_one_way(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "pkg/__init__.py": "from .top import run\n",
            "pkg/top.py": "from . import low\nfrom .low import x\nimport os\n",
            "pkg/low.py": "x = 1\n",
        },
    )
    graph = import_graph(root, "pkg")
    assert graph == {"pkg": {"pkg.top"}, "pkg.top": {"pkg.low"}, "pkg.low": set()}
    assert strongly_connected(graph) == []


@pytest.mark.parametrize(
    ("module", "is_package", "level", "name", "expected"),
    [
        ("pkg.nn.functional", False, 1, "lists", "pkg.nn.lists"),
        ("pkg.nn.functional", False, 2, "tensor", "pkg.tensor"),
        ("pkg.nn", True, 1, "layers", "pkg.nn.layers"),
        ("pkg.nn", True, 2, None, "pkg"),
        ("pkg.nn.functional", False, 0, "numpy", "numpy"),
    ],
)
def test_relative_imports_resolve_like_python(
    module: str, is_package: bool, level: int, name: str, expected: str
) -> None:
    assert _resolve(module, is_package, level, name) == expected
