"""symbolic: every op's derivative text comes from its rule (sweep.RULES), and each text means the right derivative.

Each form is read back as Python (`·` → `*`, `x²` → `x**2`, ...), evaluated at the node's numbers and
compared with central finite differences of the op on plain floats: a wrong form cannot pass.
"""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu.fused import weighted_sum
from tinygrad_edu.graph import walk
from tinygrad_edu.sweep import RULES
from tinygrad_edu.symbolic import Symbol, local_forms
from tinygrad_edu.value import Value
from tinygrad_edu.viz.trace import read_graph, timeline


def sig(x):
    return 1 / (1 + math.exp(-x))


def read_back(text, env):
    """A form's number, evaluated as Python with `env` for the names: an independent reading of the text."""
    py = text.replace("·", "*").replace("−", "-").replace("²", "**2").replace("³", "**3").replace("^", "**")
    py = py.replace("ln(", "log(")
    return eval(py, {"log": math.log, "exp": math.exp, "tanh": math.tanh, "sigmoid": sig}, dict(env))


X, Y, W1, W2, B = 0.7, 1.3, -0.4, 0.25, 0.1
# op, the node from labelled leaves, the same on floats, the forms expected per edge
CASES = [
    ("+", lambda v: v["x"] + v["y"], lambda f: f["x"] + f["y"], ["1", "1"]),
    ("+", lambda v: v["x"] + 3, lambda f: f["x"] + 3, ["1"]),
    ("*", lambda v: v["x"] * v["y"], lambda f: f["x"] * f["y"], ["y", "x"]),
    ("*", lambda v: v["x"] * 3, lambda f: f["x"] * 3, ["3"]),
    ("*", lambda v: v["x"] * -2.5, lambda f: f["x"] * -2.5, ["−2.5"]),
    ("*", lambda v: v["x"] * v["x"], lambda f: f["x"] * f["x"], ["x", "x"]),
    ("**", lambda v: v["x"] ** 2, lambda f: f["x"] ** 2, ["2·x"]),
    ("**", lambda v: v["x"] ** 3, lambda f: f["x"] ** 3, ["3·x²"]),
    ("**", lambda v: v["y"] ** 0.5, lambda f: f["y"] ** 0.5, ["0.5·y^−0.5"]),
    ("**", lambda v: v["x"] ** -1, lambda f: f["x"] ** -1, ["−x^−2"]),
    ("**", lambda v: v["y"] ** v["x"], lambda f: f["y"] ** f["x"], ["x·y^(x − 1)", None]),  # d/dx: the number
    ("exp", lambda v: v["x"].exp(), lambda f: math.exp(f["x"]), ["out"]),
    ("log", lambda v: v["x"].log(), lambda f: math.log(f["x"]), ["1/x"]),
    ("tanh", lambda v: v["x"].tanh(), lambda f: math.tanh(f["x"]), ["1 − out²"]),
    ("sigmoid", lambda v: v["x"].sigmoid(), lambda f: sig(f["x"]), ["out·(1 − out)"]),
    ("relu", lambda v: v["x"].relu(), lambda f: max(f["x"], 0.0), ["1"]),
    ("relu", lambda v: v["w1"].relu(), lambda f: max(f["w1"], 0.0), ["0"]),
    (
        "Σw·x",
        lambda v: weighted_sum([v["w1"], v["w2"]], [v["x"], 2.0], v["b"]),
        lambda f: f["w1"] * f["x"] + f["w2"] * 2.0 + f["b"],
        ["x", "w1", "2", "1"],
    ),
]


def forms_of(node, names):
    out = Symbol.named("out", node.data)
    return [f.text for f in local_forms(node, out, [Symbol.named(names[id(p)], p.data) for p in node._parents])]


@pytest.mark.parametrize(("op", "build", "on_floats", "expected"), CASES, ids=[f"{c[0]}:{c[3]}" for c in CASES])
def test_each_op_reads_its_rule_and_the_text_is_the_derivative(op, build, on_floats, expected):
    floats = {"x": X, "y": Y, "w1": W1, "w2": W2, "b": B}
    leaves = {k: Value(x, name=k) for k, x in floats.items()}
    node = build(leaves)
    assert node._op.startswith(op)
    names = {id(v): k for k, v in leaves.items()}
    forms = forms_of(node, names)
    assert [e or f for e, f in zip(expected, forms)] == forms  # None: the number, checked below like the rest
    env = {**floats, "out": node.data}
    per_leaf = {}
    for parent, form in zip(node._parents, forms):
        per_leaf[names[id(parent)]] = per_leaf.get(names[id(parent)], 0.0) + read_back(form, env)
    eps = 1e-6
    for name, slope in per_leaf.items():  # an input used twice (x·x) gets the sum of its edges
        up = on_floats({**floats, name: floats[name] + eps})
        down = on_floats({**floats, name: floats[name] - eps})
        assert slope == pytest.approx((up - down) / (2 * eps), rel=1e-6, abs=1e-8)


def test_every_op_of_the_engine_has_a_case():
    """A new op in RULES gets its text from its rule; this makes sure a case checks what it writes."""
    assert set(RULES) <= {c[0] for c in CASES}


