"""The article's worked example (section I), audited: every printed number, three ways.

The network is 2-2-2 with sigmoids: inputs i1 = 2.78, i2 = 2.55 (the article writes w1 × i1 as
"2.78 × 0.1"), weights w1..w8, biases b_h1 = 0.5, b_h2 = 0.12, b_o1 = 0.2, b_o2 = 0.4, targets 0.1
and 0.9, error E = ½ Σ (target − a_o)², one SGD step at learning rate α = 0.5. Each row of the
audit is one quantity the article computes:

* autodiff: the network `article_network.build` makes (its neurons on the value engine,
  `nn.Sequential(Linear, Sigmoid, Linear, Sigmoid)` on the tensor engine), one `backward()`; a
  delta is ∂E/∂s, the gradient backward leaves on the weighted sum s;
* manual: the article's own formulas (δ_o = (a_o − t)·a_o(1 − a_o), δ_h = (Σ δ_o w)·a_h(1 − a_h),
  w' = w − α δ a) evaluated in plain float arithmetic;
* article: the number the article prints, with every intermediate step it prints on that line.

The verdict is computed from the numbers, one scheme for every row (`VERDICTS`):

* `match`: the exact value, rounded to the digits the article prints, is the article's number;
* `rounding drift`: it is not, but the article's formula on its own rounded inputs gives it
  (the row says which rounded input is to blame);
* `truncation`: the difference comes from a number cut off instead of rounded (1/1.327 = 0.7536
  printed as 0.753), in this line or in an input carried into it;
* `arithmetic error`: a printed step is wrong by more than any rounding or truncation
  ((0.1 − 0.753)² = 0.426 printed as 0.414);
* `not in article`: the bias updates, which the article leaves to the reader.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .article_network import (  # noqa: F401 (the audit's numbers are read from check.article too)
    BIASES,
    INPUTS,
    PARAMS,
    QUANTITY_INDEX,
    STATE_INDEX,
    TARGETS,
    WEIGHTS,
    ArticleGraph,
    build,
    state_dict,
)

LR = 0.5

DELTA_OF = {"delta_h1": "s_h1", "delta_h2": "s_h2", "delta_o1": "s_o1", "delta_o2": "s_o2"}


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# ---------------------------------------------------------------------- what the article prints


@dataclass(frozen=True)
class Step:
    """One printed step of a line: the expression, its value from the printed numbers, what is printed."""

    text: str
    value: float
    printed: str


@dataclass(frozen=True)
class Row:
    """One audited quantity: the article's formula for it, the numbers it put in, and what it printed.

    `formula(q)` reads earlier quantities and the initial parameters from `q` by name. `uses` holds
    the rounded numbers the article substituted for those names on this line.
    """

    name: str
    formula: Callable[[Mapping[str, float]], float]
    printed: str | None = None
    uses: Mapping[str, float] | None = None
    steps: tuple[Step, ...] = ()
    kind: str = "quantity"  # "quantity" (forward value or delta) or "update" (a parameter after the step)


T1, T2 = TARGETS
S = Step
ROWS: tuple[Row, ...] = (
    Row(
        "s_h1",
        lambda q: q["w1"] * q["i1"] + q["w2"] * q["i2"] + q["b_h1"],
        "1.288",
        {},
        (
            S("2.78 × 0.1", 2.78 * 0.1, "0.278"),
            S("2.55 × 0.2", 2.55 * 0.2, "0.51"),
            S("0.278 + 0.51 + 0.5", 1.288, "1.288"),
        ),
    ),
    Row(
        "a_h1",
        lambda q: _sigmoid(q["s_h1"]),
        "0.784",
        {"s_h1": 1.288},
        (S("e^-1.288", math.exp(-1.288), "0.275"), S("1 + 0.275", 1.275, "1.275"), S("1 / 1.275", 1 / 1.275, "0.784")),
    ),
    Row(
        "s_h2",
        lambda q: q["w3"] * q["i1"] + q["w4"] * q["i2"] + q["b_h2"],
        "1.974",
        {},
        (
            S("2.78 × 0.3", 2.78 * 0.3, "0.834"),
            S("2.55 × 0.4", 2.55 * 0.4, "1.02"),
            S("0.834 + 1.02 + 0.12", 1.974, "1.974"),
        ),
    ),
    Row(
        "a_h2",
        lambda q: _sigmoid(q["s_h2"]),
        "0.878",
        {"s_h2": 1.974},
        (S("e^-1.974", math.exp(-1.974), "0.138"), S("1 + 0.138", 1.138, "1.138"), S("1 / 1.138", 1 / 1.138, "0.878")),
    ),
    Row(
        "s_o1",
        lambda q: q["w5"] * q["a_h1"] + q["w6"] * q["a_h2"] + q["b_o1"],
        "1.118",
        {"a_h1": 0.783, "a_h2": 0.878},
        (
            S("0.783 × 0.5", 0.783 * 0.5, "0.391"),
            S("0.878 × 0.6", 0.878 * 0.6, "0.527"),
            S("0.391 + 0.527 + 0.2", 1.118, "1.118"),
        ),
    ),
    Row(
        "a_o1",
        lambda q: _sigmoid(q["s_o1"]),
        "0.753",
        {"s_o1": 1.118},
        (S("e^-1.118", math.exp(-1.118), "0.327"), S("1 + 0.327", 1.327, "1.327"), S("1 / 1.327", 1 / 1.327, "0.753")),
    ),
    Row(
        "s_o2",
        lambda q: q["w7"] * q["a_h1"] + q["w8"] * q["a_h2"] + q["b_o2"],
        "1.65",
        {"a_h1": 0.783, "a_h2": 0.878},
        (
            S("0.783 × 0.7", 0.783 * 0.7, "0.548"),
            S("0.878 × 0.8", 0.878 * 0.8, "0.702"),
            S("0.548 + 0.702 + 0.4", 1.65, "1.65"),
        ),
    ),
    Row(
        "a_o2",
        lambda q: _sigmoid(q["s_o2"]),
        "0.839",
        {"s_o2": 1.65},
        (S("e^-1.65", math.exp(-1.65), "0.192"), S("1 + 0.192", 1.192, "1.192"), S("1 / 1.192", 1 / 1.192, "0.839")),
    ),
    Row(
        "E",
        lambda q: 0.5 * ((T1 - q["a_o1"]) ** 2 + (T2 - q["a_o2"]) ** 2),
        "0.2085",
        {"a_o1": 0.753, "a_o2": 0.839},
        (
            S("(0.1 − 0.753)²", (0.1 - 0.753) ** 2, "0.414"),
            S("(0.9 − 0.839)²", (0.9 - 0.839) ** 2, "0.003"),
            S("½ (0.414 + 0.003)", 0.5 * (0.414 + 0.003), "0.2085"),
        ),
    ),
    Row(
        "delta_o1",
        lambda q: (q["a_o1"] - T1) * q["a_o1"] * (1 - q["a_o1"]),
        "0.121",
        {"a_o1": 0.753},
        (S("(0.753 − 0.1) × (0.753 × (1 − 0.753))", (0.753 - 0.1) * (0.753 * (1 - 0.753)), "0.121"),),
    ),
    Row(
        "delta_o2",
        lambda q: (q["a_o2"] - T2) * q["a_o2"] * (1 - q["a_o2"]),
        "-0.008",
        {"a_o2": 0.839},
        (S("(0.839 − 0.9) × (0.839 × (1 − 0.839))", (0.839 - 0.9) * (0.839 * (1 - 0.839)), "-0.008"),),
    ),
    Row(
        "delta_h1",
        lambda q: (q["w5"] * q["delta_o1"] + q["w7"] * q["delta_o2"]) * q["a_h1"] * (1 - q["a_h1"]),
        "0.009",
        {"delta_o1": 0.121, "delta_o2": -0.008, "a_h1": 0.784},
        (
            S(
                "((0.5 × 0.121) + (0.7 × -0.008)) × (0.784 × (1 − 0.784))",
                ((0.5 * 0.121) + (0.7 * -0.008)) * (0.784 * (1 - 0.784)),
                "0.009",
            ),
        ),
    ),
    Row(
        "delta_h2",
        lambda q: (q["w6"] * q["delta_o1"] + q["w8"] * q["delta_o2"]) * q["a_h2"] * (1 - q["a_h2"]),
        "0.007",
        {"delta_o1": 0.121, "delta_o2": -0.008, "a_h2": 0.878},
        (
            S(
                "((0.6 × 0.121) + (0.8 × -0.008)) × (0.878 × (1 − 0.878))",
                ((0.6 * 0.121) + (0.8 * -0.008)) * (0.878 * (1 - 0.878)),
                "0.007",
            ),
        ),
    ),
)


def _update(name: str, delta: str, source: str, printed: str | None, uses: dict[str, float] | None) -> Row:
    """w' = w − α δ x (x = the input the weight multiplies; 1 for a bias), and its printed line."""

    def formula(q: Mapping[str, float]) -> float:
        return q[name] - LR * q[delta] * (1.0 if source == "1" else q[source])

    steps: tuple[Step, ...] = ()
    if printed is not None and uses is not None:
        d, x = uses[delta], {"i1": INPUTS[0], "i2": INPUTS[1], **uses}[source]
        steps = (S(f"{PARAMS[name]:g} − 0.5 × {d:g} × {x:g}", PARAMS[name] - LR * d * x, printed),)
    return Row(name, formula, printed, uses, steps, kind="update")


