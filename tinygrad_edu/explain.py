"""Explain one gradient: the chain rule for ∂root/∂param, read off the recorded graph.

Every node of a scalar graph keeps its parents and the local derivative on each edge
(`local_derivatives`, read through `graph.Node`'s protocol). The chain rule says that ∂root/∂param
is a sum over every path from root down to param of the product of the local derivatives along
that path:

    ∂E/∂w1 = ∂E/∂a_o1 · ∂a_o1/∂s_o1 · ∂s_o1/∂a_h1 · ∂a_h1/∂s_h1 · ∂s_h1/∂w1     (via o1)
           + ∂E/∂a_o2 · ∂a_o2/∂s_o2 · ∂s_o2/∂a_h1 · ∂a_h1/∂s_h1 · ∂s_h1/∂w1     (via o2)

`explain` enumerates those paths (iteratively) and writes each factor by the labels of its two
ends, as the article does. Unlabelled nodes in between (the `-`, `**2` and `*0.5` inside E) are
folded into one factor, whose value is the sum over the sub-paths it hides. The sum over paths is
then checked against the gradient that `backward()` computed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import GraphError
from .graph import walk
from .symbolic import NEG, Symbol, forward, local_forms, number
from .value import Value


@dataclass
class Factor:
    """One ∂upper/∂lower of a path: `symbol` is its form (`a_o1·(1 − a_o1)`), `value` its number."""

    upper: str
    lower: str
    symbol: str
    value: float

    @property
    def name(self) -> str:
        return f"∂{self.upper}/∂{self.lower}"


@dataclass
class Path:
    """The labelled nodes from root to param, the factors between them, and their product."""

    nodes: list[str]
    factors: list[Factor]

    @property
    def product(self) -> float:
        return math.prod(f.value for f in self.factors)


@dataclass
class Explanation:
    """∂root/∂param as a sum over paths; `total` is that sum, `autodiff` is `param.grad`."""

    root: str
    param: str
    paths: list[Path]
    autodiff: float | None  # None for a node backward leaves no .grad on (an input with requires_grad=False)
    graph_nodes: int = 0

    @property
    def total(self) -> float:
        return math.fsum(p.product for p in self.paths)

    @property
    def matches(self) -> bool:
        if self.autodiff is None:
            return True  # nothing to compare with: the sum over paths is the only gradient there is
        return math.isclose(self.total, self.autodiff, rel_tol=1e-9, abs_tol=1e-12)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "param": self.param,
            "paths": [
                {
                    "nodes": p.nodes,
                    "factors": [{"name": f.name, "symbol": f.symbol, "value": f.value} for f in p.factors],
                    "product": p.product,
                }
                for p in self.paths
            ],
            "total": self.total,
            "autodiff": self.autodiff,
            "matches": self.matches,
        }

    def __str__(self) -> str:
        plural = "path" if len(self.paths) == 1 else "paths"
        lines = [
            f"∂{self.root}/∂{self.param}: {len(self.paths)} {plural} from {self.root} to {self.param} "
            f"(walked {self.graph_nodes} graph nodes)",
        ]
        if self.root == self.param:
            return (
                f"∂{self.root}/∂{self.root} = 1: the chain rule starts here, every backward pass seeds the loss's "
                f"own gradient with 1 (autodiff {self.root}.grad = {self.autodiff:+.1f})"
            )
        for k, path in enumerate(self.paths, 1):
            lines.append(f"\npath {k}: {' → '.join(path.nodes)}")
            lines.append("  " + " · ".join(f.name for f in path.factors))
            width = max((len(f.name) for f in path.factors), default=7)
            for f in path.factors:
                lines.append(f"  {f.name:<{width}} = {f.symbol:<28} = {f.value:+.9f}")
            lines.append(f"  {'product':<{width}}   {'':<28} = {path.product:+.9f}")
        if len(self.paths) > 1:
            terms = " + ".join(f"({p.product:+.9f})" for p in self.paths)
            lines.append(f"\nsum over paths = {terms}")
        if self.autodiff is None:
            lines.append(
                f"∂{self.root}/∂{self.param} = {self.total:+.12f}   ({self.param} is not a parameter: it was created "
                "with requires_grad=False, so backward leaves it no .grad; the sum over paths is its gradient)"
            )
            return "\n".join(lines)
        verdict = "equal" if self.matches else "DIFFERENT"
        lines.append(
            f"∂{self.root}/∂{self.param} = {self.total:+.12f}   autodiff {self.param}.grad = {self.autodiff:+.12f}"
            f"   ({verdict}, |difference| = {abs(self.total - self.autodiff):.1e})"
        )
        return "\n".join(lines)


def explain(root: Value, param: Value | str, *, fold_unlabelled: bool = True, max_paths: int = 10_000) -> Explanation:
    """The chain rule for ∂root/∂param, worked out path by path from the recorded graph.

    `param` is a node of the graph or its label. If no backward pass has reached `param` yet,
    `root.backward()` is run first (leaves' grads accumulate, as always). With
    `fold_unlabelled=False` every node is its own factor (unlabelled ones are named `n3:sigmoid`).
    """
    if not isinstance(root, Value):
        raise GraphError(
            f"explain: root is a {type(root).__name__}, but explain reads the scalar engine's graph; build the "
            "computation with Value (e.g. the article network with engine='value')"
        )
    nodes = walk(root)  # newest first
    target = _find(nodes, param, root)
    if target.grad is None and target.requires_grad:
        root.backward()
    names = _names(nodes, root, target)
    if target is root:
        return Explanation(names[root], names[root], [Path([names[root]], [])], 1.0, graph_nodes=len(nodes))
    reaches = _reaching(nodes, target)
    if target not in reaches or root not in reaches:
        raise GraphError(f"explain: {names[target]} is not an input of {names[root]}, so ∂{names[root]}/∂ is 0")
    edge_paths = _edge_paths(root, target, reaches, max_paths)

    def is_stop(node: Value) -> bool:
        return node is root or node is target or not fold_unlabelled or bool(node.name)

    # Group the full paths by their sequence of labelled nodes; each segment between two labelled
    # nodes gets the sum over the distinct unlabelled sub-paths it hides (a product of sums, so the
    # grouped total equals the sum over all full paths).
    groups: dict[tuple[int, ...], list[dict[tuple[tuple[int, int], ...], list[tuple[Value, int]]]]] = {}
    stops_of: dict[tuple[int, ...], list[Value]] = {}
    for edges in edge_paths:
        stops, segments, current = [root], [], []
        for node, index in edges:
            current.append((node, index))
            parent = node.parents[index]
            if is_stop(parent):
                stops.append(parent)
                segments.append(current)
                current = []
        key = tuple(id(n) for n in stops)
        stops_of[key] = stops
        per_segment = groups.setdefault(key, [{} for _ in segments])
        for store, segment in zip(per_segment, segments):
            store[tuple((id(n), i) for n, i in segment)] = segment
    forms: dict[Value, list[Symbol]] = {}

    def by_name(node: Value) -> bool:  # a formula names the labelled nodes, root and param; the rest by their ops
        return node is root or node is target or bool(node.name)

    def edge_forms(node: Value) -> list[Symbol]:
        """∂node/∂parent per edge, from the op's rule; written once per node."""
        if node not in forms:
            out, parents = _expr(node, names, by_name), [_expr(p, names, by_name) for p in node.parents]
            forms[node] = local_forms(node, out, parents)
        return forms[node]

    paths = []
    for key, per_segment in groups.items():
        stops = stops_of[key]
        factors = []
        for k, store in enumerate(per_segment):
            value = math.fsum(math.prod(n.local_derivatives[i] for n, i in seg) for seg in store.values())
            symbol = _symbol(list(store.values()), edge_forms)
            factors.append(Factor(names[stops[k]], names[stops[k + 1]], symbol, value))
        paths.append(Path([names[n] for n in stops], factors))
    grad = None if target.grad is None else float(target.grad)
    return Explanation(names[root], names[target], paths, grad, graph_nodes=len(nodes))


# ---------------------------------------------------------------------- graph helpers


def _find(nodes: list[Value], param: Value | str, root: Value) -> Value:
    if isinstance(param, Value):
        if not any(n is param for n in nodes):
            raise GraphError(f"explain: {param!r} is not in the graph of the root; pass a node root was computed from")
        return param
    found = [n for n in nodes if n.name == param]
    if len(found) != 1:
        labels = sorted({n.name for n in nodes if n.name})
        what = "no node" if not found else f"{len(found)} nodes"
        raise GraphError(
            f"explain: {what} labelled {param!r} in the graph; labels there: {', '.join(labels) or 'none'} "
            "(pass the Value itself, or give it a unique label)"
        )
    return found[0]


def _names(nodes: list[Value], root: Value, target: Value) -> dict[Value, str]:
    """A display name per node: its label, else `n<k>:<op>` (k counts from the oldest node)."""
    names = {}
    for k, node in enumerate(reversed(nodes)):
        names[node] = node.name or f"n{k}:{node.op or 'leaf'}"
    if not root.name:
        names[root] = "root"
    return names


def _reaching(nodes: list[Value], target: Value) -> set[Value]:
    """The nodes from which `target` can be reached through parents (target included)."""
    reaches = {target}
    for node in reversed(nodes):  # oldest first: parents are decided before their children
        if any(p in reaches for p in node.parents):
            reaches.add(node)
    return reaches


def _edge_paths(root: Value, target: Value, reaches: set[Value], max_paths: int) -> list[list[tuple[Value, int]]]:
    """Every path from root to target as a list of edges (node, parent index), depth first, no recursion."""
    paths: list[list[tuple[Value, int]]] = []
    stack: list[tuple[Value, list[tuple[Value, int]]]] = [(root, [])]
    while stack:
        node, edges = stack.pop()
        if node is target:
            paths.append(edges)
            if len(paths) > max_paths:
                raise GraphError(
                    f"explain: more than {max_paths} paths lead from the root to this parameter; explain is for "
                    "small graphs (the gradient itself is in .grad), or raise max_paths"
                )
            continue
        for index in reversed(range(len(node.parents))):
            parent = node.parents[index]
            if parent in reaches and (parent.requires_grad or parent is target):
                stack.append((parent, [*edges, (node, index)]))
    return paths


# ---------------------------------------------------------------------- symbols
# Each edge's form is its op's rule from value.py, written out by `symbolic.local_forms`.


def _symbol(sub_paths: list[list[tuple[Value, int]]], edge_forms: Callable[[Value], list[Symbol]]) -> str:
    """The derivative's form: the op's rule for one edge, else the product of the hidden edges."""
    products = []
    for seg in sub_paths:
        parts = [edge_forms(node)[index] for node, index in seg]
        kept = [p for p in parts if p.text != "1"]  # a "+" passes the gradient through unchanged
        if len(kept) == 1:
            products.append(kept[0].text)
        else:  # `0.5 · 2·(a_o1 − 0.1)`; a sum among the factors gets parentheses
            products.append(" · ".join(p.wrapped(NEG) for p in kept) or "1")
    return " + ".join(f"({f})" if len(products) > 1 else f for f in products)


def _expr(node: Value, names: dict[Value, str], shown: Callable[[Value], bool], limit: int = 6) -> Symbol:
    """A node in a formula: by its name if `shown` says so (a label), else as the few ops that made it.

    `(a_o1 + -0.1) ** 2` is recorded as `**2 ← + ← a_o1`; replaying the ops of the unlabelled nodes
    on a stand-in for a_o1 reads `(a_o1 − 0.1)²`, so a folded factor reads like the article
    (`2·(a_o1 − 0.1)`). A node made by more than `limit` unnamed ops, or by one that has no formula,
    keeps its name (`n25:+`).
    """
    hidden: set[Value] = set()  # the unnamed nodes that make this one, down to named nodes and leaves
    stack = [node]
    while stack:
        n = stack.pop()
        if shown(n) or not n.parents or n in hidden:
            continue
        hidden.add(n)
        if len(hidden) > limit:
            return Symbol.named(names[node], node.data)
        stack.extend(n.parents)
    made: dict[Value, Symbol] = {}
    for n in sorted(hidden, key=lambda n: n.order):  # parents before children
        made[n] = forward(n, [made.get(p) or _named(p, names, shown) for p in n.parents])
        if made[n] is None:
            return Symbol.named(names[node], node.data)
    formula = made.get(node) or _named(node, names, shown)
    if len(formula.text) > 30:
        return Symbol.named(names[node], node.data)
    return Symbol(formula.text, node.data, formula.rank)  # the node's own number, not the replay's rounding


def _named(node: Value, names: dict[Value, str], shown: Callable[[Value], bool]) -> Symbol:
    """A named node by its name; an unnamed leaf (a constant) by its number."""
    return Symbol.named(names[node] if shown(node) or node.parents else number(node.data), node.data)
