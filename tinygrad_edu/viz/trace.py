"""The timeline of one forward and one backward pass, read off a recorded graph, with the real numbers.

The forward pass is replayed one result at a time in creation order (leaves are known from the
start); the backward pass one node at a time, newest first (`walk`, the order of `Value.backward`), each
step doing what `Value.backward` does for that node: `parent.grad += local * node.grad` on every
edge, so a node that feeds several others shows its gradient as a running sum.

`read_graph` is the one place that reads the engines' internals (parents, local derivatives, op,
names); everything else here works on its plain lists.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import article_names, ops
from ..errors import ArgumentTypeError, GraphError
from ..fused import edge_partners
from ..graph import walk
from ..nn.engines import engine_of
from ..symbolic import NEG, Symbol, local_forms
from .fold import Fold, folded_edges, formula, short
from .labels import array, number
from .labels import param_names as param_names_of

MAX_ARRAY = 36  # a tensor with at most this many elements (6×6) shows its values; bigger ones a summary
MAX_EXPLAIN = 200  # scalar graphs up to this many nodes get the full `explain` trace for each node
MAX_PATHS = 64  # ... of the nodes reached by at most this many paths (a trace longer than that is not read)


@dataclass
class Graph:
    """A recorded graph as plain lists, oldest node first (the index is the `v<i>` of `draw`)."""

    nodes: list[Any]
    parents: list[list[int]]  # indices of each node's inputs, in the engine's edge order
    locals: list[list[float] | None]  # d node / d parent per edge (scalar engine); None for tensors
    ops: list[str | None]  # the op that made the node; None for a leaf
    docs: list[str]  # the op's rule, first line of its docstring (tensor engine), else ''
    orders: list[int]  # creation ticks (module calls are found by them)
    names: list[str]  # a name for every node: label/name, parameter name, else made from its op
    drawn_names: list[str]  # the name `draw` writes on the node ('' when it writes none)
    tracked: list[bool]  # requires_grad
    backward_order: list[int]  # the engine's order: newest first, only nodes that require grad
    is_tensor: bool
    root: int


def node_record(node: Any, is_tensor: bool) -> tuple[list[Any], list[float] | None, str | None, str, str | None, int]:
    """THE adapter: one node as (parents, local derivatives, op name, op rule, own name, creation tick).

    It reads a node through `graph.Node`'s protocol (`parents`, `op`, `local_derivatives`, `order`),
    as drawing and explain do; a tensor op's rule is the first line of its class's docstring in ops.py.
    """
    parents = [p for p in node.parents if p is not None]
    if is_tensor:
        op = node.op
        doc = (_OPS[op].__doc__ or "").strip().splitlines()[0] if op is not None else ""
        return parents, None, op, doc, node.name, node.order
    local = [float(x) for x in node.local_derivatives]
    return parents, local, node.op, "", node.name, node.order


_OPS = {op.__name__: op for op in ops.TABLE}  # the tensor engine's ops by name


def read_graph(root: Any, params: Any = None) -> Graph:
    """The graph ending in `root` (a `Value` or a `Tensor`) as plain lists, read through `node_record`."""
    if not hasattr(root, "data") or not hasattr(root, "parents"):
        raise ArgumentTypeError(
            f"to_html: expected a Value or a Tensor (the end of a graph), got {type(root).__name__}"
        )
    is_tensor = engine_of(root) == "tensor"
    nodes = walk(root)[::-1]
    if is_tensor and len(nodes) == 1:
        raise GraphError(
            "to_html: this tensor has no recorded graph (a leaf, or a graph released by backward); "
            "call loss.backward(retain_graph=True) so the graph is kept, then make the page"
        )
    index = {id(node): i for i, node in enumerate(nodes)}
    param_names = param_names_of(params, "to_html")
    parents, locals_, ops, docs, orders, names, drawn = [], [], [], [], [], [], []
    for i, node in enumerate(nodes):
        inputs, local, op, doc, own, order = node_record(node, is_tensor)
        ins = [index[id(p)] for p in inputs]
        parents.append(ins)
        locals_.append(local)
        ops.append(op)
        docs.append(doc)
        orders.append(order)
        shown = str(param_names.get(id(node)) or own or "")
        drawn.append(shown)
        data = [*(p.data for p in inputs), node.data]  # the inputs' values, then its own
        names.append(shown or _expression(op, [names[p] for p in ins], data, local, i))
    if not drawn[-1]:  # what `draw` colours as the output; a scalar that backward starts from is the loss
        names[-1] = "loss" if np.size(root.data) == 1 and root.requires_grad else "output"
    order = [index[id(n)] for n in walk(root, grad_only=True)] if root.requires_grad else []
    tracked = [bool(n.requires_grad) for n in nodes]
    return Graph(
        nodes, parents, locals_, ops, docs, orders, names, drawn, tracked, order, is_tensor, root=len(nodes) - 1
    )


_UNNAMED = re.compile(r" #\d+$")


def _expression(op: str | None, inputs: list[str], data: list[Any], local: list[float] | None, i: int) -> str:
    """A name for a node nobody named, from its op and its inputs' names: `(0.1 − a_o1)²`; `n<i>` if long."""
    if op is None or not inputs or any(_UNNAMED.search(name) for name in inputs):
        return f"{op or 'leaf'} #{i}"  # the page writes this name on the node's box, so a step's names are found
    if local is not None and len(inputs) == 1 and op in ("+", "*"):
        a = inputs[0]
        if op == "*":
            text = f"−{a}" if local[0] == -1 else f"{local[0]:.6g}·{a}"
        else:
            c = float(data[-1]) - float(data[0])  # `x + 3` keeps the 3 only inside its result
            text = f"({c:.6g} − {a[1:]})" if a.startswith("−") else f"({a} {'+' if c >= 0 else '−'} {abs(c):.6g})"
    elif op.startswith("**") and len(inputs) == 1:
        text = f"{inputs[0]}{_power(op[2:])}"
    elif op == "+" and len(inputs) == 2 and inputs[1].startswith("−"):
        text = f"({inputs[0]} − {inputs[1][1:]})"  # x - y is recorded as x + (−y): written as the user wrote it
    elif op in ("+", "*") and len(inputs) == 2:
        text = f"({inputs[0]} + {inputs[1]})" if op == "+" else f"{inputs[0]}·{inputs[1]}"
    else:
        text = f"{op}({', '.join(inputs)})"
    return text if len(text) <= 30 else f"{op} #{i}"


