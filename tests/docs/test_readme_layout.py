"""The README's layout table names every folder and module of the package, and nothing that is gone.

A row names paths in its first cell (`tinygrad_edu/files.py`, `rng.py`: the later ones beside the first);
a folder's row (`tinygrad_edu/train/`) names the modules inside it in its second cell (`loop.py`, ...).
"""

import re

from locations import ROOT

PACKAGE = ROOT / "tinygrad_edu"
TICKED = re.compile(r"`([^`]+)`")


def layout_rows() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip().strip("|").split(" | ", 1) for line in section.splitlines() if line.startswith("| `")]
    return [(paths, what) for paths, what in rows]


def listed_paths() -> set[str]:
    listed = set()
    for paths, what in layout_rows():
        first, *others = TICKED.findall(paths)
        base = first if first.endswith("/") else first.rsplit("/", 1)[0] + "/"
        listed.add(first)
        listed.update(base + name for name in others)
        if first.endswith("/"):  # a folder's row: its modules are named in the second cell
            listed.update(first + name for name in TICKED.findall(what) if name.endswith(".py"))
    return listed


def package_paths() -> set[str]:
    paths = set()
    for path in PACKAGE.rglob("*"):
        if "__pycache__" in path.parts:
            continue
        relative = path.relative_to(ROOT).as_posix()
        if path.is_dir():
            paths.add(relative + "/")
        elif path.suffix == ".py" and path.name != "__init__.py":  # a package is its folder's row
            paths.add(relative)
    return paths


def test_every_package_folder_and_module_is_in_the_layout_table():
    missing = sorted(package_paths() - listed_paths())
    assert missing == [], f"add these to the README's layout table: {missing}"


def test_the_layout_table_names_nothing_that_is_gone():
    gone = sorted(p for p in listed_paths() if not (ROOT / p).exists())
    assert gone == [], f"the README's layout table names paths that do not exist: {gone}"


def test_the_parser_sees_rows_and_folders():
    listed = listed_paths()  # so that an unreadable table cannot pass the two tests above by listing nothing
    assert {
        "tinygrad_edu/value.py",
        "tinygrad_edu/rng.py",
        "tinygrad_edu/train/",
        "tinygrad_edu/train/loop.py",
    } <= listed
    assert "tinygrad_edu/viz/page/" in package_paths() and "tinygrad_edu/check/reference.py" in package_paths()
