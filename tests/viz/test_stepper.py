"""`viz.to_html` / `viz.steps`: the timeline's numbers against the article's maths done by hand, the escaping,
the files the CLI writes. (The page itself is driven in a real browser in test_stepper_browser.py.)"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from locations import ROOT

from tinygrad_edu import Tensor, Value, nn, weighted_sum
from tinygrad_edu.check import article
from tinygrad_edu.check.article_network import article_network
from tinygrad_edu.errors import GraphError
from tinygrad_edu.viz import record_modules, steps, to_html
from tinygrad_edu.viz.collect import collect
from tinygrad_edu.viz.fold import loss_region
from tinygrad_edu.viz.html import script_json
from tinygrad_edu.viz.trace import decimal, forward_text, read_graph, timeline

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def article_by_hand() -> dict[str, float]:
    """The article's forward pass and the derivatives it derives, written out with no graph at all."""
    w = article.PARAMS
    i1, i2 = article.INPUTS
    t1, t2 = article.TARGETS
    q = {"s_h1": w["w1"] * i1 + w["w2"] * i2 + w["b_h1"], "s_h2": w["w3"] * i1 + w["w4"] * i2 + w["b_h2"]}
    q["a_h1"], q["a_h2"] = sigmoid(q["s_h1"]), sigmoid(q["s_h2"])
    q["s_o1"] = w["w5"] * q["a_h1"] + w["w6"] * q["a_h2"] + w["b_o1"]
    q["s_o2"] = w["w7"] * q["a_h1"] + w["w8"] * q["a_h2"] + w["b_o2"]
    q["a_o1"], q["a_o2"] = sigmoid(q["s_o1"]), sigmoid(q["s_o2"])
    d_o1 = (q["a_o1"] - t1) * q["a_o1"] * (1 - q["a_o1"])  # dE/ds_o1
    d_o2 = (q["a_o2"] - t2) * q["a_o2"] * (1 - q["a_o2"])
    q["grad s_o1"], q["grad s_o2"] = d_o1, d_o2
    q["grad w5"] = d_o1 * q["a_h1"]
    q["grad a_h1 via o1"], q["grad a_h1 via o2"] = d_o1 * w["w5"], d_o2 * w["w7"]
    q["grad a_h1"] = q["grad a_h1 via o1"] + q["grad a_h1 via o2"]
    q["grad w1"] = q["grad a_h1"] * q["a_h1"] * (1 - q["a_h1"]) * i1
    return q


@pytest.fixture(scope="module")
def article_steps() -> tuple[Value, dict, list[dict]]:
    E, params = article_network()
    graph = read_graph(E, params)
    return E, params, timeline(graph).steps


def test_forward_steps_are_the_results_in_creation_order_with_their_arithmetic(article_steps):
    _, _, line = article_steps
    hand = article_by_hand()
    forward = [s for s in line if s["kind"] == "forward"]
    assert [s["text"][0].split(" = ")[0] for s in forward[:4]] == ["s_h1", "a_h1", "s_h2", "a_h2"]
    first = forward[0]
    assert first["text"][0] == "s_h1 = w1·i1 + w2·i2 + b_h1"
    w, (i1, i2) = article.PARAMS, article.INPUTS
    assert first["text"][1] == f"= {w['w1']:g}×{i1:g} + {w['w2']:g}×{i2:g} + {w['b_h1']:g}"
    assert float(first["value"]) == pytest.approx(hand["s_h1"], rel=1e-15)
    values = {s["text"][0].split(" = ")[0]: float(s["value"]) for s in forward}
    for name in ("a_h1", "a_h2", "s_o1", "s_o2", "a_o1", "a_o2"):
        assert values[name] == pytest.approx(hand[name], rel=1e-12)


def test_backward_steps_follow_the_engine_order_and_reproduce_its_gradients(article_steps):
    E, params, line = article_steps
    kinds = [s["kind"] for s in line]
    assert kinds.index("seed") == kinds.count("forward") and kinds[-1] == "backward"
    final: dict[int, float] = {}
    for step in line:
        for edge in step.get("edges", []):
            final[edge["parent"]] = float(edge["grad"])
    graph = read_graph(E, params)
    for i, node in enumerate(graph.nodes):
        if node.requires_grad and i != graph.root:
            assert final[i] == node.grad  # the same float operations in the same order: bit for bit
    hand = article_by_hand()
    w5 = graph.names.index("w5")
    assert final[w5] == pytest.approx(hand["grad w5"], rel=1e-12)
    assert final[graph.names.index("w1")] == pytest.approx(hand["grad w1"], rel=1e-12)
    (w5_edge,) = [e for s in line for e in s.get("edges", []) if e["parent"] == w5]
    assert w5_edge["symbol"] == "a_h1" and w5_edge["local"] == hand["a_h1"]  # ds_o1/dw5 = a_h1