# ---------------------------------------------------------------------- numbers as the page shows them


def decimal(x: float) -> str:
    """A float as a plain decimal (no exponent), exact to the shortest round-trip digits: 0.0951087..."""
    text = repr(float(x))
    if "e" not in text and "n" not in text:  # the common case, fast: repr is already plain and shortest
        return text[:-2] if text.endswith(".0") else text
    if not math.isfinite(x):
        return text
    text = np.format_float_positional(x, unique=True, trim="-")
    return "0" if text == "-0" else text


def _power(exponent: str) -> str:
    return {"2": "²", "3": "³"}.get(exponent, "^" + exponent)


def _operand(x: float) -> str:
    """A number where it is multiplied or raised: in parentheses when negative, so (−0.65)² is not −(0.65²)."""
    return f"({short(x)})" if x < 0 else short(x)


def tensor_text(a: np.ndarray, symbol: str = "x") -> tuple[str, str, str]:
    """(exact, on the node, in the side panel) for an array: all values when small, else a summary.

    A summary writes the norm as the drawing does: ‖x‖ for values, ‖g‖ for gradients (symbol="g").
    """
    a = np.asarray(a)
    if a.size <= MAX_ARRAY:
        exact = "[" + ", ".join(decimal(float(x)) for x in a.ravel()) + "]" if a.ndim else decimal(float(a))
        return exact, array(a) if a.size <= 6 else f"‖{symbol}‖ = {number(float(np.linalg.norm(a)))}", array(a)
    norm, lo, hi = (float(np.linalg.norm(a)), float(a.min()), float(a.max())) if a.size else (0.0, 0.0, 0.0)
    summary = f"‖{symbol}‖ = {short(norm)}, min {short(lo)}, max {short(hi)}"
    return summary, f"‖{symbol}‖ = {number(norm)}", summary


# ---------------------------------------------------------------------- the timeline


@dataclass
class Timeline:
    """What the page replays: a start state, then one step per forward result and per backward node."""

    graph: Graph
    start_values: list[str | float | None]  # value per node before step 1 (leaves only): float, or text (tensors)
    start_shown: list[str | None]
    steps: list[dict[str, Any]] = field(default_factory=list)