ROWS += (
    _update("w1", "delta_h1", "i1", "0.087", {"delta_h1": 0.009}),
    _update("w2", "delta_h1", "i2", "0.189", {"delta_h1": 0.009}),
    _update("w3", "delta_h2", "i1", "0.290", {"delta_h2": 0.007}),
    _update("w4", "delta_h2", "i2", "0.391", {"delta_h2": 0.007}),
    _update("w5", "delta_o1", "a_h1", "0.453", {"delta_o1": 0.121, "a_h1": 0.784}),
    _update("w6", "delta_o1", "a_h2", "0.547", {"delta_o1": 0.121, "a_h2": 0.878}),
    _update("w7", "delta_o2", "a_h1", "0.703", {"delta_o2": -0.008, "a_h1": 0.784}),
    _update("w8", "delta_o2", "a_h2", "0.804", {"delta_o2": -0.008, "a_h2": 0.878}),
    _update("b_h1", "delta_h1", "1", None, None),
    _update("b_h2", "delta_h2", "1", None, None),
    _update("b_o1", "delta_o1", "1", None, None),
    _update("b_o2", "delta_o2", "1", None, None),
)
ROW_NAMES = tuple(row.name for row in ROWS)


# ---------------------------------------------------------------------- manual: the article's formulas


def manual_numbers() -> dict[str, float]:
    """Every row by the article's formulas, in order, in plain float arithmetic (no autodiff)."""
    q: dict[str, float] = {"i1": INPUTS[0], "i2": INPUTS[1], **PARAMS}
    out: dict[str, float] = {}
    for row in ROWS:
        out[row.name] = row.formula(q)
        if row.kind == "quantity":  # updates must not overwrite the initial parameter they start from
            q[row.name] = out[row.name]
    return out