def test_a_hidden_neuron_shows_its_gradient_as_a_running_sum(article_steps):
    E, params, line = article_steps
    hand = article_by_hand()
    a_h1 = read_graph(E, params).names.index("a_h1")
    sums = [e for s in line for e in s.get("edges", []) if e["parent"] == a_h1]
    assert len(sums) == 2  # a_h1 feeds both output neurons, and backward meets s_o2 first
    assert [e["symbol"] for e in sums] == ["w7", "w5"]
    g1, g2 = sums[0]["grad"], sums[1]["grad"]
    assert g1 == pytest.approx(hand["grad a_h1 via o2"], rel=1e-12)
    assert g2 - g1 == pytest.approx(hand["grad a_h1 via o1"], rel=1e-9)
    assert g2 == pytest.approx(hand["grad a_h1"], rel=1e-12)


def test_a_scalar_graph_needs_no_backward_beforehand():
    a, b = Value(2.0, name="a"), Value(-3.0, name="b")
    c = a * b + a  # dc/da = b + 1 = -2, dc/db = a = 2
    c.name = "c"
    line = timeline(read_graph(c)).steps
    grads = {e["parent"]: float(e["grad"]) for s in line for e in s.get("edges", [])}
    assert a.grad is None and grads == {0: -2.0, 1: 2.0, 2: 1.0}  # the graph is left untouched


def test_tensor_steps_show_shapes_small_arrays_and_the_engine_gradients():
    w = Tensor(np.array([[0.5, -1.0], [2.0, 0.25]]), requires_grad=True, name="W")
    x = Tensor(np.array([[1.0, 2.0]]), name="x")
    y = (x @ w).sigmoid()
    loss = y.sum()
    loss.backward(retain_graph=True)
    line = timeline(read_graph(loss)).steps
    s = 1 / (1 + np.exp(-(x.data @ w.data)))
    expected = x.data.T @ (s * (1 - s))  # dL/dW by hand
    (edge,) = [e for step in line for e in step.get("edges", []) if e["parent"] == 0 and "grad" in e]
    np.testing.assert_allclose(json.loads(edge["grad"]), expected.ravel(), rtol=1e-12)
    forward = [step for step in line if step["kind"] == "forward"]
    assert "(1, 2) float64" in forward[0]["text"][-1]


def test_big_tensors_are_summarised_by_norm_min_max():
    w = Tensor(np.arange(49.0).reshape(7, 7) / 10, requires_grad=True, name="W")
    loss = (w * 2.0).sum()
    loss.backward(retain_graph=True)
    line = timeline(read_graph(loss)).steps
    (edge,) = [e for step in line for e in step.get("edges", []) if e["parent"] == 0]
    assert edge["grad"] == f"‖g‖ = {np.linalg.norm(np.full((7, 7), 2.0)):.6g}, min 2, max 2"


def test_a_tensor_graph_without_gradients_is_refused_with_the_fix():
    loss = (Tensor([1.0, 2.0], requires_grad=True) * 3.0).sum()
    with pytest.raises(GraphError, match=r"backward\(retain_graph=True\)"):
        timeline(read_graph(loss))


def test_bad_arguments_name_the_function_and_the_fix():
    with pytest.raises(TypeError, match="to_html: expected a Value or a Tensor"):
        to_html(3.0)
    x = Value(1.0, name="x").tanh()
    with pytest.raises(ValueError, match=r"to_html: max_nodes=3 .* use 10 or more"):
        to_html(x, max_nodes=3)
    with pytest.raises(ValueError, match="to_html: collapse='yes'; use 'auto', True or False"):
        to_html(x, collapse="yes")
    with pytest.raises(TypeError, match=r"to_html: params must be an nn\.Module or a dict"):
        to_html(x, params=[1, 2])


@pytest.mark.parametrize("x", [0.1, 1e-7, -2.5e-12, 123456789.0, 1.0, 0.0, -0.0])
def test_decimals_are_plain_and_exact(x):
    text = decimal(x)
    assert "e" not in text.lower() and float(text) == x


def test_script_json_cannot_end_the_script_and_round_trips():
    data = {"label": "</script><script>alert(1)</script>&\u2028\u2029<!--"}
    text = script_json(data)
    assert not re.search(r"[<>&\u2028\u2029]", text)
    assert json.loads(text) == data


