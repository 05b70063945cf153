"""The article audit against numbers computed here with plain floats, and hand-checked verdicts."""

import math

import pytest

from tinygrad_edu.check import article

NAMES = [
    "s_h1",
    "a_h1",
    "s_h2",
    "a_h2",
    "s_o1",
    "a_o1",
    "s_o2",
    "a_o2",
    "E",
    "delta_o1",
    "delta_o2",
    "delta_h1",
    "delta_h2",
    "w1",
    "w2",
    "w3",
    "w4",
    "w5",
    "w6",
    "w7",
    "w8",
    "b_h1",
    "b_h2",
    "b_o1",
    "b_o2",
]


def sig(x):
    return 1 / (1 + math.exp(-x))


def plain_numbers():
    """The worked example by hand, written out independently of tinygrad_edu."""
    i1, i2 = 2.78, 2.55
    w1, w2, w3, w4, w5, w6, w7, w8 = 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8
    bh1, bh2, bo1, bo2 = 0.5, 0.12, 0.2, 0.4
    n = {}
    n["s_h1"] = w1 * i1 + w2 * i2 + bh1
    n["a_h1"] = sig(n["s_h1"])
    n["s_h2"] = w3 * i1 + w4 * i2 + bh2
    n["a_h2"] = sig(n["s_h2"])
    n["s_o1"] = w5 * n["a_h1"] + w6 * n["a_h2"] + bo1
    n["a_o1"] = sig(n["s_o1"])
    n["s_o2"] = w7 * n["a_h1"] + w8 * n["a_h2"] + bo2
    n["a_o2"] = sig(n["s_o2"])
    n["E"] = 0.5 * ((0.1 - n["a_o1"]) ** 2 + (0.9 - n["a_o2"]) ** 2)
    do1 = (n["a_o1"] - 0.1) * n["a_o1"] * (1 - n["a_o1"])
    do2 = (n["a_o2"] - 0.9) * n["a_o2"] * (1 - n["a_o2"])
    dh1 = (w5 * do1 + w7 * do2) * n["a_h1"] * (1 - n["a_h1"])
    dh2 = (w6 * do1 + w8 * do2) * n["a_h2"] * (1 - n["a_h2"])
    n.update(delta_o1=do1, delta_o2=do2, delta_h1=dh1, delta_h2=dh2)
    lr = 0.5
    n.update(
        w1=w1 - lr * dh1 * i1,
        w2=w2 - lr * dh1 * i2,
        w3=w3 - lr * dh2 * i1,
        w4=w4 - lr * dh2 * i2,
        w5=w5 - lr * do1 * n["a_h1"],
        w6=w6 - lr * do1 * n["a_h2"],
        w7=w7 - lr * do2 * n["a_h1"],
        w8=w8 - lr * do2 * n["a_h2"],
        b_h1=bh1 - lr * dh1,
        b_h2=bh2 - lr * dh2,
        b_o1=bo1 - lr * do1,
        b_o2=bo2 - lr * do2,
    )
    return n


@pytest.fixture(scope="module")
def rows():
    return {r.name: r for r in article.audit("value")}


def test_rows_are_the_articles_quantities_in_order():
    assert [r.name for r in article.audit("value")] == NAMES


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_numbers_match_a_plain_float_computation(engine):
    expected = plain_numbers()
    for r in article.audit(engine):
        assert r.autodiff == pytest.approx(expected[r.name], abs=1e-12), r.name
        assert r.manual == pytest.approx(expected[r.name], abs=1e-12), r.name
    assert article.disagreements(article.audit(engine)) == []


def test_engines_agree():
    value = {r.name: r.autodiff for r in article.audit("value")}
    tensor = {r.name: r.autodiff for r in article.audit("tensor")}
    for name in NAMES:
        assert abs(value[name] - tensor[name]) <= 1e-12, name


def test_E_is_an_arithmetic_error_from_the_wrong_square(rows):
    r = rows["E"]
    assert r.article == 0.2085
    assert r.verdict == "arithmetic error"
    # By hand: (0.1 - 0.753)^2 = 0.426409, the article wrote 0.414; 0.5 * (0.414 + 0.003) = 0.2085.
    assert "0.414" in r.why and "0.426409" in r.why
    assert "0.2156" in r.why  # the exact E, rounded as printed
    assert round(r.autodiff, 4) == 0.2156


def test_w5_is_rounding_drift_from_delta_o1(rows):
    r = rows["w5"]
    assert r.verdict == "rounding drift"
    # exact 0.452445 -> 0.452; with delta_o1 = 0.121: 0.5 - 0.5 * 0.121 * 0.784 = 0.452568 -> 0.453
    assert round(r.autodiff, 3) == 0.452
    assert round(0.5 - 0.5 * 0.121 * 0.784, 3) == 0.453
    assert "delta_o1 carried as 0.121" in r.why
    assert "a_h1 carried" not in r.why  # a_h1 = 0.784 alone does not move the result


def test_w1_matches(rows):
    r = rows["w1"]
    assert r.verdict == "match"
    assert round(r.autodiff, 3) == 0.087 == r.article


def test_other_hand_checked_verdicts(rows):
    assert rows["a_o1"].verdict == "truncation"  # 1/1.327 = 0.75358 rounds to 0.754, printed (cut off) 0.753
    assert "cut it off" in rows["a_o1"].why
    assert rows["s_o1"].verdict == "truncation"  # a_h1 = 0.7838 cut to 0.783: 1.1183 -> 1.118, exact -> 1.119
    assert "a_h1 carried as 0.783" in rows["s_o1"].why
    assert rows["w2"].verdict == "rounding drift"  # delta_h1 = 0.009: 0.188525 -> 0.189, exact 0.188137 -> 0.188
    assert rows["a_h2"].verdict == "match" and "1 / 1.138" in rows["a_h2"].why
    for name in ("b_h1", "b_h2", "b_o1", "b_o2"):
        assert rows[name].verdict == "not in article" and rows[name].article is None
    matched = {n for n, r in rows.items() if r.verdict == "match"}
    assert matched == set(NAMES) - {"s_o1", "a_o1", "E", "w2", "w5", "b_h1", "b_h2", "b_o1", "b_o2"}


def test_rounding_helpers():
    assert article._rounds_to(0.4524, "0.452") and not article._rounds_to(0.4526, "0.452")
    assert article._truncates_to(0.75358, "0.753") and not article._truncates_to(0.75358, "0.754")
    assert article._rounded(-0.0001, "0.000") == "0.000"
