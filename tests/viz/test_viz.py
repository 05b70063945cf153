"""`tinygrad_edu.viz.draw`: the DOT it produces, checked node by node against numbers computed by hand.

Structure, not pixels: the DOT source is parsed into nodes (id -> fields, colour, cluster path) and
edges, and compared with the graph built here.
"""

from __future__ import annotations

import html
import math
import random
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_edu import Tensor, Value, keep_graph, nn, weighted_sum
from tinygrad_edu.check import article
from tinygrad_edu.check.article_network import article_network
from tinygrad_edu.graph import walk
from tinygrad_edu.viz import draw, record_modules
from tinygrad_edu.viz.draw import COLOURS

# ---------------------------------------------------------------------- a small DOT reader

# A label is quoted, or bare when it is a plain DOT identifier (graphviz quotes only what needs it).
_NODE = re.compile(r'^\s*(\w+) \[label=(?:"((?:[^"\\]|\\.)*)"|(\w+))(.*)\]$')
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)$")
_CLUSTER = re.compile(r"^\s*subgraph (cluster_\w+) \{$")
_CLUSTER_LABEL = re.compile(r'^\s*label=(?:"((?:[^"\\]|\\.)*)"|(\w+))')

# The article's numbers, keyed the way these tests read them.
WEIGHTS, BIASES = article.WEIGHTS, article.BIASES
INPUTS = dict(zip(("i1", "i2"), article.INPUTS))
TARGETS = dict(zip(("o1", "o2"), article.TARGETS))


def fields(label: str) -> list[str]:
    """Split a record label on unescaped `|` and undo the escapes: the text dot will draw."""
    out, cur, chars = [], [], iter(label)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars)
            cur.append("\n" if nxt == "n" else nxt)
        elif ch == "|":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    # dot also decodes entities (`&amp;`), and draws a no-break space (kept at field ends) as a space.
    return [f.replace("&amp;", "&").replace("\u00a0", " ") for f in out]


def parse(source: str) -> tuple[dict[str, dict], list[tuple[str, str]]]:
    """Nodes (id -> {'fields', 'attrs', 'clusters'}) and edges of a Digraph's source."""
    nodes: dict[str, dict] = {}
    edges: list[tuple[str, str]] = []
    clusters: list[str] = []
    expect_label = False
    for line in source.splitlines():
        if m := _CLUSTER.match(line):
            clusters.append("?")
            expect_label = True
        elif expect_label and (m := _CLUSTER_LABEL.match(line)):
            clusters[-1] = fields(m.group(1) if m.group(1) is not None else m.group(2))[0]
            expect_label = False
        elif line.strip() == "}" and clusters:
            clusters.pop()
        elif (m := _NODE.match(line)) and not m.group(1).startswith("legend"):
            label = m.group(2) if m.group(2) is not None else m.group(3)
            nodes[m.group(1)] = {"fields": fields(label), "attrs": m.group(4), "clusters": list(clusters)}
        elif m := _EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
    return nodes, edges


def by_name(nodes: dict[str, dict]) -> dict[str, dict]:
    return {n["fields"][0]: n for n in nodes.values() if n["fields"] and not n["fields"][0].startswith(("data", "("))}


def field_value(node: dict, key: str) -> str:
    (text,) = [f for f in node["fields"] if f.startswith(key + " ")]
    return text[len(key) + 1 :]


# ---------------------------------------------------------------------- the article, by hand


