"""`tinygrad-edu article` and `tinygrad-edu check` end to end."""

import json
import math
import subprocess
import sys

import pytest
from locations import ROOT

from tinygrad_edu.check import article
from tinygrad_edu.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_article_json(capsys):
    code, out, _ = run(capsys, "article", "--json")
    assert code == 0
    doc = json.loads(out)
    assert list(doc) == ["rows"]
    assert all(list(r) == ["name", "article", "autodiff", "manual", "verdict", "why"] for r in doc["rows"])
    rows = {r["name"]: r for r in doc["rows"]}
    # Independent: E = ½((0.1 − a_o1)² + (0.9 − a_o2)²) from a plain-float forward pass.
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    a_h1, a_h2 = sig(0.1 * 2.78 + 0.2 * 2.55 + 0.5), sig(0.3 * 2.78 + 0.4 * 2.55 + 0.12)
    a_o1, a_o2 = sig(0.5 * a_h1 + 0.6 * a_h2 + 0.2), sig(0.7 * a_h1 + 0.8 * a_h2 + 0.4)
    assert rows["E"]["autodiff"] == pytest.approx(0.5 * ((0.1 - a_o1) ** 2 + (0.9 - a_o2) ** 2), abs=1e-12)
    assert rows["E"]["article"] == 0.2085 and rows["E"]["verdict"] == "arithmetic error"
    delta_o1 = (a_o1 - 0.1) * a_o1 * (1 - a_o1)
    assert rows["w5"]["manual"] == pytest.approx(0.5 - 0.5 * delta_o1 * a_h1, abs=1e-12)
    assert rows["b_o1"]["article"] is None and rows["b_o1"]["verdict"] == "not in article"


def test_engines_print_the_same_numbers(capsys):
    _, value, _ = run(capsys, "article", "--json", "--engine", "value")
    _, tensor, _ = run(capsys, "article", "--json", "--engine", "tensor")
    for a, b in zip(json.loads(value)["rows"], json.loads(tensor)["rows"]):
        assert a["name"] == b["name"] and abs(a["autodiff"] - b["autodiff"]) <= 1e-12
        assert a["verdict"] == b["verdict"]


def test_table_has_every_verdict(capsys):
    code, out, _ = run(capsys, "article")
    assert code == 0
    for verdict in ("match", "rounding drift", "truncation", "arithmetic error", "not in article"):
        assert f" {verdict}\n" in out.split("why:")[0] or out.split("why:")[0].rstrip().endswith(verdict)
    assert "verdicts:" in out  # the legend of the scheme


def test_explain_prints_only_the_explanation_linked_to_the_article(capsys):
    code, out, _ = run(capsys, "article", "--explain", "w5")
    assert code == 0
    assert out.startswith("∂E/∂w5: 1 path")  # no audit table before it
    assert "quantity   article" not in out
    assert "∂E/∂a_o1 · ∂a_o1/∂s_o1 · ∂s_o1/∂w5" in out and "equal" in out
    # the article's own rounded numbers next to the exact ones: where the rounding enters
    assert "it uses delta_o1 = 0.121; exact 0.121343" in out
    assert "printed 0.453, exact 0.452445: rounding drift" in out


@pytest.mark.parametrize("name", ["E", "i1", "i2", "delta_o1", "delta_h2", "a_o1", "s_h1", "w1", "b_o2"])
def test_every_audit_name_can_be_explained(capsys, name):
    code, out, err = run(capsys, "article", "--explain", name)
    assert code == 0 and "Traceback" not in err
    assert "in the article:" in out


def test_explain_E_and_an_input(capsys):
    _, out, _ = run(capsys, "article", "--explain", "E")
    assert "∂E/∂E = 1" in out and "printed 0.2085" in out
    _, out, _ = run(capsys, "article", "--explain", "i1")
    # by hand: ∂E/∂i1 = δ_h1 w1 + δ_h2 w3 = 0.009304373 · 0.1 + 0.007091144 · 0.3
    assert f"{0.009304373 * 0.1 + 0.007091144 * 0.3:+.8f}" in out
    assert "not a parameter" in out
    _, out, _ = run(capsys, "article", "--explain", "delta_o1")
    assert "∂E/∂s_o1 = +0.1213427" in out and "printed 0.121, exact 0.121343: match" in out


def test_explain_an_unknown_name_is_one_line(capsys):
    code, _, err = run(capsys, "article", "--explain", "w9")
    assert code == 2 and "not a name of the audit" in err


def test_graph_writes_a_dot_file(capsys, tmp_path):
    path = tmp_path / "article.dot"
    code, _, _ = run(capsys, "article", "--graph", str(path))
    assert code == 0 and path.exists()
    source = path.read_text()
    assert "w5" in source and "s_o1" in source


