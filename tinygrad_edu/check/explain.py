"""Explain one gradient: the chain rule for ∂root/∂param, read off the recorded graph.

Every node of a scalar graph keeps its parents and the local derivative on each edge
(`_locals`). The chain rule says that ∂root/∂param is a sum over every path from root down to
param of the product of the local derivatives along that path:

    ∂E/∂w1 = ∂E/∂a_o1 · ∂a_o1/∂s_o1 · ∂s_o1/∂a_h1 · ∂a_h1/∂s_h1 · ∂s_h1/∂w1     (via o1)
           + ∂E/∂a_o2 · ∂a_o2/∂s_o2 · ∂s_o2/∂a_h1 · ∂a_h1/∂s_h1 · ∂s_h1/∂w1     (via o2)

`explain` enumerates those paths (iteratively) and writes each factor by the labels of its two
ends, as the article does. Unlabelled nodes in between (the `-`, `**2` and `*0.5` inside E) are
folded into one factor, whose value is the sum over the sub-paths it hides. The sum over paths is
then checked against the gradient that `backward()` computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import GraphError
from ..fused import edge_partners
from ..graph import walk
from ..value import Value


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
        return node is root or node is target or not fold_unlabelled or bool(node.label)

    # Group the full paths by their sequence of labelled nodes; each segment between two labelled
    # nodes gets the sum over the distinct unlabelled sub-paths it hides (a product of sums, so the
    # grouped total equals the sum over all full paths).
    groups: dict[tuple[int, ...], list[dict[tuple[tuple[int, int], ...], list[tuple[Value, int]]]]] = {}
    stops_of: dict[tuple[int, ...], list[Value]] = {}
    for edges in edge_paths:
        stops, segments, current = [root], [], []
        for node, index in edges:
            current.append((node, index))
            parent = node._parents[index]
            if is_stop(parent):
                stops.append(parent)
                segments.append(current)
                current = []
        key = tuple(id(n) for n in stops)
        stops_of[key] = stops
        per_segment = groups.setdefault(key, [{} for _ in segments])
        for store, segment in zip(per_segment, segments):
            store[tuple((id(n), i) for n, i in segment)] = segment
    paths = []
    for key, per_segment in groups.items():
        stops = stops_of[key]
        factors = []
        for k, store in enumerate(per_segment):
            value = math.fsum(math.prod(n._locals[i] for n, i in seg) for seg in store.values())
            symbol = _symbol(list(store.values()), names)
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
    found = [n for n in nodes if n.label == param]
    if len(found) != 1:
        labels = sorted({n.label for n in nodes if n.label})
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
        names[node] = node.label or f"n{k}:{node._op or 'leaf'}"
    if not root.label:
        names[root] = "root"
    return names


def _reaching(nodes: list[Value], target: Value) -> set[Value]:
    """The nodes from which `target` can be reached through parents (target included)."""
    reaches = {target}
    for node in reversed(nodes):  # oldest first: parents are decided before their children
        if any(p in reaches for p in node._parents):
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
        for index in reversed(range(len(node._parents))):
            parent = node._parents[index]
            if parent in reaches and (parent.requires_grad or parent is target):
                stack.append((parent, [*edges, (node, index)]))
    return paths


# ---------------------------------------------------------------------- symbols


def _symbol(sub_paths: list[list[tuple[Value, int]]], names: dict[Value, str]) -> str:
    """The derivative's form: the op's rule for one edge, else the product of the hidden edges."""
    forms = []
    for seg in sub_paths:
        parts = [_edge_symbol(node, index, names) for node, index in seg]
        kept = [p for p in parts if p != "1"] or ["1"]  # a "+" passes the gradient through unchanged
        forms.append(" · ".join(kept))
    return " + ".join(f"({f})" if len(forms) > 1 else f for f in forms)


def _edge_symbol(node: Value, index: int, names: dict[Value, str]) -> str:
    op, parents, local = node._op, node._parents, node._locals[index]
    me, x = names[node], _expr(parents[index], names)
    if op == "sigmoid":
        return f"{me}·(1 − {me})"
    if op == "tanh":
        return f"1 − {me}²"
    if op == "exp":
        return me
    if op == "log":
        return f"1/{x}"
    if op == "+":
        return "1"
    if op == "*" and len(parents) == 2:
        return names[parents[1 - index]]  # d(x·y)/dx = y
    if op == "Σw·x":
        partner = edge_partners(node).get(index)
        return names[parents[partner]] if partner is not None else _num(local)  # ∂s/∂w = x, ∂s/∂x = w, ∂s/∂b = 1
    if op.startswith("**") and op != "**":
        k = float(op[2:])
        return f"{_num(k)}·{x}" if k == 2 else f"{_num(k)}·{x}^{_num(k - 1)}"
    return _num(local)


def _expr(node: Value, names: dict[Value, str]) -> str:
    """A short formula for an unlabelled node made from a labelled one by a few number ops.

    `(a_o1 + -0.1) ** 2` is recorded as `**2 ← + ← a_o1`; this reads that chain back as
    `(a_o1 − 0.1)`, so a folded factor reads like the article (`2·(a_o1 − 0.1)`), and falls back
    to the node's value when the chain is longer or branches.
    """
    chain = []
    base = node
    while not base.label and len(base._parents) == 1 and len(chain) < 4:
        chain.append(base)
        base = base._parents[0]
    if not base.label and base._parents:
        return _num(node.data)
    text = names[base] if base.label else _num(base.data)
    for step in reversed(chain):
        parent, op = step._parents[0], step._op
        if op == "+":
            c = step.data - parent.data
            text = f"({text} {'+' if c >= 0 else '−'} {_num(abs(c))})"
        elif op == "*":
            c = step._locals[0]
            text = f"−{text}" if c == -1 else f"{_num(c)}·{text}"
        elif op.startswith("**") and op != "**":
            text = f"{text}^{op[2:]}"
        else:
            return _num(node.data)
    return text


def _num(x: float) -> str:
    return f"{x:.6g}"