def article_by_hand() -> dict[str, float]:
    """dE/d(parameter) for the article's network, by the chain rule written out (no engine)."""
    w, b, i1, i2 = WEIGHTS, BIASES, INPUTS["i1"], INPUTS["i2"]
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    a_h1 = sig(w["w1"] * i1 + w["w2"] * i2 + b["b_h1"])
    a_h2 = sig(w["w3"] * i1 + w["w4"] * i2 + b["b_h2"])
    a_o1 = sig(w["w5"] * a_h1 + w["w6"] * a_h2 + b["b_o1"])
    a_o2 = sig(w["w7"] * a_h1 + w["w8"] * a_h2 + b["b_o2"])
    d_o1 = (a_o1 - TARGETS["o1"]) * a_o1 * (1 - a_o1)
    d_o2 = (a_o2 - TARGETS["o2"]) * a_o2 * (1 - a_o2)
    d_h1 = (d_o1 * w["w5"] + d_o2 * w["w7"]) * a_h1 * (1 - a_h1)
    d_h2 = (d_o1 * w["w6"] + d_o2 * w["w8"]) * a_h2 * (1 - a_h2)
    E = 0.5 * (TARGETS["o1"] - a_o1) ** 2 + 0.5 * (TARGETS["o2"] - a_o2) ** 2
    return {
        "w1": d_h1 * i1, "w2": d_h1 * i2, "w3": d_h2 * i1, "w4": d_h2 * i2,
        "w5": d_o1 * a_h1, "w6": d_o1 * a_h2, "w7": d_o2 * a_h1, "w8": d_o2 * a_h2,
        "b_h1": d_h1, "b_h2": d_h2, "b_o1": d_o1, "b_o2": d_o2, "E": E,
    }  # fmt: skip


def test_article_graph_names_values_and_gradients():
    root, params = article_network()
    nodes, _ = parse(draw(root, params=params).source)
    named = by_name(nodes)
    expected = article_by_hand()
    initial = {**WEIGHTS, **BIASES}
    for name, grad in expected.items():
        if name == "E":
            continue
        node = named[name]
        assert field_value(node, "data") == f"{initial[name]:.4g}"
        assert float(field_value(node, "grad")) == pytest.approx(grad, rel=6e-4)
        assert len(field_value(node, "grad").replace("-", "").lstrip("0.")) <= 5  # 4 significant digits
        assert COLOURS["param"] in node["attrs"]
    assert float(field_value(named["E"], "data")) == pytest.approx(expected["E"], rel=6e-4)
    assert field_value(named["E"], "grad") == "1"
    assert COLOURS["output"] in named["E"]["attrs"]
    for name in INPUTS:
        assert COLOURS["input"] in named[name]["attrs"]
        assert field_value(named[name], "grad") == "—"  # no gradient was asked for the inputs


def test_one_op_node_per_result_and_edges_run_forward():
    root, params = article_network()
    graph = walk(root)[::-1]
    nodes, edges = parse(draw(root, params=params).source)
    results = [v for v in graph if v._parents]
    ops = {k: n for k, n in nodes.items() if "shape=ellipse" in n["attrs"]}
    assert sorted(n["fields"][0] for n in ops.values()) == sorted(v._op for v in results)
    assert len([k for k in nodes if k.startswith("v")]) == len(graph)
    edge_set = set(edges)
    ids = {id(v): f"v{i}" for i, v in enumerate(graph)}
    for i, v in enumerate(graph):
        if v._parents:
            assert (f"o{i}", f"v{i}") in edge_set  # op -> its result
            for p in v._parents:
                assert (ids[id(p)], f"o{i}") in edge_set  # input -> op
    # Only these edges, and every one from an older node to a newer one.
    assert len(edges) == len(results) + sum(len(v._parents) for v in results)
    order = {f"v{i}": i for i in range(len(graph))} | {f"o{i}": i - 0.5 for i in range(len(graph))}
    assert all(order[a] < order[b] for a, b in edges)


def test_grads_before_backward_are_dashes_and_legend_says_so():
    a, b = Value(2.0, name="a"), Value(-3.0, name="b")
    c = a * b + a
    source = draw(c).source
    nodes, _ = parse(source)
    assert all(field_value(n, "grad") == "—" for n in nodes.values() if n["fields"][-1].startswith("grad"))
    assert "no backward pass has run" in source
    c.backward()
    source = draw(c).source
    named = by_name(parse(source)[0])
    assert "no backward pass has run" not in source
    assert field_value(named["a"], "grad") == "-2"  # dc/da = b + 1
    assert field_value(named["b"], "grad") == "2"  # dc/db = a
    assert "grad" not in draw(c, show_grad=False).source.split("legend")[1]
    assert "data" not in draw(c, show_data=False).source.split("legend")[1]