def autodiff_numbers(engine: str = "value") -> dict[str, float]:
    """Every row from autodiff: forward values, δ = ∂E/∂s from backward, and w − α ∂E/∂w."""
    graph = build(engine)
    out: dict[str, float] = {}
    for name in ROW_NAMES:
        if name in graph.nodes:
            out[name] = graph.number(name)
        elif name in DELTA_OF:
            out[name] = graph.grad_of_node(DELTA_OF[name])
        else:
            out[name] = PARAMS[name] - LR * graph.grad(name)
    return out


# ---------------------------------------------------------------------- the audit


@dataclass
class AuditRow:
    """One line of the audit table (`to_dict` gives the JSON row)."""

    name: str
    printed: str | None
    autodiff: float
    manual: float
    verdict: str
    why: str

    @property
    def article(self) -> float | None:
        return None if self.printed is None else float(self.printed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "article": self.article,
            "autodiff": self.autodiff,
            "manual": self.manual,
            "verdict": self.verdict,
            "why": self.why,
        }


def audit(engine: str = "value") -> list[AuditRow]:
    """The full audit: one `AuditRow` per quantity in `ROW_NAMES`, verdicts computed from the numbers."""
    auto = autodiff_numbers(engine)
    manual = manual_numbers()
    exact = {"i1": INPUTS[0], "i2": INPUTS[1], **PARAMS}
    exact.update({row.name: auto[row.name] for row in ROWS if row.kind == "quantity"})
    rows = []
    for row in ROWS:
        verdict, why = _verdict(row, auto[row.name], exact)
        rows.append(AuditRow(row.name, row.printed, auto[row.name], manual[row.name], verdict, why))
    return rows


def disagreements(rows: list[AuditRow], tol: float = 1e-12) -> list[str]:
    """Names of the rows where autodiff and the manual formulas differ by more than `tol`."""
    return [r.name for r in rows if not abs(r.autodiff - r.manual) <= tol]


