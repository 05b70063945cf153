"""explain(): the chain rule path by path, checked against numbers computed by hand and on random graphs."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import GraphError, Value
from tinygrad_edu.check import article
from tinygrad_edu.explain import explain
from tinygrad_edu.graph import walk


def sig(x):
    return 1 / (1 + math.exp(-x))


@pytest.fixture(scope="module")
def graph():
    return article.build("value")


def test_w5_one_path_with_the_articles_factors(graph):
    e = explain(graph.loss, "w5")
    assert len(e.paths) == 1
    path = e.paths[0]
    assert path.nodes == ["E", "a_o1", "s_o1", "w5"]
    assert [f.name for f in path.factors] == ["∂E/∂a_o1", "∂a_o1/∂s_o1", "∂s_o1/∂w5"]
    m = article.manual_numbers()
    a_o1, a_h1 = m["a_o1"], m["a_h1"]
    assert [f.value for f in path.factors] == pytest.approx([a_o1 - 0.1, a_o1 * (1 - a_o1), a_h1], abs=1e-15)
    assert [f.symbol for f in path.factors] == ["0.5 · 2·(a_o1 − 0.1)", "a_o1·(1 − a_o1)", "a_h1"]
    assert e.total == pytest.approx((a_o1 - 0.1) * a_o1 * (1 - a_o1) * a_h1, abs=1e-15)
    assert e.matches and e.autodiff == graph.grad("w5")


def test_w1_sums_two_paths(graph):
    e = explain(graph.loss, "w1")
    assert [p.nodes[1] for p in e.paths] == ["a_o1", "a_o2"]
    m = article.manual_numbers()
    via_o1 = m["delta_o1"] * 0.5 * m["a_h1"] * (1 - m["a_h1"]) * 2.78
    via_o2 = m["delta_o2"] * 0.7 * m["a_h1"] * (1 - m["a_h1"]) * 2.78
    assert [p.product for p in e.paths] == pytest.approx([via_o1, via_o2], abs=1e-15)
    assert e.total == pytest.approx(graph.grad("w1"), abs=1e-15)
    assert e.paths[0].factors[-1].symbol == "i1"
    text = str(e)
    assert "2 paths" in text and "sum over paths" in text and "equal" in text


def test_unfolded_graph_has_one_factor_per_edge(graph):
    e = explain(graph.loss, "b_h1", fold_unlabelled=False)
    assert len(e.paths) == 2 and e.matches
    assert len(e.paths[0].factors) > 5  # the ops inside E become their own factors


def test_errors_name_the_problem(graph):
    with pytest.raises(GraphError, match="no node labelled 'w9'"):
        explain(graph.loss, "w9")
    with pytest.raises(GraphError, match="not in the graph"):
        explain(graph.loss, Value(1.0))
    a = Value(2.0, name="a")
    b = Value(3.0, name="b")
    with pytest.raises(GraphError):
        explain(a * 3 + 0.0, b)


def test_backward_runs_when_needed():
    x = Value(0.5, name="x")
    y = (x * x).sigmoid()
    e = explain(y, x)
    assert e.autodiff == pytest.approx(sig(0.25) * (1 - sig(0.25)) * 2 * 0.5)


OPS = ("add", "mul", "sigmoid", "tanh", "square", "sub_const", "exp_small")


def run_program(program, leaves, make):
    """Evaluate a random program over `leaves` with either Values or floats (`make` builds the ops)."""
    nodes = list(leaves)
    for op, i, j in program:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        nodes.append(make(op, a, b))
    return nodes[-1]


def value_op(op, a, b):
    return {
        "add": lambda: a + b,
        "mul": lambda: a * b,
        "sigmoid": lambda: a.sigmoid(),
        "tanh": lambda: a.tanh(),
        "square": lambda: a**2,
        "sub_const": lambda: 0.3 - a,
        "exp_small": lambda: (a * 0.1).exp(),
    }[op]()


def float_op(op, a, b):
    return {
        "add": lambda: a + b,
        "mul": lambda: a * b,
        "sigmoid": lambda: sig(a),
        "tanh": lambda: math.tanh(a),
        "square": lambda: a**2,
        "sub_const": lambda: 0.3 - a,
        "exp_small": lambda: math.exp(a * 0.1),
    }[op]()


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.floats(-1.5, 1.5), min_size=1, max_size=3),
    program=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=7),
    labelled=st.booleans(),
)
def test_sum_over_paths_equals_autodiff_on_random_graphs(data, program, labelled):
    leaves = [Value(x, name=f"x{k}") for k, x in enumerate(data)]
    root = run_program(program, leaves, value_op)
    if labelled:  # label a few intermediates, so some edges are folded and some are not
        for k, node in enumerate(n for n in walk(root) if n._parents):
            if k % 2:
                node.name = f"h{k}"
    root.backward()
    for k, leaf in enumerate(leaves):
        if leaf.grad is None:
            continue  # not an input of root
        for fold in (True, False):
            e = explain(root, leaf, fold_unlabelled=fold)
            assert e.total == pytest.approx(leaf.grad, rel=1e-9, abs=1e-12)
        # and both against central finite differences of the same program on floats
        eps = 1e-6
        up = run_program(program, [x + eps * (i == k) for i, x in enumerate(data)], float_op)
        down = run_program(program, [x - eps * (i == k) for i, x in enumerate(data)], float_op)
        assert e.total == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-6)


def test_weighted_sum_partners_come_from_the_graph_not_from_equal_numbers():
    """A constant input 0.5 beside a bias of 0.5 and a weight of 1.0 once looked like a (w, x) pair."""
    from tinygrad_edu.fused import edge_partners, weighted_sum
    from tinygrad_edu.value import Value

    w, b = Value(1.0, name="w"), Value(0.5, name="b")
    s = weighted_sum([w], [0.5], b)
    s.name = "s"
    assert edge_partners(s) == {}
    assert [f.symbol for f in explain(s, w).paths[0].factors] == ["0.5"]  # ds/dw = the constant x, not b's name

    x = Value(2.0, name="x")
    t = weighted_sum([w, b], [x, 3.0])  # edges: w, x (a pair), b (with the constant 3)
    t.name = "t"
    assert edge_partners(t) == {0: 1, 1: 0}
    assert [f.symbol for f in explain(t, w).paths[0].factors] == ["x"]
    assert [f.symbol for f in explain(t, x).paths[0].factors] == ["w"]
    assert [f.symbol for f in explain(t, b).paths[0].factors] == ["3"]


def test_a_sum_among_the_factors_is_parenthesised():
    """`y · 1 − tanh²` read as (y·1) − tanh²; the factor is y·(1 − tanh²) = 0.6 × 0.63 ≈ 0.38."""
    x, y = Value(0.7, name="x"), Value(0.6, name="y")
    root = x.tanh() * y
    (path,) = explain(root, x).paths
    assert [f.symbol for f in path.factors] == ["y · (1 − tanh(x)²)"]
    assert path.factors[0].value == pytest.approx(0.6 * (1 - math.tanh(0.7) ** 2), rel=1e-15)


def test_unlabelled_nodes_in_a_factor_are_written_by_their_ops():
    """The hidden sigmoid and sum are `sigmoid(x·y)` and `(x + y)`, not machine names like `n3:sigmoid`."""
    x, y = Value(0.5, name="x"), Value(1.5, name="y")
    root = (x * y).sigmoid() * (x + y)
    (path,) = explain(root, y).paths  # one factor, summing the two hidden sub-paths
    (factor,) = path.factors
    assert factor.symbol == "((x + y) · sigmoid(x·y)·(1 − sigmoid(x·y)) · x) + (sigmoid(x·y))"
    s = sig(0.75)
    assert factor.value == pytest.approx(2.0 * s * (1 - s) * 0.5 + s, rel=1e-15)


def test_the_cli_names_keep_their_article_factors(graph):
    """Every audit name's factors, as the article writes them (the derivative text comes from value.RULES)."""
    symbols = set()
    for name in article.EXPLAINABLE:
        target = article.explain_target(name)
        if target == "E":
            continue
        symbols |= {f.symbol for p in explain(graph.loss, target).paths for f in p.factors}
    assert symbols == {
        "0.5 · 2·(a_o1 − 0.1)",
        "0.5 · 2·(a_o2 − 0.9)",
        *(f"a_{n}·(1 − a_{n})" for n in ("h1", "h2", "o1", "o2")),
        *(f"w{k}" for k in range(1, 9)),
        "a_h1",
        "a_h2",
        "i1",
        "i2",
        "1",
    }