def test_tensor_nodes_show_shape_dtype_small_values_and_op_names():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True, name="x")
    w = Tensor(np.arange(10.0).reshape(2, 5) / 10, requires_grad=True, name="W")
    y = (x @ w).sigmoid().sum()
    with keep_graph():  # backward would release the graph otherwise
        y.backward()
    nodes, _ = parse(draw(y).source)
    named = by_name(nodes)
    assert named["x"]["fields"][1] == "(2, 2) float64"
    assert field_value(named["x"], "data") == "[[1, 2], [3, 4]]"
    s = 1 / (1 + np.exp(-(x.data @ w.data)))
    grad_x = (s * (1 - s)) @ w.data.T  # d sum(σ(xW)) / dx, by hand
    shown = np.array(eval(field_value(named["x"], "grad")))
    np.testing.assert_allclose(shown, grad_x, rtol=6e-4)
    assert named["W"]["fields"][1] == "(2, 5) float64"
    assert field_value(named["W"], "data") == f"‖x‖ = {np.linalg.norm(w.data):.4g}"  # 10 elements: their norm
    grad_w = x.data.T @ (s * (1 - s))
    assert float(field_value(named["W"], "grad").split()[-1]) == pytest.approx(np.linalg.norm(grad_w), rel=6e-4)
    assert sorted(n["fields"][0] for n in nodes.values() if "ellipse" in n["attrs"]) == ["MatMul", "Sigmoid", "Sum"]


def test_params_dict_names_win_over_labels():
    w = Value(0.5, name="weight")
    x = Value(2.0, requires_grad=False)
    y = w * x
    named = by_name(parse(draw(y, params={"layer.w": w}).source)[0])
    assert "layer.w" in named and "weight" not in named
    with pytest.raises(TypeError, match="params"):
        draw(y, params=[w])


def test_bad_arguments_name_the_fix():
    y = Value(1.0) * 2
    with pytest.raises(ValueError, match="rankdir"):
        draw(y, rankdir="XY")
    with pytest.raises(ValueError, match="collapse"):
        draw(y, collapse="yes")
    with pytest.raises(ValueError, match="max_nodes"):
        draw(y, max_nodes=3)
    with pytest.raises(TypeError, match="Value or a Tensor"):
        draw(3.0)


# ---------------------------------------------------------------------- hostile labels

HOSTILE = 'a"b<c>d{e}f|g\\h\nnext  \\N "x\\'


def test_hostile_labels_are_escaped_in_the_source():
    v = Value(1.0, name=HOSTILE)
    y = v * 2
    y.name = "}]; evil -> x; a [label={"
    nodes, edges = parse(draw(y).source)
    labels = [n["fields"] for n in nodes.values()]
    assert [HOSTILE, "data 1", "grad —"] in labels
    assert ["}]; evil -> x; a [label={", "data 2", "grad —"] in labels
    assert ("evil", "x") not in edges and "evil" not in nodes


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz `dot` program")
def test_hostile_labels_render_literally_with_dot():
    v = Value(1.0, name=HOSTILE)
    y = v * 2
    y.name = "}]; evil -> x"
    done = subprocess.run(["dot", "-Tsvg"], input=draw(y).source.encode(), capture_output=True, check=True)
    svg = done.stdout.decode()
    texts = [_svg_unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg)]
    assert 'a"b<c>d{e}f|g\\h' in texts  # the newline becomes a line break: two text lines
    assert 'next  \\N "x\\' in texts or 'next \\N "x\\' in texts
    assert "}]; evil -> x" in texts
    assert "<title>evil</title>" not in svg