def why_sentences(why: str) -> list[str]:
    """A verdict's reason as short sentences, one per line: each clause the audit joined with ';' or ': '."""
    clauses = [c for part in why.split("; ") for c in part.split(": ") if c]
    clauses = [c for clause in clauses for c in re.split(r" \((?=the article )(.*)\)$", clause) if c]
    return [c[0].upper() + c[1:] + ("" if c.endswith(".") else ".") for c in clauses]


def format_table(rows: list[AuditRow]) -> str:
    """The audit as a text table, then the reason behind every verdict."""
    head = f"{'quantity':<9} {'article':>8} {'autodiff':>15} {'manual':>15} {'|auto-manual|':>13}  verdict"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.name:<9} {r.printed or '—':>8} {r.autodiff:>15.9f} {r.manual:>15.9f} "
            f"{abs(r.autodiff - r.manual):>13.1e}  {r.verdict}"
        )
    lines.append("")
    lines.append("why:")
    for r in rows:
        first, *rest = why_sentences(r.why)
        lines.append(f"  {r.name}: {first}")
        lines += [f"  {' ' * len(r.name)}  {sentence}" for sentence in rest]
    lines += ["", "verdicts:"] + [f"  {name:<16} {meaning}" for name, meaning in VERDICTS.items()]
    return "\n".join(lines)


# ---------------------------------------------------------------------- verdicts


VERDICTS = {
    "match": "the exact value rounds to the printed number",
    "rounding drift": "off only because the line used rounded numbers from earlier lines (the row says which)",
    "truncation": "off because a number was cut off instead of rounded, in this line or in one it uses",
    "arithmetic error": "a printed step is wrong by more than rounding or truncation (the row says which)",
    "not in article": "the article leaves this number to the reader",
}


def _verdict(row: Row, value: float, exact: Mapping[str, float]) -> tuple[str, str]:
    if row.printed is None:
        return "not in article", (
            f"the article prints no bias update (it leaves the rule to the reader: b' = b − α·δ); exact {value:.6f}"
        )
    printed, uses = row.printed, dict(row.uses or {})
    bad_steps = [_describe_step(s) for s in row.steps if not _rounds_to(s.value, s.printed)]
    notes = bad_steps + _inconsistent_uses(uses)
    carried = _carried_into(row)
    if _rounds_to(value, printed):
        why = f"exact {value:.6f} rounds to {printed}"
        if notes:
            why += "; the result is right, but " + "; ".join(notes)
        return "match", why
    recomputed = row.formula({**exact, **uses})
    if _rounds_to(recomputed, printed):
        inputs = ", ".join(f"{n} = {v:g}" for n, v in uses.items())
        why = (
            f"exact {value:.6f} rounds to {_rounded(value, printed)}, not {printed}; the article's line with its "
            f"rounded inputs ({inputs}) gives {recomputed:.6f} → {printed}: {_culprits(row, uses, exact)}"
        )
        cut = [n for n, v in uses.items() if _truncates_to(exact[n], f"{v:g}") and not _rounds_to(exact[n], f"{v:g}")]
        verdict = (
            "truncation"
            if cut and _culprits(row, uses, exact).startswith("the drift comes from " + cut[0])
            else "rounding drift"
        )
        if verdict == "truncation":
            why += f" ({cut[0]} = {exact[cut[0]]:.6f} was cut off to {uses[cut[0]]:g}, not rounded)"
        return verdict, why + "".join(f"; {n}" for n in notes) + carried
    parts = ["no rounding of the true values gives it"]
    parts += bad_steps
    if row.steps and _rounds_to(row.steps[-1].value, row.steps[-1].printed) and bad_steps:
        last = row.steps[-1]
        parts.append(f"the last step {last.text} = {last.printed} is right for the wrong terms it was given")
    parts.append(
        f"with the article's own inputs the formula gives {recomputed:.6f} → {_rounded(recomputed, printed)}, "
        f"and the exact value is {value:.6f} → {_rounded(value, printed)}"
    )
    parts += _inconsistent_uses(uses)
    wrong_steps = [st for st in row.steps if not _rounds_to(st.value, st.printed)]
    verdict = (
        "truncation"
        if wrong_steps and all(_truncates_to(st.value, st.printed) for st in wrong_steps)
        else "arithmetic error"
    )
    return verdict, "; ".join(parts) + carried


def _describe_step(step: Step) -> str:
    text = f"{step.text} = {step.value:.6f}, which rounds to {_rounded(step.value, step.printed)}, not {step.printed}"
    if _truncates_to(step.value, step.printed):
        text += f" (the article cut it off after {_decimals(step.printed)} decimals instead of rounding)"
    return text