def test_graph_draws_the_targets_and_the_half_as_named_constants(capsys, tmp_path):
    """Issue 15 item 7: the article's E = ½ Σ (t - a)² with its 0.1, 0.9 and ½ visible."""
    path = tmp_path / "article.dot"
    code, _, _ = run(capsys, "article", "--graph", str(path))
    source = path.read_text()
    assert code == 0
    for label, value in (("target_o1", "0.1"), ("target_o2", "0.9"), ("½", "0.5")):
        line = next(row for row in source.splitlines() if f">{label}<" in row or f"{{{label}|" in row or label in row)
        assert value in line, (label, line)
    assert "subgraph cluster_m" not in source  # no layer boxes: each weight beside its sum (test_viz_layout.py)
    assert "E_o1" in source and "0.2156" in source  # E = 0.215554 exactly (the article prints 0.2085)


def test_disagreement_exits_non_zero(capsys, monkeypatch):
    real = article.manual_numbers

    def off():
        numbers = real()
        numbers["w7"] += 1e-9
        return numbers

    monkeypatch.setattr(article, "manual_numbers", off)
    code, _, err = run(capsys, "article")
    assert code == 1 and "w7" in err


def test_unknown_explain_name_is_a_clean_error(capsys):
    code, _, err = run(capsys, "article", "--explain", "w9")
    assert code == 2 and "w9" in err


@pytest.mark.parametrize(
    ("file", "expected"),
    [("level1.py", "exactly 2x autodiff"), ("level2.py", "applied twice")],
)
def test_check_the_articles_code(capsys, file, expected):
    code, out, _ = run(capsys, "check", str(ROOT / "examples" / "article_code" / file))
    assert code == 1 and expected in out


def test_check_a_correct_file_and_a_bad_one(capsys, tmp_path):
    good = tmp_path / "good.py"
    good.write_text(
        "from tinygrad_edu.check import reference\n"
        "SIZES = [3, 2]\nINPUTS = [0.1, 0.2, 0.3]\nTARGETS = [0.0, 1.0]\n"
        "def gradients(state, inputs, targets):\n    return reference.gradients(state, inputs, targets)\n"
    )
    code, out, _ = run(capsys, "check", str(good), "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    code, _, err = run(capsys, "check", str(empty))
    assert code == 2 and "neither gradients" in err
    code, _, err = run(capsys, "check", str(tmp_path / "missing.py"))
    assert code == 2 and "no such file" in err


def test_python_dash_m_runs_the_same_cli():
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu", "article", "--json"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0
    assert [r["name"] for r in json.loads(done.stdout)["rows"]] == list(article.ROW_NAMES)


def test_the_article_network_is_built_in_one_place():
    """`article` (audit, --explain, --graph) and `graph --model article` use one builder of the network."""
    from tinygrad_edu.check import article_network as network
    from tinygrad_edu.commands import graph

    assert graph.MODELS["article"] is network.article_network
    E, figure = network.article_network()  # E written as the article writes it, for the drawing
    audited = network.build("value")  # E by mse_loss, for the audit and explain
    assert type(audited.model) is type(figure) is network.ArticleNetwork
    # Independent: the article's forward pass and its deltas in plain floats.
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    a_h1, a_h2 = sig(0.1 * 2.78 + 0.2 * 2.55 + 0.5), sig(0.3 * 2.78 + 0.4 * 2.55 + 0.12)
    a_o1, a_o2 = sig(0.5 * a_h1 + 0.6 * a_h2 + 0.2), sig(0.7 * a_h1 + 0.8 * a_h2 + 0.4)
    d_o1, d_o2 = (a_o1 - 0.1) * a_o1 * (1 - a_o1), (a_o2 - 0.9) * a_o2 * (1 - a_o2)
    d_h1 = (0.5 * d_o1 + 0.7 * d_o2) * a_h1 * (1 - a_h1)
    expected = {"w5": d_o1 * a_h1, "w8": d_o2 * a_h2, "w1": d_h1 * 2.78, "b_h1": d_h1, "b_o2": d_o2}
    for name, grad in expected.items():
        assert audited.grad(name) == pytest.approx(grad, abs=1e-15)
        assert figure[name].grad == audited.grad(name)  # the same network, whichever way E is written
    assert audited.number("a_o2") == pytest.approx(a_o2, abs=1e-15) and E.data == audited.loss.data


def test_why_lines_are_one_short_sentence_each(capsys):
    """Each reason is split into sentences, one per line, and together they say all the JSON's `why` says."""
    code, out, _ = run(capsys, "article")
    assert code == 0
    _, doc, _ = run(capsys, "article", "--json")
    why = out.split("\nwhy:\n")[1].split("\n\nverdicts:")[0].splitlines()
    assert len(why) > len(json.loads(doc)["rows"])  # some reasons take several lines
    for line in why:
        sentence = line.split(": ", 1)[1] if not line.startswith("    ") else line.strip()
        assert len(line) <= 120 and ";" not in sentence, line
        assert sentence[0].isupper() or sentence[0].isdigit() or sentence[0] in "(−-", line
        assert sentence.endswith(".") and ". " not in sentence.replace("e.g. ", ""), line
    rows = {r["name"]: r["why"] for r in json.loads(doc)["rows"]}
    joined = " ".join(why)
    for number in ("0.275822", "0.426409", "1.118300", "0.452568"):  # nothing lost in the split
        assert number in joined and any(number in w for w in rows.values())
    assert all(len(line) <= 120 for line in out.splitlines()[:3])  # the header too