def _svg_unescape(text: str) -> str:
    return html.unescape(text).replace("\xa0", " ")  # dot writes escaped spaces as &#160;


# ---------------------------------------------------------------------- module clusters (recorded with record_modules)


class FakeModule(nn.Module):
    """A small `nn.Module` written here: children by keyword, so names can be anything (`0`, `x"}|<y>`)."""

    def __init__(self, **children):
        super().__init__()
        for key, child in children.items():
            setattr(self, key, child)


class FakeLinear(FakeModule):
    """The scalar engine's linear layer, written out: `weight` rows of Values, one `weighted_sum` per output."""

    def __init__(self, weights, biases):
        super().__init__()
        self.weight = [[Value(w) for w in row] for row in weights]
        self.bias = [Value(b) for b in biases]
        self.in_features, self.out_features = len(weights[0]), len(weights)

    def forward(self, x):
        return [weighted_sum(row, x, b) for row, b in zip(self.weight, self.bias)]


class FakeSigmoid(FakeModule):
    def forward(self, x):
        return [v.sigmoid() for v in x]


class FakeSequential(FakeModule):
    def forward(self, x):
        for _, child in self.named_children():
            x = child(x)
        return x


def article_stand_in():
    w, b = WEIGHTS, BIASES
    return FakeSequential(
        **{
            "0": FakeLinear([[w["w1"], w["w2"]], [w["w3"], w["w4"]]], [b["b_h1"], b["b_h2"]]),
            "1": FakeSigmoid(),
            "2": FakeLinear([[w["w5"], w["w6"]], [w["w7"], w["w8"]]], [b["b_o1"], b["b_o2"]]),
            "3": FakeSigmoid(),
        }
    )


def article_loss(model, engine_inputs):
    a_o1, a_o2 = model(engine_inputs)
    return 0.5 * (TARGETS["o1"] - a_o1) ** 2 + 0.5 * (TARGETS["o2"] - a_o2) ** 2


def test_clusters_per_module_call_nested_and_labelled():
    model = article_stand_in()
    inputs = [Value(x, requires_grad=False) for x in INPUTS.values()]
    with record_modules() as calls:
        E = article_loss(model, inputs)
    E.backward()
    assert parse(draw(E, params=model).source)[0].keys() == parse(draw(E, params=model, calls=calls).source)[0].keys()
    assert "cluster_m" not in draw(E, params=model).source  # built outside record_modules: no clusters
    nodes, _ = parse(draw(E, params=model, calls=calls).source)
    named = by_name(nodes)
    where = {k: n["clusters"] for k, n in nodes.items()}
    expected = article_by_hand()
    # Parameters sit in their layer's cluster, with the article's gradients.
    assert named["0.weight.0.0"]["clusters"] == ["FakeSequential", "0: FakeLinear(2→2)"]
    assert named["2.bias.1"]["clusters"] == ["FakeSequential", "2: FakeLinear(2→2)"]
    assert float(field_value(named["0.weight.0.0"], "grad")) == pytest.approx(expected["w1"], rel=6e-4)
    assert float(field_value(named["2.weight.1.1"], "grad")) == pytest.approx(expected["w8"], rel=6e-4)
    # Each op in the cluster of the call that ran it; the loss outside every cluster.
    ops = {k: nodes[k]["fields"][0] for k in nodes if "ellipse" in nodes[k]["attrs"]}
    in_cluster = {}
    for k, op in ops.items():
        in_cluster.setdefault(op, set()).add(tuple(where[k]))
    assert in_cluster["Σw·x"] == {("FakeSequential", "0: FakeLinear(2→2)"), ("FakeSequential", "2: FakeLinear(2→2)")}
    assert in_cluster["sigmoid"] == {("FakeSequential", "1: FakeSigmoid"), ("FakeSequential", "3: FakeSigmoid")}
    assert in_cluster["**2"] == {()}
    assert where[next(k for k, n in nodes.items() if COLOURS["output"] in n["attrs"])] == []
    # The inputs were made before the call: outside.
    assert all(n["clusters"] == [] for n in nodes.values() if COLOURS["input"] in n["attrs"])


