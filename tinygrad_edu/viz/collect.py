"""`collect`: what the drawing of a graph shows, as plain data, before any DOT is written.

One pass over the graph (`graph.walk`, an explicit stack, newest first) decides everything: which
nodes are drawn and which are folded into summaries, the text on each box, its colour, the module
call (cluster) it sits in, and the edges. `emit` turns the result into a `graphviz.Digraph`; the
step-through page reads the same result to know which drawn box shows each node. Text here is the
text to draw, not yet escaped for DOT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ArgumentError, ArgumentTypeError, GraphError
from ..graph import Node, walk
from ..nn.engines import engine_of
from ..tensor_checks import RELEASED_HINT, is_released
from . import collapse as folding
from .labels import param_names as param_names_of
from .labels import tensor_fields, value_fields
from .modules import Call, ModuleCalls, assign, module_calls

# Fill colours (ColorBrewer "Paired", readable in print and by most colour-blind readers).
COLOURS = {
    "param": "#a6cee3",  # parameters: what training changes
    "input": "#b2df8a",  # inputs and constants: leaves that are not parameters
    "result": "#ffffff",  # intermediate results
    "output": "#fb9a99",  # the node draw() was called on (the loss, usually)
    "op": "#eeeeee",  # the op that made a result
    "folded": "#fdbf6f",  # a summary node standing for many
}

# The legend's rows: (colour key, what it means).
LEGEND = [
    ("param", "parameter"),
    ("input", "input / constant"),
    ("result", "intermediate result"),
    ("op", "op"),
    ("output", "output"),
]


@dataclass
class Box:
    """One drawn node: a value (`v<i>`), the op that made it (`o<i>`), or a folded summary (`g<k>`)."""

    id: str
    fields: list[str]  # the lines of its label (a record's fields; one line for an op)
    fill: str
    cluster: int | None = None  # index into `Picture.clusters`; None: outside every cluster
    shape: str | None = None  # None: a record box
    dashed: bool = False  # a summary standing for many nodes
    tooltip: str | None = None
    bold: bool = False  # highlighted (`highlight=`)


@dataclass
class Cluster:
    """One module call drawn as a box around the nodes it made; `parent` is an index into the same list."""

    key: int  # the call's index among all recorded calls: the `cluster_m<key>` name
    title: str
    parent: int | None


@dataclass
class Picture:
    """Everything a drawing shows, as plain data: `emit` writes it as DOT."""

    boxes: list[Box]
    edges: list[tuple[str, str]]  # (from id, to id), in drawing order
    clusters: list[Cluster]  # parents before their children
    legend: list[str]  # colour keys of the legend's rows
    notes: list[str]  # what the picture leaves out, said under the legend
    units: list[str]  # for each graph node (oldest first), the id of the box that shows it
    rankdir: str
    comment: str


def collect(
    root: Any,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    params: Any = None,
    calls: ModuleCalls | None = None,
    max_nodes: int = 500,
    collapse: bool | str = "auto",
    highlight: Mapping[Any, tuple[str, str]] | None = None,
    op: str = "draw",
) -> Picture:
    """The `Picture` of the graph that computed `root`; the arguments are `draw`'s (`op` names the caller in errors).

    In steps: check the arguments, read the graph, place it in module calls and fold what is too big,
    draw a box per shown node and one per summary, then number the clusters and write the notes.
    """
    _check_arguments(root, rankdir, collapse, highlight, max_nodes, op)
    graph = _read(root, params, op)
    module_call_list = module_calls(calls, params)
    owner = assign([node.order for node in graph.nodes], module_call_list)
    _place_params(graph.ops, graph.param_names, graph.nodes, owner, module_call_list)
    plan = _fold(graph, owner, module_call_list, max_nodes, collapse)
    hidden = _hidden_calls(module_call_list, plan.folded_calls)
    units = [f"v{i}" if g is None else f"g{g}" for i, g in enumerate(plan.group)]
    fields = tensor_fields if graph.is_tensor else value_fields
    homes = [_visible(c, module_call_list, hidden) for c in owner]
    boxes, edges, group_edges = _node_boxes(graph, plan, units, homes, fields, show_data, show_grad, highlight)
    boxes += _summary_boxes(graph, plan, units, module_call_list, hidden, group_edges)
    edges.extend(sorted(group_edges))
    clusters = _number_clusters(boxes, module_call_list)
    if not plan.groups and weights_apart(boxes, edges, _weights(graph)):
        clusters = without_clusters(boxes)
    legend = [key for key, _ in LEGEND] + (["folded"] if plan.groups else [])
    notes, comment = _notes(graph.nodes, plan, show_grad, max_nodes)
    return Picture(boxes, edges, clusters, legend, notes, units, rankdir, comment)


# ---------------------------------------------------------------------- the steps


@dataclass
class _Graph:
    """The graph as `collect` reads it: nodes oldest first, and per node its parents (indices), op and name."""

    nodes: list[Any]
    parents: list[list[int]]
    ops: list[str | None]
    param_names: dict[int, str]
    names: list[str | None]
    is_tensor: bool
    params_given: bool


def _check_arguments(root: Any, rankdir: str, collapse: Any, highlight: Any, max_nodes: int, op: str) -> None:
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ArgumentError(f"{op}: rankdir={rankdir!r}; use 'LR' (left to right), 'RL', 'TB' or 'BT'")
    if collapse not in ("auto", True, False):
        raise ArgumentError(f"{op}: collapse={collapse!r}; use 'auto', True or False")
    if not isinstance(root, Node):
        raise ArgumentTypeError(f"{op}: expected a Value or a Tensor (the end of a graph), got {type(root).__name__}")
    if highlight is not None and not isinstance(highlight, Mapping):
        raise ArgumentTypeError(f"{op}: highlight must map node -> (colour, tooltip), got {type(highlight).__name__}")
    if max_nodes < 10:
        raise ArgumentError(f"{op}: max_nodes={max_nodes} leaves no room for a readable graph; use 10 or more")


def _read(root: Any, params: Any, op: str) -> _Graph:
    """The nodes behind `root`, oldest first (inputs before the results computed from them), read through
    `graph.Node`'s protocol; a graph that backward released cannot be drawn."""
    nodes = walk(root)[::-1]
    if any(is_released(node) for node in nodes):
        raise GraphError(f"{op}: {RELEASED_HINT}")
    index = {id(node): i for i, node in enumerate(nodes)}
    parents = [[index[id(p)] for p in node.parents if p is not None] for node in nodes]
    param_names = param_names_of(params, op)
    names = [param_names.get(id(node)) or node.name for node in nodes]  # both engines say `name`, as PyTorch
    is_tensor = engine_of(root) == "tensor"
    return _Graph(nodes, parents, [node.op for node in nodes], param_names, names, is_tensor, params is not None)


