"""The loss as one step: E = ½·(target_o1 − a_o1)² + ½·(target_o2 − a_o2)², forward and backward.

A loss written in Value ops is half the graph (`−a_o1`, `(target_o1 − a_o1)`, `…²`, `½·…`, `+`),
while the article derives it in one line: ∂E/∂a_o1 = ½ · 2·(target_o1 − a_o1) · −1. Folding the
nodes between the model's outputs and the root (the *loss region*) gives one forward step that
writes the whole formula, and one backward step whose local derivative for each output is the
product of the local derivatives on the way, in the engine's order, so the page's gradients stay
bitwise equal to `.grad`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ArgumentError
from ..symbolic import NEG, PRODUCT, SUM, Symbol, local_forms

Graph = Any  # a `trace.Graph` (trace imports this module, so its type is not imported back)


def short(x: float) -> str:
    """Six significant digits, as the steps print their arithmetic (here and in `trace.py`)."""
    return f"{x:.6g}"


@dataclass
class Fold:
    """The loss region of a scalar graph: `nodes` (folded into the root), `entries` (the model's outputs it reads),
    `constants` (leaves only the loss reads: targets, ½)."""

    nodes: set[int]
    entries: list[int]
    constants: set[int]


def loss_region(graph: Graph, entries: list[int]) -> Fold:
    """Every result between `entries` and the root; refused if the loss reads a parameter (its gradient would hide)."""
    if graph.is_tensor:
        raise ArgumentError("to_html: fold_loss works on scalar (Value) graphs; pass fold_loss=False for a Tensor")
    stop = set(entries)
    nodes, constants, stack = set(), set(), [graph.root]
    while stack:
        i = stack.pop()
        if i in nodes or i in stop:
            continue
        if graph.ops[i] is None:
            if graph.tracked[i]:
                raise ArgumentError(
                    f"to_html: the loss reads {graph.names[i]}, which requires grad, so it cannot be folded; "
                    "pass the model's outputs as fold_loss=[...] (or fold_loss=False)"
                )
            constants.add(i)
            continue
        nodes.add(i)
        stack.extend(graph.parents[i])
    readers = [p for i in range(len(graph.nodes)) if i not in nodes for p in graph.parents[i]]
    constants -= set(readers)  # a constant the model reads too stays drawn
    return Fold(nodes, [e for e in entries if e not in nodes], constants)


def formula(graph: Graph, fold: Fold, numeric: bool) -> str:
    """The root written out over the region, with names (numeric=False) or numbers: `½·(target_o1 − a_o1)² + …`."""
    return _write(graph, fold, graph.root, numeric)[0]


def _write(graph: Graph, fold: Fold, i: int, numeric: bool) -> tuple[str, int]:
    """(text, how tightly it binds) of node i inside the region; outside it, its name or number."""
    names, ps = graph.names, graph.parents[i]
    if i not in fold.nodes:
        x = float(graph.nodes[i].data)
        if numeric:
            return short(x), (NEG if x < 0 else 4)
        return names[i], Symbol.named(names[i], x).rank
    op, local = graph.ops[i], graph.locals[i] or []
    parts = [_write(graph, fold, p, numeric) for p in ps]

    def wrap(part: tuple[str, int], rank: int) -> str:
        return f"({part[0]})" if part[1] < rank else part[0]

    if op == "*" and len(ps) == 1 and local == [-1.0]:
        return f"−{wrap(parts[0], PRODUCT)}", NEG
    if op == "+" and len(ps) == 2 and graph.ops[ps[1]] == "*" and graph.locals[ps[1]] == [-1.0] and ps[1] in fold.nodes:
        minus = _write(graph, fold, graph.parents[ps[1]][0], numeric)
        return f"{parts[0][0]} − {wrap(minus, PRODUCT)}", SUM
    if op == "+":
        rest = [] if len(ps) > 1 else [short(float(graph.nodes[i].data) - float(graph.nodes[ps[0]].data))]
        return " + ".join([p[0] for p in parts] + rest), SUM
    if op == "*" and len(ps) == 2:
        return f"{wrap(parts[0], PRODUCT)}·{wrap(parts[1], PRODUCT)}", PRODUCT
    if op == "*":
        return f"{short(local[0])}·{wrap(parts[0], PRODUCT)}", PRODUCT
    if op.startswith("**"):
        power = {"2": "²", "3": "³"}.get(op[2:], "^" + op[2:])
        return f"{wrap(parts[0], 4)}{power}", PRODUCT + 1
    return f"{op}({', '.join(p[0] for p in parts)})", 4


def folded_edges(graph: Graph, fold: Fold) -> list[tuple[int, float, str]]:
    """(output, ∂root/∂output, its formula) for each output the loss reads, in the engine's order.

    The derivative is accumulated as the engine does it (`d[p] += local * d[i]`, newest node first,
    from d[root] = 1), so root.grad = 1 times it is bitwise the engine's `output.grad` from the loss.
    The formula is the product of the local derivatives' forms on the way (`½ · 2·(target_o1 − a_o1) · −1`);
    an output reached by several paths gets their sum.
    """
    d: dict[int, float] = {graph.root: 1.0}
    forms: dict[int, list[list[str]]] = {graph.root: [[]]}
    for i in graph.backward_order:
        if i not in fold.nodes:
            continue
        out = Symbol.named(graph.names[i], graph.nodes[i].data)
        inputs = [Symbol.named(graph.names[p], graph.nodes[p].data) for p in graph.parents[i]]
        symbols = [form.wrapped(NEG) for form in local_forms(graph.nodes[i], out, inputs)]
        for p, local, symbol in zip(graph.parents[i], graph.locals[i] or [], symbols):
            if not graph.tracked[p]:
                continue
            d[p] = d.get(p, 0.0) + local * d[i]
            step = [] if symbol == "1" else [symbol]
            forms.setdefault(p, []).extend(path + step for path in forms[i])
    edges = []
    for e in sorted(fold.entries, key=graph.backward_order.index):
        paths = [" · ".join(path) or "1" for path in forms.get(e, [])]
        edges.append((e, d.get(e, 0.0), " + ".join(paths) if len(paths) <= 2 else short(d.get(e, 0.0))))
    return edges
