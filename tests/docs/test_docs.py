"""Every ```python block of every docs page runs, so no example in the docs can rot.

Rules (also written at the top of docs/index.md's source for authors):
* The blocks of one page run in order, in one fresh namespace per page, in a temporary directory
  (so a block that writes `graph.svg` leaves nothing behind).
* A ```text block with `title="Output"` right after a python block is that block's expected stdout:
  the test compares them line by line (trailing spaces ignored, and round-off noise below 1e-12 written in
  scientific notation read as zero). Printed numbers are therefore checked.
* A block preceded by the HTML comment `<!-- docs-test: skip (why) -->` is skipped; the reason is
  required, and the test fails on a skip without one.
* A page that imports an optional package (PyTorch, micrograd, matplotlib, ...) is skipped from that
  block on when the package is missing; CI installs them all (the `dev` extra).
* Pages that `scripts/gen_docs.py` writes must equal what it would write now.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import shutil
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import EXTRAS  # the one wording of a skip for a missing extra
from locations import ROOT

DOCS = ROOT / "docs"
# Packages a page may use that are not dependencies of tinygrad_edu: without them the page is skipped.
OPTIONAL = {"torch", "micrograd", "matplotlib", "sklearn", "tqdm"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,})(?P<info>[^`\n]*)$")
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\b(?P<why>[^>]*)-->")


@dataclass
class Block:
    lang: str
    info: str
    code: str
    line: int
    skip: str | None  # None: run it; otherwise the reason it is skipped
    output: str | None = None  # the expected stdout, from a following `title="Output"` block


def parse_blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown page, with their expected output attached."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    previous_code_end = -1
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m["info"].strip():
            i += 1
            continue
        indent, fence, info = m["indent"], m["fence"], m["info"].strip()
        lang = info.split()[0].lstrip("{.").rstrip("}")
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        before = "\n".join(lines[max(0, start - 2) : start])
        skip = SKIP.search(before)
        block = Block(lang, info, "\n".join(body) + "\n", start + 1, skip["why"].strip() if skip else None)
        between = lines[previous_code_end + 1 : start]
        if (
            lang == "text"
            and 'title="Output"' in info
            and blocks
            and blocks[-1].lang == "python"
            and all(not s.strip() for s in between)
        ):
            blocks[-1].output = block.code
        else:
            blocks.append(block)
        previous_code_end = i
        i += 1
    return blocks


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "generated" not in p.parts)


# Round-off noise: a number in scientific notation below 1e-12 (or a zero written that way) prints differently
# when an engine reorders a sum, so an Output block compares it as "≈0".
_ROUNDOFF = re.compile(r"[-+]?\d(?:\.\d+)?e(?:-(?:1[3-9]|[2-9]\d|\d{3})|[-+]0+)\b|\b0(?:\.0+)?e[-+]\d+\b")


def _normalise(text: str) -> str:
    lines = (_ROUNDOFF.sub("≈0", line).rstrip() for line in text.strip("\n").splitlines())
    return "\n".join(lines)


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_page_code_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [b for b in parse_blocks(page.read_text(encoding="utf-8")) if b.lang in ("python", "py")]
    if not blocks:
        pytest.skip("no python blocks on this page")
    monkeypatch.setenv("MPLBACKEND", "Agg")  # a block that plots must not open a window
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["docs"])
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    for block in blocks:
        where = f"{page.relative_to(ROOT)}:{block.line}"
        if block.skip is not None:
            assert block.skip.strip("() "), f"{where}: a skipped block must say why: <!-- docs-test: skip (why) -->"
            continue
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(block.code, where, "exec"), namespace)
        except ModuleNotFoundError as error:
            if error.name in OPTIONAL:
                pytest.skip(f"{where}: {EXTRAS.get(error.name, f'needs the optional package {error.name}')}")
            raise
        except Exception as error:
            if type(error).__name__ == "RenderError" and shutil.which("dot") is None:
                pytest.skip(f"{where}: needs Graphviz's `dot` program")
            raise AssertionError(
                f"{where}: the code block raised {error!r}\n{textwrap.indent(block.code, '    ')}"
            ) from error
        if block.output is not None:
            assert _normalise(out.getvalue()) == _normalise(block.output), (
                f"{where}: printed output differs from the page"
            )


def _load_gen_docs():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_pages_are_current() -> None:
    """The committed generated pages equal what scripts/gen_docs.py writes from the code now."""
    gen = _load_gen_docs()
    stale = [
        str(path.relative_to(ROOT))
        for path, text in gen.text_outputs().items()
        if _read(path) is None or _normalise(_read(path)) != _normalise(text)  # round-off noise is not staleness
    ]
    assert not stale, f"stale generated docs {stale}: run `python scripts/gen_docs.py` and commit the result"


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def test_op_reference_lists_every_op() -> None:
    """Independent of the generator: every op class in ops.TABLE and every scalar op appears by name."""
    from tinygrad_edu import ops

    page = (DOCS / "ops.md").read_text(encoding="utf-8")
    for op in ops.TABLE:
        assert f"`{op.__name__}`" in page, op.__name__
        assert f"`{op.torch}`" in page, op.torch
        assert op.__doc__.splitlines()[0].split("·")[0].strip().replace("|", "\\|") in page
    for name in ("exp", "log", "tanh", "sigmoid", "relu"):
        assert f"`x.{name}()`" in page, name
    assert "`tinygrad_edu.weighted_sum(ws, xs, b)`" in page


def test_roundoff_normalisation() -> None:
    """Only noise below 1e-12 is forgiven: 3.5e-18 and 0.0e+00 compare equal, 2.0e-05 and 0.5 do not."""
    assert _normalise("diff = 3.5e-18") == _normalise("diff = 0.0e+00") == "diff = ≈0"
    assert _normalise("diff = 1.73e-17  ok") == _normalise("diff = 0  ok".replace("0  ", "0e+00  "))
    assert _normalise("err 2.0e-05") != _normalise("err 0.0e+00")
    assert _normalise("w = 0.5") == "w = 0.5"


def test_collector_attaches_output_and_skips() -> None:
    """The collector itself: an Output block attaches to the python block before it; skips need a reason."""
    page = textwrap.dedent(
        """\
        ```python
        print(1 + 1)
        ```

        ```text title="Output"
        2
        ```

        <!-- docs-test: skip (needs a GPU) -->
        ```python
        raise SystemExit
        ```

        === "Tab"

            ```python
            x = 3
            ```
        """
    )
    blocks = parse_blocks(page)
    assert [b.lang for b in blocks] == ["python", "python", "python"]
    assert blocks[0].output == "2\n"
    assert blocks[1].skip == "(needs a GPU)"
    assert blocks[2].code == "x = 3\n"


def test_includes_and_images_exist() -> None:
    """Every snippet a page includes and every local image it shows is there (mkdocs --strict checks it too)."""
    missing = []
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r'^\s*--8<-- "([^"]+)"', text, flags=re.MULTILINE):
            if not (DOCS / target).exists():
                missing.append(f"{page.name}: include {target}")
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text):
            if "://" not in target and not (page.parent / target).exists():
                missing.append(f"{page.name}: image {target}")
    assert not missing, missing