def _fold(graph: _Graph, owner: list[int | None], calls: list[Call], max_nodes: int, collapse: Any) -> folding.Plan:
    """Which nodes are folded into summaries (none with `collapse=False`)."""
    if collapse is False:
        return folding.Plan([None] * len(graph.nodes), [], set())
    root = len(graph.nodes) - 1
    return folding.plan(graph.parents, graph.ops, owner, calls, root, max_nodes, force=collapse is True)


def _node_boxes(
    graph: _Graph,
    plan: folding.Plan,
    units: list[str],
    homes: list[int | None],
    fields: Any,
    show_data: bool,
    show_grad: bool,
    highlight: Mapping[Any, tuple[str, str]] | None,
) -> tuple[list[Box], list[tuple[str, str]], set[tuple[str, str]]]:
    """A record box per shown node and an ellipse per op, with the edges between them; an edge from a
    folded node goes into the set of summary edges (drawn once each)."""
    boxes: list[Box] = []  # cluster of each box: the module call index for now, renumbered later
    edges: list[tuple[str, str]] = []
    group_edges: set[tuple[str, str]] = set()
    root = len(graph.nodes) - 1
    for i, node in enumerate(graph.nodes):
        if plan.group[i] is not None:
            continue
        op = graph.ops[i]
        tracked = not graph.params_given and node.requires_grad
        kind = _kind(i, root, op, id(node) in graph.param_names, tracked)
        box = Box(f"v{i}", fields(node, graph.names[i], show_data, show_grad), COLOURS[kind], homes[i])
        mark = highlight.get(node) if highlight else None
        if mark is not None:
            box.fill, box.tooltip, box.bold = mark[0], mark[1], True
        boxes.append(box)
        if op is None:
            continue
        boxes.append(Box(f"o{i}", [op], COLOURS["op"], homes[i], shape="ellipse"))
        edges.append((f"o{i}", f"v{i}"))
        for p in graph.parents[i]:
            if plan.group[p] is None:
                edges.append((f"v{p}", f"o{i}"))
            else:
                group_edges.add((units[p], f"o{i}"))
    return boxes, edges, group_edges