def timeline(graph: Graph, fold: Fold | None = None, lr: float | None = None) -> Timeline:
    """Forward steps (creation order), a seed step (root.grad = 1), backward steps (engine order), an update step.

    fold: a `fold.Fold` (scalar graphs): its loss nodes are one forward and one backward step.
    lr:   if given, a last step writes the update p′ = p − lr · p.grad for every named parameter.
    """
    n = len(graph.nodes)
    start = [None] * n
    start_shown = [None] * n
    for i, node in enumerate(graph.nodes):
        if graph.ops[i] is None:
            start[i], start_shown[i] = _value_text(graph, node)
    out = Timeline(graph, start, start_shown)
    folded = fold.nodes - {graph.root} if fold is not None else set()
    for i, node in enumerate(graph.nodes):
        if graph.ops[i] is None or i in folded:
            continue
        exact, shown = _value_text(graph, node)
        step = {"kind": "forward", "node": i, "parents": graph.parents[i], "value": exact, "shown": shown}
        if fold is not None and i == graph.root:
            step["parents"] = fold.entries
            step["text"] = _folded_forward_text(graph, fold)
            step["also"] = [[j, *_value_text(graph, graph.nodes[j])] for j in sorted(folded)]
        else:
            step["text"] = forward_text(graph, i)
        out.steps.append(step)
    if not graph.backward_order:
        return out
    if graph.is_tensor:
        _tensor_backward(graph, out)
    else:
        grads = _scalar_backward(graph, out, fold)
        if lr is not None:
            out.steps.append(_update(graph, grads, lr))
    return out


def _folded_forward_text(graph: Graph, fold: Fold) -> list[str]:
    name = graph.names[graph.root]
    return [
        f"{name} = {formula(graph, fold, False)}",
        f"= {formula(graph, fold, True)}",
        f"= {short(graph.nodes[graph.root].data)}",
    ]


def _update(graph: Graph, grads: list[float], lr: float) -> dict[str, Any]:
    """The step after backward, as the article ends: w′ = w − α · ∂E/∂w for each named parameter."""
    params = [i for i in range(len(graph.nodes)) if graph.ops[i] is None and graph.tracked[i] and graph.drawn_names[i]]
    order = {name: k for k, name in enumerate(article_names.PARAMETERS)}
    params.sort(key=lambda i: (order.get(graph.names[i], len(order)), i))
    text = []
    for i in params:
        node, name, grad = graph.nodes[i], graph.names[i], grads[i]
        new = float(node.data) - lr * grad
        text.append(f"{name}′ = {short(node.data)} − {short(lr)} × {_operand(grad)} = {short(new)}")
    return {"kind": "update", "node": graph.root, "params": params, "lr": lr, "text": text}


def _value_text(graph: Graph, node: Any) -> tuple[str | float, str]:
    if graph.is_tensor:
        exact, shown, _ = tensor_text(node.data)
        return exact, shown
    return json_number(node.data), number(node.data)


def forward_text(graph: Graph, i: int) -> list[str]:
    """`s_h1 = w1·i1 + w2·i2 + b_h1`, `= 0.15×2.78 + 0.2×2.55 + 0.35`, `= 1.288` (scalar); shape and rule (tensor)."""
    node, op, names = graph.nodes[i], graph.ops[i], graph.names
    ps = graph.parents[i]
    if graph.is_tensor:
        inputs = ", ".join(names[p] for p in ps)
        doc = graph.docs[i]
        shape = f"{tuple(node.data.shape)} {node.data.dtype}"
        _, _, panel = tensor_text(node.data)
        return [f"{names[i]} = {op}({inputs})", doc, f"= {panel}   {shape}"]
    symbolic, numeric = _scalar_forward(graph, i)
    return [f"{names[i]} = {symbolic}", f"= {numeric}", f"= {short(node.data)}"]