def _culprits(row: Row, uses: Mapping[str, float], exact: Mapping[str, float]) -> str:
    """Which rounded input makes the difference: put back its exact value alone and see the result move."""
    blamed = []
    for name, number in uses.items():
        if number == exact[name]:
            continue
        alone = row.formula({**exact, **uses, name: exact[name]})
        if not _rounds_to(alone, row.printed or ""):
            blamed.append(
                f"{name} carried as {number:g} (exact {exact[name]:.6f}); with the exact {name} the line gives "
                f"{alone:.6f} → {_rounded(alone, row.printed or '')}"
            )
    if not blamed:
        return "the rounded inputs together, none alone"
    return "the drift comes from " + " and from ".join(blamed)


def _inconsistent_uses(uses: Mapping[str, float]) -> list[str]:
    printed = {row.name: row.printed for row in ROWS if row.kind == "quantity" and row.printed}
    return [
        f"it uses {name} = {number:g} although the article printed {name} ≈ {printed[name]}"
        for name, number in uses.items()
        if name in printed and float(printed[name]) != number
    ]


def _carried_into(row: Row) -> str:
    """Later rows that reuse this row's printed number (so its error travels)."""
    if row.kind != "quantity" or row.printed is None:
        return ""
    later = [r.name for r in ROWS if r.uses and r.uses.get(row.name) == float(row.printed)]
    return f"; the article carries {row.printed} into {', '.join(later)}" if later else ""


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _rounds_to(x: float, text: str) -> bool:
    """True if `x` rounded to the decimals of `text` is `text` (a tie may go either way)."""
    return abs(x - float(text)) <= 0.5 * 10 ** -_decimals(text) + 1e-12


def _rounded(x: float, text: str) -> str:
    out = f"{x:.{_decimals(text)}f}"
    return out[1:] if out.startswith("-") and float(out) == 0 else out


def _truncates_to(x: float, text: str) -> bool:
    scale = 10 ** _decimals(text)
    return abs(math.trunc(x * scale + math.copysign(1e-9, x)) / scale - float(text)) < 0.01 / scale


# ---------------------------------------------------------------------- --explain: back to the article's numbers

EXPLAINABLE = ("E", *QUANTITY_INDEX, *DELTA_OF, *PARAMS, "i1", "i2")


def explain_target(name: str) -> str:
    """The graph label `explain` needs for an audit name: δ_o1 is ∂E/∂s_o1, so `delta_o1` → `s_o1`."""
    if name not in EXPLAINABLE:
        raise KeyError(name)
    return DELTA_OF.get(name, name)


def link(name: str, rows: list[AuditRow] | None = None) -> str:
    """Where `name` appears in the article: the printed number next to the exact one, and the rounded inputs used."""
    rows = rows if rows is not None else audit("value")
    by_name = {r.name: r for r in rows}
    exact = {r.name: r.autodiff for r in rows}
    exact.update({"i1": INPUTS[0], "i2": INPUTS[1]})
    lines = ["in the article:"]
    if name in ("i1", "i2"):
        lines.append(
            f"  {name} = {exact[name]:g} is an input, not a parameter: the article never updates it; ∂E/∂{name} is "
            "what a layer below this network would receive as its δ"
        )
        return "\n".join(lines)
    if name in DELTA_OF:
        lines.append(f"  {name} is ∂E/∂{DELTA_OF[name]}, the gradient at the weighted sum (the explanation above)")
    row = next(r for r in ROWS if r.name == name)
    shown = by_name[name]
    if shown.printed is None:
        lines.append(f"  the article prints no value for {name}' (it leaves b' = b − α·δ to the reader)")
    else:
        what = "the updated value" if row.kind == "update" else "the value"
        lines.append(f"  {what}: printed {shown.printed}, exact {shown.autodiff:.6f}: {shown.verdict}")
        lines.append(f"  why: {shown.why}")
    for step in row.steps:
        lines.append(f"  the article's line: {step.text} = {step.printed} (exactly {step.value:.6f})")
    for used, number in (row.uses or {}).items():
        lines.append(f"  it uses {used} = {number:g}; exact {exact[used]:.6f}")
    if row.kind == "update":
        lines.append(f"  ({name}' = {name} − α · ∂E/∂{name} with α = {LR}; ∂E/∂{name} is the explanation above)")
    return "\n".join(lines)