def test_a_rule_a_stand_in_cannot_follow_gives_the_recorded_numbers(monkeypatch):
    """A rule that fails on the stand-ins (here one planted to raise) falls back to the recorded numbers."""
    a, b = Value(0.0, name="a"), Value(2.0, name="b")
    node = a**b

    def unfollowable(out, x, y):
        raise TypeError("a rule the stand-ins cannot follow")

    monkeypatch.setitem(RULES, "**", unfollowable)
    assert forms_of(node, {id(a): "a", id(b): "b"}) == ["0", "0"]


def test_the_pow_rule_at_zero_is_written_as_its_formula():
    """0 ** Value: the pow rule tests the numbers (`.data`) of its operands, which the stand-ins carry."""
    a, b = Value(0.0, name="a"), Value(2.0, name="b")
    assert forms_of(a**b, {id(a): "a", id(b): "b"}) == ["b·a^(b − 1)", "0"]


@pytest.mark.parametrize(
    ("make", "text"),
    [
        (lambda a, b, c: a - (b + c), "a − (b + c)"),
        (lambda a, b, c: (a + b) * c, "(a + b)·c"),
        (lambda a, b, c: c * (a - b), "c·(a − b)"),
        (lambda a, b, c: -(-a), "a"),
        (lambda a, b, c: a * -b, "a·(−b)"),
        (lambda a, b, c: (a**2) ** 3, "(a²)³"),
        (lambda a, b, c: 1.0 / (a * b), "1/(a·b)"),
        (lambda a, b, c: a ** (b - 1), "a^(b − 1)"),
        (lambda a, b, c: 1.0 - a * a, "1 − a²"),
        (lambda a, b, c: (a + -0.5) * 2, "2·(a − 0.5)"),
        (lambda a, b, c: a * 1.0 + 0.0, "a"),
        (lambda a, b, c: a * 0.0, 0.0),
    ],
)
def test_parentheses_only_where_needed(make, text):
    values = {"a": 0.3, "b": 1.7, "c": -0.6}
    result = make(*(Symbol.named(k, x) for k, x in values.items()))
    if not isinstance(text, str):
        assert result == text  # ×0 leaves no formula, just the number
        return
    assert result.text == text
    assert read_back(result.text, values) == pytest.approx(make(*values.values()), rel=1e-12)
    assert result.data == pytest.approx(make(*values.values()), rel=1e-12)


def test_a_name_that_is_a_formula_keeps_its_binding():
    s = Symbol.named("w1·i1", 0.5)
    assert (s**3).text == "(w1·i1)³"  # not w1·i1³
    assert (2.0 * Symbol.named("(a − 0.1)", 0.5)).text == "2·(a − 0.1)"
    assert (2.0 * Symbol.named("a + b", 0.5)).text == "2·(a + b)"
    assert (Symbol.named("sigmoid(x)", 0.5) ** 2).text == "sigmoid(x)²"


def test_the_step_through_page_writes_the_same_forms():
    """The page and explain read one table: log's 1/x (once a bare number on the page), tanh's (1 − t²)."""
    x = Value(0.7, name="x")
    t = x.tanh()
    t.name = "t"
    root = t * x.log()
    root.name = "r"
    root.backward()
    graph = read_graph(root)
    symbols = {
        (graph.names[s["node"]], graph.names[e["parent"]]): e["symbol"]
        for s in timeline(graph).steps
        if s["kind"] == "backward"
        for e in s["edges"]
    }
    log_name = next(n for n in graph.names if n.startswith("log"))
    assert symbols[(log_name, "x")] == "1/x"
    assert symbols[("t", "x")] == "(1 − t²)"  # the page writes `symbol × grad`: the sum is bracketed
    assert symbols[("r", "t")] == log_name
    assert read_back("1/x", {"x": 0.7}) == pytest.approx(1 / 0.7)


UNARY = {
    "sigmoid": lambda a: a.sigmoid(),
    "tanh": lambda a: a.tanh(),
    "exp": lambda a: (a * 0.1).exp(),
    "log": lambda a: (a * a + 1.0).log(),
    "cube": lambda a: a**3,
    "sub": lambda a: 0.3 - a,
}
BINARY = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "div": lambda a, b: a / (b * b + 1.0)}


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.floats(-1.5, 1.5), min_size=2, max_size=3),
    program=st.lists(
        st.tuples(st.sampled_from(sorted({**UNARY, **BINARY})), st.integers(0, 50), st.integers(0, 50)),
        min_size=1,
        max_size=6,
    ),
)
def test_every_form_on_random_graphs_reads_back_as_its_recorded_derivative(data, program):
    nodes = [Value(x) for x in data]
    for op, i, j in program:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        nodes.append(UNARY[op](a) if op in UNARY else BINARY[op](a, b))
    graph = walk(nodes[-1])
    for k, node in enumerate(graph):
        node.name = f"v{k}"
    env = {node.name: node.data for node in graph}
    for node in graph:
        if not node._parents:
            continue
        forms = local_forms(
            node, Symbol.named(node.name, node.data), [Symbol.named(p.name, p.data) for p in node._parents]
        )
        for form, local in zip(forms, node._locals):
            assert read_back(form.text, env) == pytest.approx(local, rel=1e-9, abs=1e-12), form.text
        if node._op in ("sigmoid", "tanh", "exp", "log", "**3") or (node._op == "*" and len(node._parents) == 2):
            assert all(any(ch.isalpha() for ch in f.text) for f in forms), forms  # a formula, not a bare number