def test_clusters_with_the_real_nn_sequential():
    model = nn.Sequential(
        nn.Linear(2, 2, dtype=np.float64), nn.Sigmoid(), nn.Linear(2, 2, dtype=np.float64), nn.Sigmoid()
    )
    w, b = WEIGHTS, BIASES
    model[0].weight.data[:] = [[w["w1"], w["w2"]], [w["w3"], w["w4"]]]
    model[0].bias.data[:] = [b["b_h1"], b["b_h2"]]
    model[2].weight.data[:] = [[w["w5"], w["w6"]], [w["w7"], w["w8"]]]
    model[2].bias.data[:] = [b["b_o1"], b["b_o2"]]
    with record_modules() as calls:
        out = model(Tensor(np.array([[INPUTS["i1"], INPUTS["i2"]]])))
    E = (((Tensor(np.array([[TARGETS["o1"], TARGETS["o2"]]])) - out) ** 2) * 0.5).sum()
    E.backward(retain_graph=True)  # keeps the graph and every intermediate gradient for draw
    nodes, _ = parse(draw(E, params=model, calls=calls).source)
    named = by_name(nodes)
    expected = article_by_hand()
    assert set(named) >= {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert named["0.weight"]["clusters"] == ["Sequential", "0: Linear(2→2)"]
    grad = np.array(eval(field_value(named["2.weight"], "grad")))
    np.testing.assert_allclose(grad, [[expected["w5"], expected["w6"]], [expected["w7"], expected["w8"]]], rtol=6e-4)
    clusters = {tuple(n["clusters"]) for n in nodes.values()}
    assert {("Sequential", "1: Sigmoid"), ("Sequential", "3: Sigmoid"), ("Sequential", "2: Linear(2→2)")} <= clusters


def test_hostile_module_names_are_escaped():
    model = FakeSequential(**{'x"}|<y>': FakeSigmoid()})
    with record_modules() as calls:
        y = model([Value(1.0)])[0]
    nodes, _ = parse(draw(y * 1.0, params=model, calls=calls).source)
    assert ["FakeSequential", 'x"}|<y>: FakeSigmoid'] in [n["clusters"] for n in nodes.values()]


# ---------------------------------------------------------------------- collapsing big graphs


def summaries(nodes: dict[str, dict]) -> dict[str, int]:
    """Summary node id -> how many nodes it says it hides."""
    out = {}
    for k, n in nodes.items():
        if k.startswith("g"):
            (text,) = [f for f in n["fields"] if f.endswith("nodes hidden")]
            out[k] = int(text.split()[0])
    return out


def drawn_count(nodes: dict[str, dict]) -> int:
    return len(nodes)


def test_collapse_folds_a_10000_node_chain_and_counts_what_it_hides():
    x = Value(1.0, name="x")
    y = x
    for _ in range(5000):
        y = y * 0.999 + 0.001
    total = len(walk(y))
    assert total == 10001
    nodes, _ = parse(draw(y).source)
    hidden = summaries(nodes)
    assert drawn_count(nodes) <= 500
    values_drawn = [k for k in nodes if k.startswith("v")]
    assert sum(hidden.values()) + len(values_drawn) == total  # every node drawn or counted, once
    assert "x" in by_name(nodes)  # the input and the output stay visible
    full, _ = parse(draw(y, collapse=False).source)
    assert len([k for k in full if k.startswith("v")]) == total


def test_collapse_keeps_a_wide_random_graph_under_max_nodes():
    rng = random.Random(0)
    pool = [Value(rng.random()) for _ in range(100)]
    while len(pool) < 10_000:
        a, b = rng.choice(pool[-200:]), rng.choice(pool)
        pool.append((a * b).tanh() if rng.random() < 0.3 else a + b)
    root = sum(pool[-20:], Value(0.0))
    total = len(walk(root))
    for max_nodes in (500, 60):
        nodes, edges = parse(draw(root, max_nodes=max_nodes).source)
        assert drawn_count(nodes) <= max_nodes
        assert sum(summaries(nodes).values()) + len([k for k in nodes if k.startswith("v")]) == total
        assert all(a != b for a, b in edges)


def test_collapse_folds_module_calls_innermost_first_then_their_parents():
    model = article_stand_in()
    outputs = []
    with record_modules() as calls:
        for k in range(12):
            outputs += model([Value(x + k, requires_grad=False) for x in INPUTS.values()])
    root = sum(outputs[1:], outputs[0])
    assert 2 * len(walk(root)) > 200  # too big to draw whole
    nodes, _ = parse(draw(root, params=model, calls=calls, max_nodes=200).source)
    assert drawn_count(nodes) <= 200
    hidden = summaries(nodes)
    titles = [nodes[k]["fields"][0] for k in hidden]
    # Each layer call folded: a Linear call made 2 weighted sums, a Sigmoid call 2 sigmoids.
    for title in ("0: FakeLinear(2→2)", "1: FakeSigmoid", "2: FakeLinear(2→2)", "3: FakeSigmoid"):
        assert titles.count(title) == 12
    assert set(hidden.values()) == {2}
    assert all(n["clusters"] == ["FakeSequential"] for k, n in nodes.items() if k in hidden)
    # A tighter budget folds whole model calls instead: the 8 results of one forward pass each.
    nodes, _ = parse(draw(root, params=model, calls=calls, max_nodes=100).source)
    hidden = summaries(nodes)
    assert drawn_count(nodes) <= 100
    assert [nodes[k]["fields"][0] for k in hidden] == ["FakeSequential"] * 12
    assert set(hidden.values()) == {8}
    forced = parse(draw(outputs[0] * 1.0, params=model, calls=calls, collapse=True).source)[0]
    assert sum(summaries(forced).values()) > 0  # collapse=True folds even a small graph


# ---------------------------------------------------------------------- calls= without a model, the method


def test_recorded_calls_without_a_model_are_clusters_titled_by_their_kind():
    layer, act = nn.Linear(2, 2, generator=0, engine="value"), nn.Sigmoid()
    with record_modules() as calls:
        out = act(layer([Value(0.5), Value(-1.0)]))[0] * 1.0
    titles = {tuple(n["clusters"]) for n in parse(draw(out, calls=calls).source)[0].values()}
    assert ("Linear(2→2)",) in titles and ("Sigmoid",) in titles
    named = by_name(parse(draw(out, params={f"w{k}": p for k, p in enumerate(layer.parameters())}).source)[0])
    assert {"w0", "w1", "w4"} <= set(named)  # row 0 and bias 0 (they made out) named by the dict
    # ... and without calls=, no clusters
    assert all(n["clusters"] == [] for n in named.values())


def test_calls_must_come_from_record_modules():
    with pytest.raises(TypeError, match=r"calls must be what `with tinygrad_edu.viz.record_modules\(\) as calls:`"):
        draw(Value(1.0) * 2.0, calls=[(None, 0, 1)])


def test_draw_method_is_the_engines_and_graphviz_loads_on_the_first_drawing():
    code = (
        "import sys, tinygrad_edu\n"
        "from tinygrad_edu import Tensor, Value\n"
        "assert 'graphviz' not in sys.modules\n"
        "y = Value(2.0, name='y') * 3.0\n"
        "assert Value.draw is Tensor.draw and 'graphviz' not in sys.modules\n"
        "assert 'draw' in tinygrad_edu.graph.Node.__dict__  # the engine's own method, not attached by viz\n"
        "print(y.draw().source.count('data 6'), 'graphviz' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "True"]
    total = Tensor(np.ones(2), requires_grad=True, name="t").sum()
    assert total.draw(rankdir="TB").source == draw(total, rankdir="TB").source