def _scalar_forward(graph: Graph, i: int) -> tuple[str, str]:
    node, op, names = graph.nodes[i], graph.ops[i], graph.names
    ps, loc = graph.parents[i], graph.locals[i] or []
    nd = [graph.nodes[p].data for p in ps]
    if op == "Σw·x":
        terms, values, j = [], [], 0
        total = 0.0
        partners = edge_partners(node)  # which edges are a (w, x) pair: recorded, never guessed from the numbers
        while j < len(ps):
            if partners.get(j) == j + 1:
                terms.append(f"{names[ps[j]]}·{names[ps[j + 1]]}")
                values.append(f"{short(nd[j])}×{short(nd[j + 1])}")
                total += nd[j] * nd[j + 1]
                j += 2
            elif loc[j] == 1.0:
                terms.append(names[ps[j]])
                values.append(short(nd[j]))
                total += nd[j]
                j += 1
            else:
                terms.append(f"{names[ps[j]]}·{short(loc[j])}")
                values.append(f"{short(nd[j])}×{short(loc[j])}")
                total += nd[j] * loc[j]
                j += 1
        rest = node.data - total  # a number bias folded into the node
        if abs(rest) > 1e-12 * max(1.0, abs(node.data)):
            terms.append(short(rest))
            values.append(short(rest))
        return " + ".join(terms), " + ".join(values)
    if op == "+" and len(ps) == 2:
        negated = _negation_of(graph, ps[1])
        if negated is not None:  # x - y, recorded as x + (−y)
            y = graph.nodes[negated].data
            return f"{names[ps[0]]} − {names[negated]}", f"{short(nd[0])} − {_operand(y)}"
        return f"{names[ps[0]]} + {names[ps[1]]}", f"{short(nd[0])} + {short(nd[1])}"
    if op == "+" and len(ps) == 1:
        c = node.data - nd[0]
        negated = _negation_of(graph, ps[0])
        if negated is not None:  # c - y, recorded as (−y) + c
            return f"{short(c)} − {names[negated]}", f"{short(c)} − {_operand(graph.nodes[negated].data)}"
        return f"{names[ps[0]]} + {short(c)}", f"{short(nd[0])} + {short(c)}"
    if op == "*" and len(ps) == 2:
        return f"{names[ps[0]]} × {names[ps[1]]}", f"{short(nd[0])} × {short(nd[1])}"
    if op == "*" and len(ps) == 1:
        if loc[0] == -1.0:
            return f"−{names[ps[0]]}", f"−{_operand(nd[0])}"
        return f"{short(loc[0])} × {names[ps[0]]}", f"{short(loc[0])} × {_operand(nd[0])}"
    if op.startswith("**") and len(ps) == 1:
        return f"{names[ps[0]]}{_power(op[2:])}", f"{_operand(nd[0])}{_power(op[2:])}"
    args = ", ".join(names[p] for p in ps)
    return f"{op}({args})", f"{op}({', '.join(short(x) for x in nd)})"


def _negation_of(graph: Graph, i: int) -> int | None:
    """The node that `i` negates, if `i` is −y (y × −1, how the engine records `x - y`); else None."""
    if graph.is_tensor or graph.ops[i] != "*" or len(graph.parents[i]) != 1 or graph.locals[i] != [-1.0]:
        return None
    return graph.parents[i][0]


def _scalar_backward(graph: Graph, out: Timeline, fold: Fold | None = None) -> list[float]:
    """`Value.backward`, replayed: seed the root with 1, then every edge does `parent.grad += local * grad`.

    Each edge carries its local derivative (and its form, `a_h1` or `s·(1 − s)`); the page does the
    multiply-add itself, in the same order and in the same float64 as the engine. `grad` is the result
    here, for tests and for the quiz. With a `fold`, the loss's nodes are one step from the root to the
    model's outputs (`fold.folded_edges`). A weighted sum the article names gets its delta: s_o1.grad is δ_o1.
    """
    grad = [0.0] * len(graph.nodes)
    root = graph.root
    grad[root] = 1.0
    out.steps.append(
        {
            "kind": "seed",
            "node": root,
            "grad": 1.0,
            "text": [f"{graph.names[root]}.grad = 1 (d{graph.names[root]}/d{graph.names[root]}): backward starts here"],
        }
    )
    article = is_article(graph)
    for i in graph.backward_order:
        ps = graph.parents[i]
        if not ps or (fold is not None and i in fold.nodes and i != root):
            continue
        g = grad[i]
        edges = []
        if fold is not None and i == root:
            for p, local, symbol in folded_edges(graph, fold):
                grad[p] += local * g
                edges.append({"parent": p, "local": json_number(local), "symbol": symbol, "grad": json_number(grad[p])})
            text = [f"The loss in one step: each output's local derivative is ∂{graph.names[root]}/∂output"]
            out.steps.append({"kind": "backward", "node": i, "edges": edges, "text": text})
            continue
        symbols = _symbols(graph, i)
        for k, (p, local) in enumerate(zip(ps, graph.locals[i] or [])):
            if not graph.tracked[p]:
                continue
            grad[p] += local * g  # the chain rule, one edge at a time (as in Value.backward)
            edges.append({"parent": p, "local": json_number(local), "symbol": symbols[k], "grad": json_number(grad[p])})
        delta = article_names.delta_name(graph.names[i]) if article else None
        text = [f"{graph.names[i]}.grad is the article's {delta} = ∂E/∂{graph.names[i]}"] if delta else []
        if edges:
            out.steps.append({"kind": "backward", "node": i, "edges": edges, "text": text})
    return grad