@needs_dot
def test_hostile_labels_are_escaped_in_every_context():
    evil = '</script><script>alert(1)</script><img src=x onerror="alert(2)">{{data}}'
    a = Value(1.5, name=evil)
    b = (a * 2.0).tanh()
    b.name = "out"
    page = to_html(b)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert f'data-label="{html.escape(evil, quote=True)}"' in page
    assert page.count("<script") == 2  # the data block and the page's own module, nothing else
    data = json.loads(re.search(r'<script id="trace" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert data["names"][0] == evil


@needs_dot
def test_the_page_is_self_contained_and_carries_the_contract(tmp_path):
    E, params = article_network()
    page = steps(E, params=params)
    text = page.html
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text
    n_steps = int(re.search(r'<body data-steps="(\d+)" data-step="0">', text).group(1))
    graph = read_graph(E, params)
    fold = loss_region(graph, [graph.names.index("a_o1"), graph.names.index("a_o2")])
    assert n_steps == len(timeline(graph, fold, 0.5).steps)  # the article's page folds its loss, ends with the update
    labels = re.findall(r'data-label="([^"]*)" data-value="([^"]*)" data-grad=""', text)
    assert ("w5", "0.5") in labels and ("s_h1", "") in labels  # leaves known from the start, results not
    assert page._repr_html_().startswith("<iframe srcdoc=") and "<script" not in page._repr_html_()
    path = page.save(tmp_path / "step.html")
    assert (tmp_path / "step.html").read_text(encoding="utf-8") == text and path.endswith("step.html")


def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tinygrad_edu", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


@needs_dot
def test_cli_graph_train_and_check_write_pages(tmp_path):
    done = _cli("graph", "--model", "article", "--format", "html", "-o", "step.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert 'data-label="w5"' in (tmp_path / "step.html").read_text(encoding="utf-8")
    # the article's page is drawn top to bottom without layer boxes: each weight beside the sum it feeds
    assert "<title>cluster_m" not in (tmp_path / "step.html").read_text(encoding="utf-8")
    done = _cli("train", "--dataset", "article", "--epochs", "1", "--no-progress", "--graph", "t.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "data-steps=" in (tmp_path / "t.html").read_text(encoding="utf-8")
    assert "<title>cluster_m" in (tmp_path / "t.html").read_text(encoding="utf-8")  # recorded by train --graph
    wrong = tmp_path / "wrong.py"
    wrong.write_text(
        "import numpy as np\n"
        "def gradients(state, x, t):\n"
        "    W1, b1, W2, b2 = state['0.weight'], state['0.bias'], state['2.weight'], state['2.bias']\n"
        "    h = 1 / (1 + np.exp(-(W1 @ x + b1)))\n"
        "    o = 1 / (1 + np.exp(-(W2 @ h + b2)))\n"
        "    d2 = (o - t) * o * (1 - o)\n"
        "    d1 = (W2.T @ d2) * h * (1 - h)\n"
        "    return {'0.weight': 2 * np.outer(d1, x), '0.bias': d1, '2.weight': np.outer(d2, h), '2.bias': d2}\n"
    )
    done = _cli("check", str(wrong), "--graph", "report.html", cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # one gradient is wrong: the exit code says so, the page is written
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    notes = json.loads(re.search(r'type="application/json">(.*?)</script>', page, re.S).group(1))["notes"]
    (flag,) = [n for n in notes if "WRONG" in n]
    assert flag.startswith("0.weight: manual") and "vs autodiff" in flag
    assert sum("(ok)" in n for n in notes) == 3
    assert 'xlink:title="0.weight: manual' in page  # the same note on hover, on the drawing itself
    assert "<title>cluster_m" in page  # the layers, recorded while check ran the model


@needs_dot
def test_the_page_lights_up_the_boxes_the_picture_draws_one_plan():
    """Folded or not, every node's unit is a box in the SVG, and the folding is the picture's own."""
    model = nn.Sequential(*[nn.Linear(3, 3, generator=k, engine="value") for k in range(4)])
    with record_modules() as calls:
        outs = [model([Value(0.1 * k), Value(0.2), Value(-0.3)]) for k in range(6)]
    root = sum((o for out in outs for o in out), Value(0.0))
    text = to_html(root, params=model, calls=calls, max_nodes=150)
    data = json.loads(re.search(r'type="application/json">(.*?)</script>', text, re.S).group(1))
    drawn = set(re.findall(r'data-unit="(\w+)"', text))
    picture = collect(root, params=model, calls=calls, max_nodes=150)
    assert data["units"] == picture.units and set(data["units"]) <= drawn
    assert any(u.startswith("g") for u in data["units"])  # something was folded
    # The recorded calls shape the plan: each layer call folded into a summary titled by it, inside
    # the cluster of its Sequential call.
    assert "0: Linear(3→3)</text>" in text and text.count("<title>cluster_m") == 6


def test_without_dot_the_error_says_how_to_install_it(monkeypatch):
    from tinygrad_edu.errors import RenderError
    from tinygrad_edu.viz import layout as rendering

    monkeypatch.setattr(rendering.shutil, "which", lambda name: None)
    monkeypatch.setattr(rendering, "_wasm_available", lambda: False)
    x = Value(1.0, name="x")
    with pytest.raises(RenderError, match=r"needs Graphviz's `dot`.*apt-get install graphviz"):
        to_html(x.tanh())


def test_the_page_assets_ship_in_the_wheel(tmp_path):
    """The page's .html/.js/.css are package data: a wheel built from this tree carries them."""
    setuptools = pytest.importorskip("setuptools")
    needed = re.search(r'requires = \["setuptools>=(\d+)', (ROOT / "pyproject.toml").read_text()).group(1)
    if int(setuptools.__version__.split(".")[0]) < int(needed):  # a fresh venv's bundled setuptools is older
        pytest.skip(
            f"setuptools {setuptools.__version__} is older than pyproject.toml needs (>= {needed}) to build a wheel "
            "without isolation; pip install -U setuptools (or build with isolation: pip wheel .)"
        )

    root, src = ROOT, tmp_path / "src"
    shutil.copytree(root / "tinygrad_edu", src / "tinygrad_edu", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, src / name)  # a copy, so the build leaves nothing in the checkout
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    done = subprocess.run(
        [*pip, "-w", str(tmp_path / "dist"), str(src)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{done.stderr[-2000:]}")  # setuptools is new enough: a real failure
    import zipfile

    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in ("stepper.html", "stepper.js", "stepper.css"):
        assert f"tinygrad_edu/viz/page/{asset}" in names


def test_a_dot_that_runs_out_of_time_says_which_knob_to_turn(monkeypatch):
    from tinygrad_edu.errors import RenderError
    from tinygrad_edu.viz import html as page

    def slow(source, fmt, timeout):
        raise subprocess.TimeoutExpired("dot", timeout)

    monkeypatch.setattr(page, "layout", slow)
    with pytest.raises(RenderError, match=r"within 0\.5 s; pass a smaller max_nodes= \(now 300\) or a larger timeout="):
        to_html(Value(1.0, name="x").tanh(), timeout=0.5)


def test_the_chain_rule_trace_is_kept_to_nodes_with_few_paths():
    from tinygrad_edu.viz.trace import explanations

    E, params = article_network()
    traces = dict(zip(read_graph(E, params).names, explanations(read_graph(E, params))))
    assert "2 paths from E to w1" in traces["w1"] and "1 path from E to w5" in traces["w5"]
    x = Value(0.5, name="x")
    y = x
    for _ in range(12):  # 2^12 paths from y down to x: too many to list, so no trace (and no long wait)
        y = y * y + y
    y.backward()
    traces = explanations(read_graph(y))
    assert traces[0] == "" and traces[-2] != ""


def test_an_input_used_twice_by_one_op_gets_two_terms():
    x = Value(3.0, name="x")
    y = x * x  # dy/dx = 2x = 6: two edges from y to x, 3 × 1 each
    y.name = "y"
    (step,) = [s for s in timeline(read_graph(y)).steps if s["kind"] == "backward"]
    assert [(e["parent"], e["local"], e["symbol"], e["grad"]) for e in step["edges"]] == [
        (0, 3.0, "x", 3.0),
        (0, 3.0, "x", 6.0),
    ]


def test_a_tensor_graph_released_by_backward_is_refused_with_the_fix():
    loss = (Tensor([1.0, 2.0], requires_grad=True) * 3.0).sum()
    loss.backward()  # releases the graph, as PyTorch does
    with pytest.raises(GraphError, match=r"released by backward.*retain_graph=True"):
        to_html(loss)


def test_forward_text_pairs_weighted_sum_edges_as_recorded_not_by_equal_numbers():
    # w = 1.0 times a number input 0.5, plus a bias Value 0.5: the numbers would pair w with b
    w, b = Value(1.0, name="w"), Value(0.5, name="b")
    s = weighted_sum([w], [0.5], b)
    s.name = "s"
    graph = read_graph(s)
    i = graph.nodes.index(s)
    lines = forward_text(graph, i)
    assert lines[0] == "s = w·0.5 + b" and lines[1] == "= 1×0.5 + 0.5"
    x = Value(2.0, name="x")
    t = weighted_sum([w], [x], b)
    t.name = "t"
    graph = read_graph(t)
    assert forward_text(graph, graph.nodes.index(t))[0] == "t = w·x + b"
