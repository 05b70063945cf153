"""`draw`: the computation graph ending in a `Value` or `Tensor`, as a `graphviz.Digraph`.

A pure function: it reads the graph (with the same iterative `walk` that backward uses) and returns
a Digraph; it writes no file and runs no program (that is `render`'s job). In Jupyter the Digraph
shows itself inline. Reading the picture left to right is the forward pass; the `grad` on each
node is what the backward pass, which runs right to left, left there:

    [w1 | data 0.1 | grad 0.0004] --> (Σw·x) --> [s_h1 | data 1.288 | ...] --> (sigmoid) --> ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import graphviz
import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, GraphError
from ..graph import walk
from ..tensor import RELEASED_HINT, is_released
from . import collapse as folding
from .labels import escape, tensor_fields, value_fields
from .labels import param_names as param_names_of
from .modules import Call, assign, module_calls
from .notebook import Drawing

# Fill colours (ColorBrewer "Paired", readable in print and by most colour-blind readers).
COLOURS = {
    "param": "#a6cee3",  # parameters: what training changes
    "input": "#b2df8a",  # inputs and constants: leaves that are not parameters
    "result": "#ffffff",  # intermediate results
    "output": "#fb9a99",  # the node draw() was called on (the loss, usually)
    "op": "#eeeeee",  # the op that made a result
    "folded": "#fdbf6f",  # a summary node standing for many
}


def draw(
    root: Any,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    params: Any = None,
    max_nodes: int = 500,
    collapse: bool | str = "auto",
    highlight: Mapping[Any, tuple[str, str]] | None = None,
) -> graphviz.Digraph:
    """The graph that computed `root`, one record per value and one small node per op.

    params:    an `nn.Module` (names from `named_parameters()`, and a cluster per sub-module call)
               or a dict name -> parameter; names the user gave (`label`, `name`) are used otherwise.
    max_nodes: with `collapse="auto"`, a bigger graph is folded into summary nodes until at most
               this many nodes are drawn; `collapse=True` folds module calls and chains always,
               `collapse=False` never.
    highlight: node -> (fill colour, tooltip), to mark nodes (e.g. wrong gradients); a node folded
               into a summary is not drawn, so it is not marked either.
    """
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ArgumentError(f"draw: rankdir={rankdir!r}; use 'LR' (left to right), 'RL', 'TB' or 'BT'")
    if collapse not in ("auto", True, False):
        raise ArgumentError(f"draw: collapse={collapse!r}; use 'auto', True or False")
    if not hasattr(root, "_parents") or not hasattr(root, "data"):
        raise ArgumentTypeError(f"draw: expected a Value or a Tensor (the end of a graph), got {type(root).__name__}")
    if highlight is not None and not isinstance(highlight, Mapping):
        raise ArgumentTypeError(f"draw: highlight must map node -> (colour, tooltip), got {type(highlight).__name__}")
    if max_nodes < 10:
        raise ArgumentError(f"draw: max_nodes={max_nodes} leaves no room for a readable graph; use 10 or more")

    nodes = walk(root)[::-1]  # oldest first: inputs before the results computed from them
    if any(is_released(node) for node in nodes):
        raise GraphError(f"draw: {RELEASED_HINT}")
    index = {id(node): i for i, node in enumerate(nodes)}
    is_tensor = isinstance(root.data, np.ndarray)
    parents = [[index[id(p)] for p in node._parents if p is not None] for node in nodes]
    if is_tensor:
        ops = [node._op.__name__ if node._op is not None else None for node in nodes]
    else:
        ops = [node._op if node._parents else None for node in nodes]
    param_names = param_names_of(params, "draw")
    names = [param_names.get(id(node)) or getattr(node, "label" if not is_tensor else "name", None) for node in nodes]
    root_i = len(nodes) - 1

    calls = module_calls(params)
    owner = assign([node._order for node in nodes], calls)
    _place_params(ops, param_names, nodes, owner, calls)
    if collapse is False:
        plan = folding.Plan([None] * len(nodes), [], set())
    else:
        plan = folding.plan(parents, ops, owner, calls, root_i, max_nodes, force=collapse is True)

    fields = tensor_fields if is_tensor else value_fields
    vertical = rankdir in ("LR", "RL")  # record fields stack across the rank direction
    hidden = _hidden_calls(calls, plan.folded_calls)
    lines: dict[int | None, list[str]] = {}  # cluster (module call) -> its node lines
    edges: list[str] = []
    group_edges: set[tuple[str, str]] = set()
    unit = [f"v{i}" if g is None else f"g{g}" for i, g in enumerate(plan.group)]

    for i, node in enumerate(nodes):
        if plan.group[i] is not None:
            continue
        kind = _kind(i, root_i, ops[i], id(node) in param_names, params is None and node.requires_grad)
        text = "|".join(escape(f) for f in fields(node, names[i], show_data, show_grad)) or " "
        label = text if vertical else "{" + text + "}"
        home = lines.setdefault(_visible(owner[i], calls, hidden), [])
        mark = highlight.get(node) if highlight else None
        style = (
            f'fillcolor="{COLOURS[kind]}"'
            if mark is None
            else f'fillcolor="{mark[0]}" penwidth=2 tooltip="{escape(mark[1])}"'
        )
        home.append(f'\tv{i} [label="{label}" {style}]\n')
        if ops[i] is None:
            continue
        home.append(f'\to{i} [label="{escape(ops[i])}" shape=ellipse fillcolor="{COLOURS["op"]}"]\n')
        edges.append(f"\to{i} -> v{i}\n")
        for p in parents[i]:
            if plan.group[p] is None:
                edges.append(f"\tv{p} -> o{i}\n")
            else:
                group_edges.add((unit[p], f"o{i}"))

    for g, group in enumerate(plan.groups):
        summary = [group.title, f"{len(group.members)} nodes hidden", _op_summary(group.ops)]
        text = "|".join(escape(f) for f in summary)
        label = text if vertical else "{" + text + "}"
        lines.setdefault(_visible(group.cluster, calls, hidden), []).append(
            f'\tg{g} [label="{label}" fillcolor="{COLOURS["folded"]}" style="filled,dashed"'
            f' tooltip="{len(group.members)} nodes hidden"]\n'
        )
        for i in group.members:
            for p in parents[i]:
                if plan.group[p] != g:
                    group_edges.add((unit[p], f"g{g}"))

    dot = Drawing(
        "backprop",
        comment=f"tinygrad_edu.viz: {len(nodes)} nodes, {len(plan.groups)} summaries hiding "
        f"{sum(len(g.members) for g in plan.groups)} of them",
        graph_attr={"rankdir": rankdir, "nodesep": "0.15", "ranksep": "0.3", "fontname": "Helvetica"},
        node_attr={"shape": "record", "style": "filled", "fontname": "Helvetica", "fontsize": "10", "height": "0.2"},
        edge_attr={"arrowsize": "0.6"},
    )
    body = dot.body
    body.append(_legend(any(node.grad is not None for node in nodes), show_grad, plan, len(nodes), max_nodes))
    body.extend(lines.pop(None, []))
    body.extend(_clusters(calls, lines))
    body.extend(edges)
    body.extend(f"\t{a} -> {b}\n" for a, b in sorted(group_edges))
    return dot


# ---------------------------------------------------------------------- names and kinds


def _kind(i: int, root: int, op: str | None, named: bool, tracked: bool) -> str:
    if i == root:
        return "output"
    if op is not None:
        return "result"
    return "param" if named or tracked else "input"


def _place_params(
    ops: list[str | None],
    param_names: dict[int, str],
    nodes: list[Any],
    owner: list[int | None],
    calls: list[Call],
) -> None:
    """Draw each parameter inside the cluster of the module that owns it, when that module ran once.

    The owner is the longest module name that prefixes the parameter's dotted name: `0` for the
    tensor engine's `0.weight`, and also for the scalar engine's `0.weight.1.0`.
    """
    if not calls:
        return
    modules = {call.name for call in calls}
    ran: dict[str, list[int]] = {}
    for c, call in enumerate(calls):
        if call.members:
            ran.setdefault(call.name, []).append(c)
    for i, node in enumerate(nodes):
        name = param_names.get(id(node))
        if name is None or ops[i] is not None or owner[i] is not None:
            continue
        module = name.rpartition(".")[0]
        while module and module not in modules:
            module = module.rpartition(".")[0]
        if module in modules and len(ran.get(module, ())) == 1:
            owner[i] = ran[module][0]
            calls[owner[i]].members.append(i)


# ---------------------------------------------------------------------- clusters, legend


def _hidden_calls(calls: list[Call], folded: set[int]) -> list[bool]:
    """Calls not drawn as clusters: the folded ones and everything inside them (parents come first)."""
    hidden: list[bool] = []
    for c, call in enumerate(calls):
        hidden.append(c in folded or (call.parent is not None and hidden[call.parent]))
    return hidden


def _visible(c: int | None, calls: list[Call], hidden: list[bool]) -> int | None:
    """The innermost drawn cluster at or above call `c`."""
    while c is not None and hidden[c]:
        c = calls[c].parent
    return c


def _clusters(calls: list[Call], lines: dict[int | None, list[str]]) -> list[str]:
    """Nested `subgraph cluster_*` blocks for the module calls that hold drawn nodes (no recursion)."""
    full = [c in lines for c in range(len(calls))]
    for c in range(len(calls) - 1, -1, -1):  # children come after their parent: propagate upwards
        if full[c] and calls[c].parent is not None:
            full[calls[c].parent] = True
    children: dict[int | None, list[int]] = {}
    for c, call in enumerate(calls):
        if full[c]:
            children.setdefault(call.parent, []).append(c)
    out: list[str] = []
    stack: list[tuple[int, bool]] = [(c, False) for c in reversed(children.get(None, []))]
    while stack:
        c, closing = stack.pop()
        if closing:
            out.append("\t" * (calls[c].depth + 1) + "}\n")
            continue
        pad = "\t" * calls[c].depth
        out.append(
            f'\t{pad}subgraph cluster_m{c} {{\n\t\t{pad}label="{escape(calls[c].title)}" style="rounded,dashed" '
            'color="#888888" fontsize=10 labelloc=b\n'
        )
        out.extend("\t" + pad + line for line in lines.get(c, []))
        stack.append((c, True))
        stack.extend((k, False) for k in reversed(children.get(c, [])))
    return out


def _op_summary(ops: dict[str, int], top: int = 3) -> str:
    """'6 × *, 5 × +, 2 × leaf, …': the most common ops a summary node hides."""
    common = sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{n} × {op}" for op, n in common[:top])
    return text + (", …" if len(common) > top else "")


def _legend(has_grad: bool, show_grad: bool, plan: folding.Plan, n: int, max_nodes: int) -> str:
    """What each fill colour means, and what the picture leaves out: a cluster of plain boxes.

    Plain nodes, not an HTML table: Graphviz builds without HTML labels (the WebAssembly one in the
    `render` extra) would draw a table as the bare word "legend".
    """
    rows = [
        ("param", "parameter"),
        ("input", "input / constant"),
        ("result", "intermediate result"),
        ("op", "op"),
        ("output", "output"),
    ]
    if plan.groups:
        rows.append(("folded", "folded summary"))
    notes = []
    if show_grad and not has_grad:
        notes.append("no backward pass has run:\\ngrads are shown as —")
    if plan.groups:
        hidden = sum(len(g.members) for g in plan.groups)
        notes.append(f"{hidden} of {n} nodes folded\\n(max_nodes={max_nodes})")
    boxes = [f'legend_{k} [label="{text}" fillcolor="{COLOURS[k]}"]' for k, text in rows]
    boxes += [f'legend_note{i} [label="{note}" shape=plaintext style=""]' for i, note in enumerate(notes)]
    return (
        '\tsubgraph cluster_legend {\n\t\tlabel="legend" fontsize=9 style=rounded color="#bbbbbb"\n'
        "\t\tnode [shape=box fontsize=9 width=1.3 height=0.2]\n"
        + "".join(f"\t\t{box}\n" for box in boxes)
        # A chain of invisible edges puts one box per rank: a row across the rank direction, in this
        # order with every Graphviz version (a `rank=same` column comes out reversed in some).
        + f"\t\t{' -> '.join(box.split(' ', 1)[0] for box in boxes)} [style=invis]\n\t}}\n"
    )