def is_article(graph: Graph) -> bool:
    """Whether this is the article's network on the scalar engine: its parameters drawn under the article's names."""
    return not graph.is_tensor and set(article_names.PARAMETERS) <= set(graph.drawn_names)


def json_number(x: float) -> float | str:
    """A float for JSON; inf and nan (which JSON has no words for) as the strings JavaScript's Number() reads."""
    return x if math.isfinite(x) else {math.inf: "Infinity", -math.inf: "-Infinity"}.get(x, "NaN")


def _symbols(graph: Graph, i: int) -> list[str]:
    """d node / d input per edge, from the op's rule: `a_h1`, `a_o1·(1 − a_o1)`, `2·x`; else the number.

    The page writes `symbol × grad`, so a sum gets parentheses: `(1 − t²)`.
    """
    nodes, names = graph.nodes, graph.names
    out = Symbol.named(names[i], nodes[i].data)
    forms = local_forms(nodes[i], out, [Symbol.named(names[p], nodes[p].data) for p in graph.parents[i]])
    return [form.wrapped(NEG) for form in forms]


def _tensor_backward(graph: Graph, out: Timeline) -> None:
    """For tensors the page shows each gradient once it is complete, i.e. after its last consumer's step.

    The engine does not keep each edge's contribution (the saved arrays are freed by backward), so
    the partial sums of a tensor fed to several ops are not shown; the final one is exact.
    """
    names = graph.names
    root = graph.root
    if graph.nodes[root].grad is None:
        raise GraphError(
            "to_html: the tensor graph has no gradients yet; call loss.backward(retain_graph=True) first, "
            "then make the page (the tensor engine keeps no per-edge numbers to replay)"
        )
    remaining = [0] * len(graph.nodes)
    order = graph.backward_order
    for i in order:
        for p in graph.parents[i]:
            if graph.tracked[p]:
                remaining[p] += 1
    exact, shown, panel = tensor_text(graph.nodes[root].grad, "g")
    out.steps.append(
        {"kind": "seed", "node": root, "grad": exact, "shown": shown, "text": [f"{names[root]}.grad = {panel}"]}
    )
    for i in order:
        ps = [p for p in graph.parents[i] if graph.tracked[p]]
        if not ps:
            continue
        doc = graph.docs[i]
        edges = []
        for p in ps:
            remaining[p] -= 1
            node = graph.nodes[p]
            if remaining[p] or node.grad is None:
                line = f"{names[p]}.grad += {graph.ops[i]}.backward(...) ({remaining[p]} more to come)"
                edges.append({"parent": p, "line": line})
                continue
            exact, shown, panel = tensor_text(node.grad, "g")
            line = f"{names[p]}.grad = {panel}   {tuple(node.data.shape)} {node.data.dtype}"
            edges.append({"parent": p, "grad": exact, "shown": shown, "line": line})
        out.steps.append({"kind": "backward", "node": i, "edges": edges, "text": [f"{graph.ops[i]}: {doc}"]})


def explanations(graph: Graph) -> list[str]:
    """Per node, the full chain-rule product back to the root (`explain.explain`), for small scalar graphs."""
    if graph.is_tensor or len(graph.nodes) > MAX_EXPLAIN or graph.nodes[graph.root].grad is None:
        return [""] * len(graph.nodes)
    from ..explain import explain

    paths = [0] * len(graph.nodes)  # edge paths from the root to each node: explain lists every one
    paths[graph.root] = 1
    for i in graph.backward_order:
        for p in graph.parents[i]:
            paths[p] += paths[i]
    out = []
    root = graph.nodes[graph.root]
    for i, node in enumerate(graph.nodes):
        if i == graph.root or not graph.tracked[i] or node.grad is None or not 0 < paths[i] <= MAX_PATHS:
            out.append("")
            continue
        try:
            out.append(str(explain(root, node)))
        except GraphError:  # not on a path to the root, or too many paths to list
            out.append("")
    return out