def _summary_boxes(
    graph: _Graph,
    plan: folding.Plan,
    units: list[str],
    calls: list[Call],
    hidden: list[bool],
    group_edges: set[tuple[str, str]],
) -> list[Box]:
    """A dashed box per summary, saying how many nodes it hides and their commonest ops; adds its edges."""
    boxes = []
    for g, group in enumerate(plan.groups):
        summary = [group.title, f"{len(group.members)} nodes hidden", _op_summary(group.ops)]
        home = _visible(group.cluster, calls, hidden)
        tip = f"{len(group.members)} nodes hidden"
        boxes.append(Box(f"g{g}", summary, COLOURS["folded"], home, dashed=True, tooltip=tip))
        for i in group.members:
            for p in graph.parents[i]:
                if plan.group[p] != g:
                    group_edges.add((units[p], f"g{g}"))
    return boxes


def _number_clusters(boxes: list[Box], calls: list[Call]) -> list[Cluster]:
    """The clusters drawn (calls that hold a box, and those around them); each box's cluster becomes its index."""
    clusters = _drawn_clusters(calls, {box.cluster for box in boxes})
    position = {cluster.key: c for c, cluster in enumerate(clusters)}
    for box in boxes:
        box.cluster = None if box.cluster is None else position[box.cluster]
    return clusters


def _notes(nodes: list[Any], plan: folding.Plan, show_grad: bool, max_nodes: int) -> tuple[list[str], str]:
    """What the picture leaves out, said under the legend, and the DOT comment that counts it."""
    notes = []
    if show_grad and not any(node.grad is not None for node in nodes):
        notes.append("no backward pass has run:\ngrads are shown as —")
    n_hidden = sum(len(g.members) for g in plan.groups)
    if plan.groups:
        notes.append(f"{n_hidden} of {len(nodes)} nodes folded\n(max_nodes={max_nodes})")
    comment = f"tinygrad_edu.viz: {len(nodes)} nodes, {len(plan.groups)} summaries hiding {n_hidden} of them"
    return notes, comment


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
    modules = {call.name for call in calls if call.name is not None}
    if not modules:
        return
    ran: dict[str, list[int]] = {}
    for c, call in enumerate(calls):
        if call.members and call.name is not None:
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


# ---------------------------------------------------------------------- clusters, summaries


def weights_apart(boxes: list[Box], edges: list[tuple[str, str]], weights: set[str]) -> bool:
    """Whether a module box would stand between a weight and the op it feeds (the weight drawn outside it).

    `dot` keeps a cluster's boxes together, so a weight outside its layer's box is pushed out of the
    way: in the article's network, whose weights belong to the network and not to its layers, w5..w8
    and b_o1, b_o2 stacked below the layers with long crossing edges.
    """
    home = {box.id: box.cluster for box in boxes}
    return any(tail in weights and home[tail] != home[head] for tail, head in edges)


def without_clusters(boxes: list[Box]) -> list[Cluster]:
    """No module boxes: each weight is then laid out beside the sum it feeds, as in the article's figure."""
    for box in boxes:
        box.cluster = None
    return []


def _weights(graph: _Graph) -> set[str]:
    """The box ids of the parameters `params=` names (without it, which module owns a weight is unknown)."""
    return {f"v{i}" for i, node in enumerate(graph.nodes) if graph.ops[i] is None and id(node) in graph.param_names}


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


def _drawn_clusters(calls: list[Call], used: set[int | None]) -> list[Cluster]:
    """The module calls that hold drawn boxes, and the calls around them, in depth-first order (no recursion)."""
    full = [c in used for c in range(len(calls))]
    for c in range(len(calls) - 1, -1, -1):  # children come after their parent: propagate upwards
        if full[c] and calls[c].parent is not None:
            full[calls[c].parent] = True
    children: dict[int | None, list[int]] = {}
    for c, call in enumerate(calls):
        if full[c]:
            children.setdefault(call.parent, []).append(c)
    out: list[Cluster] = []
    position: dict[int, int] = {}
    stack = list(reversed(children.get(None, [])))
    while stack:
        c = stack.pop()
        parent = calls[c].parent
        position[c] = len(out)
        out.append(Cluster(c, calls[c].title, None if parent is None else position[parent]))
        stack.extend(reversed(children.get(c, [])))
    return out


def _op_summary(ops: dict[str, int], top: int = 3) -> str:
    """'6 × *, 5 × +, 2 × leaf, …': the most common ops a summary node hides."""
    common = sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{n} × {op}" for op, n in common[:top])
    return text + (", …" if len(common) > top else "")
