"""`emit`: a `Picture` (what `collect` decided to show) as a `graphviz.Digraph`, through its node/edge/subgraph API.

Every text is escaped by `labels.escape` first, so a user's label is drawn literally and never
becomes DOT syntax; `nohtml` keeps graphviz from reading a text in `<...>` as an HTML label.
"""

from __future__ import annotations

from itertools import pairwise

import graphviz

from .collect import COLOURS, LEGEND, Box, Picture
from .labels import escape
from .notebook import Drawing

CLUSTER_STYLE = [("style", "rounded,dashed"), ("color", "#888888"), ("fontsize", "10"), ("labelloc", "b")]


def emit(picture: Picture) -> Drawing:
    """The Digraph: the legend, the boxes outside any cluster, the nested clusters, then the edges."""
    dot = Drawing(
        "backprop",
        comment=picture.comment,
        graph_attr={"rankdir": picture.rankdir, "nodesep": "0.15", "ranksep": "0.3", "fontname": "Helvetica"},
        node_attr={"shape": "record", "style": "filled", "fontname": "Helvetica", "fontsize": "10", "height": "0.2"},
        edge_attr={"arrowsize": "0.6"},
    )
    dot.subgraph(_legend(picture))
    vertical = picture.rankdir in ("LR", "RL")  # record fields stack across the rank direction
    # One Digraph per cluster, filled with its boxes; children are folded into their parent from
    # the last (innermost) cluster up, so every child is complete when its parent takes it in.
    inside = [graphviz.Digraph(f"cluster_m{c.key}") for c in picture.clusters]
    for cluster, graph in zip(picture.clusters, inside):
        graph.attr(_attributes=[("label", escape(cluster.title)), *CLUSTER_STYLE])
    for box in picture.boxes:
        _box(dot if box.cluster is None else inside[box.cluster], box, vertical)
    children: dict[int | None, list[int]] = {}
    for c, cluster in enumerate(picture.clusters):
        children.setdefault(cluster.parent, []).append(c)
    for c in range(len(picture.clusters) - 1, -1, -1):
        for k in children.get(c, []):
            inside[c].subgraph(inside[k])
    for k in children.get(None, []):
        dot.subgraph(inside[k])
    for tail, head in picture.edges:
        dot.edge(tail, head)
    return dot


def _box(graph: graphviz.Digraph, box: Box, vertical: bool) -> None:
    text = "|".join(escape(f) for f in box.fields) or " "
    if box.shape is None and not vertical:
        text = "{" + text + "}"
    attributes: list[tuple[str, str]] = []
    if box.shape is not None:
        attributes.append(("shape", box.shape))
    attributes.append(("fillcolor", box.fill))
    if box.bold:
        attributes.append(("penwidth", "2"))
    if box.dashed:
        attributes.append(("style", "filled,dashed"))
    if box.tooltip is not None:
        attributes.append(("tooltip", escape(box.tooltip)))
    graph.node(box.id, label=graphviz.nohtml(text), _attributes=attributes)


def _legend(picture: Picture) -> graphviz.Digraph:
    """What each fill colour means, and what the picture leaves out: a cluster of plain boxes.

    Plain nodes, not an HTML table: Graphviz builds without HTML labels (the WebAssembly one in the
    `render` extra) would draw a table as the bare word "legend".
    """
    meaning = dict([*LEGEND, ("folded", "folded summary")])
    legend = graphviz.Digraph("cluster_legend")
    legend.attr(_attributes=[("label", "legend"), ("fontsize", "9"), ("style", "rounded"), ("color", "#bbbbbb")])
    legend.attr("node", _attributes=[("shape", "box"), ("fontsize", "9"), ("width", "1.3"), ("height", "0.2")])
    names = []
    for key in picture.legend:
        names.append(f"legend_{key}")
        legend.node(names[-1], label=meaning[key], _attributes=[("fillcolor", COLOURS[key])])
    for i, note in enumerate(picture.notes):
        names.append(f"legend_note{i}")
        legend.node(names[-1], label=escape(note), _attributes=[("shape", "plaintext"), ("style", "")])
    # A chain of invisible edges puts one box per rank: a row across the rank direction, in this
    # order with every Graphviz version (a `rank=same` column comes out reversed in some).
    for tail, head in pairwise(names):
        legend.edge(tail, head, style="invis")
    return legend
