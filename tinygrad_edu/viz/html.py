"""`to_html`: step through backprop on your own graph, in one self-contained HTML page.

The page is the `draw` picture (laid out by the same `dot`, or its WebAssembly build), a timeline
read off the graph by `trace.timeline` (the forward pass result by result, then the backward pass
node by node in the engine's order, with the real arithmetic), and a small script that replays it.
Its CSS and script are the real files `stepper.css` and `stepper.js` next to this module, inlined,
so the page needs no network: it opens from `file://`, in an offline notebook, or in an iframe.

The contract the tests and the docs drive: `#step=N` (or `#step=end`) in the URL opens step N;
`<body data-steps data-step>`; each drawn node's `<g>` carries `data-label`, `data-value` and
`data-grad` (empty until the pass computes them).
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any

from .. import article_names
from ..errors import ArgumentError, RenderError
from ..files import write_atomic
from .collect import Picture, collect
from .fold import Fold, formula, loss_region
from .layout import INSTALL_HELP, NoLayoutProgramError, layout
from .modules import ModuleCalls
from .trace import Graph, decimal, explanations, is_article, read_graph, timeline

DEFAULT_MAX_NODES = 300  # drawn nodes; the page stays quick to lay out and to step through


def to_html(
    output: Any,
    *,
    params: Any = None,
    calls: ModuleCalls | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    title: str | None = None,
    collapse: bool | str = "auto",
    highlight: Mapping[Any, tuple[str, str]] | None = None,
    timeout: float = 30.0,
    fold_loss: Any = "auto",
    lr: float | str | None = "auto",
) -> str:
    """The page, as a string: the graph ending in `output` and a stepper through its forward and backward pass.

    params:    an `nn.Module` or a dict name -> parameter (parameter names, as in `draw`).
    calls:     what `record_modules()` recorded while the graph was built (module clusters, as in `draw`).
    max_nodes: bigger graphs are folded into summary nodes, as `draw` folds them; every node still
               has its steps (a folded node's steps light up its summary).
    highlight: node -> (fill colour, note), as in `draw`; the note shows on hover and beside the node.
    fold_loss: the loss as one step (scalar graphs): a list of the model's outputs (the nodes the loss
               reads), False for every op of the loss, or "auto" (the article's network: its a_o1, a_o2).
    lr:        the learning rate of a last step, p′ = p − lr · p.grad for each named parameter; "auto"
               is the article's α = 0.5 for the article's network and no update step otherwise.
    A scalar graph needs no backward pass beforehand (the page replays it from the local derivatives);
    a tensor graph needs `loss.backward(retain_graph=True)` first.
    """
    from .emit import emit  # graphviz is imported on the first drawing

    # One plan for the picture and the page: the page lights up the box `collect` put each node in
    # (collect also refuses a bad collapse= or max_nodes=, naming to_html).
    picture = collect(
        output, params=params, calls=calls, max_nodes=max_nodes, collapse=collapse, highlight=highlight, op="to_html"
    )
    graph = read_graph(output, params)
    fold = _fold(graph, fold_loss)
    if lr == "auto":
        lr = article_names.LEARNING_RATE if is_article(graph) else None
    if fold is not None:
        _fold_picture(picture, graph, fold)
    _for_the_page(picture, graph)
    dot = emit(picture)
    dot.graph_attr["ranksep"] = "0.2"  # tighter than a drawing: the whole article network fits a laptop screen
    with ThreadPoolExecutor(1) as pool:  # `dot` lays the graph out in its own process while the timeline is read
        pending = pool.submit(layout, dot.source, "svg", timeout)
        line = timeline(graph, fold, lr if isinstance(lr, (int, float)) else None)
        try:
            svg = pending.result().decode("utf-8")
        except NoLayoutProgramError:
            raise RenderError(f"to_html: the graph layout needs Graphviz's `dot`. {INSTALL_HELP}") from None
        except subprocess.TimeoutExpired:
            raise RenderError(
                f"to_html: `dot` did not lay the graph out within {timeout:g} s; pass a smaller max_nodes= "
                f"(now {max_nodes}) or a larger timeout="
            ) from None
    title = title or f"Step through backprop: {graph.names[graph.root]}"
    data = {
        "title": title,
        "engine": "tensor" if graph.is_tensor else "value",
        "root": graph.root,
        "names": graph.names,
        "ops": graph.ops,
        "units": picture.units,
        "value0": line.start_values,
        "shown0": line.start_shown,
        "explain": explanations(graph),
        "notes": [highlight[node][1] if highlight and node in highlight else "" for node in graph.nodes],
        "steps": line.steps,
    }
    return _page(title, _tag_nodes(_inline_svg(svg), graph, line.start_values), data)


def _fold(graph: Graph, fold_loss: Any) -> Fold | None:
    """The loss region to fold, from `fold_loss` ("auto", False/None, or the model's output nodes)."""
    if fold_loss is False or fold_loss is None:
        return None
    if isinstance(fold_loss, str) and fold_loss == "auto":
        outputs = [graph.names.index(name) for name in ("a_o1", "a_o2") if name in graph.names]
        return loss_region(graph, outputs) if is_article(graph) and len(outputs) == 2 else None
    if isinstance(fold_loss, (str, bool)) or not hasattr(fold_loss, "__iter__"):
        raise ArgumentError(
            f"to_html: fold_loss={fold_loss!r}; pass the model's outputs (a list of nodes), False or 'auto'"
        )
    index = {id(node): i for i, node in enumerate(graph.nodes)}
    entries = [index.get(id(node)) for node in fold_loss]
    if not entries or None in entries:
        raise ArgumentError("to_html: fold_loss names a node that is not in this graph; pass the model's outputs")
    return loss_region(graph, entries)


def _fold_picture(picture: Picture, graph: Graph, fold: Fold) -> None:
    """Draw the folded loss as one op, `½·(target_o1 − a_o1)² + …`, from the outputs to the root."""
    root = graph.root
    hidden = (fold.nodes | fold.constants) - {root}
    if any(picture.units[i] != f"v{i}" for i in hidden):  # part of the loss is in a folded summary already
        return
    gone = {f"v{i}" for i in hidden} | {f"o{i}" for i in fold.nodes - {root}}
    picture.boxes = [box for box in picture.boxes if box.id not in gone]
    terms = formula(graph, fold, False).split(" + ")
    for box in picture.boxes:
        if box.id == f"o{root}":
            box.fields = ["\n+ ".join(terms)]
    picture.edges = [(tail, head) for tail, head in picture.edges if tail not in gone and head not in gone]
    picture.edges += [(picture.units[e], f"o{root}") for e in fold.entries]
    for i in hidden:
        picture.units[i] = f"v{root}"


def _for_the_page(picture: Picture, graph: Graph) -> None:
    """The drawing as the page shows it: no legend (the page has its own key, and its notes would contradict
    the page's gradients), and a small scalar graph top to bottom, as in the article's figure, so the whole
    article network fits a laptop screen (`collect` already drew it without the layer boxes that would
    stand between each weight and the sum it feeds: `collect.weights_apart`, one rule for page and drawing)."""
    picture.legend, picture.notes = [], []
    for box in picture.boxes:  # a node the drawing leaves unnamed gets the name the steps call it
        i = int(box.id[1:]) if box.id[0] == "v" else None
        if i is not None and not graph.drawn_names[i]:
            box.fields.insert(0, graph.names[i])
    if not graph.is_tensor and not any(unit.startswith("g") for unit in picture.units):  # small: fits a screen
        picture.rankdir = "TB"


class Steps:
    """The stepper for one graph, for notebooks: shows itself inline (`_repr_html_`), `.save(path)` writes it."""

    def __init__(self, output: Any, **kwargs: Any) -> None:
        self.html = to_html(output, **kwargs)

    def _repr_html_(self) -> str:
        # An iframe with the page as srcdoc: its script runs, its CSS and ids cannot clash with the notebook's.
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" title="step through backprop"'
            ' style="width:100%;height:640px;border:1px solid #ccc"></iframe>'
        )

    def save(self, path: str | os.PathLike) -> str:
        """Write the page to `path` (atomically: whole or not at all); returns the path."""
        data = self.html.encode("utf-8")
        write_atomic(path, lambda file: file.write(data))
        return os.fspath(path)


def steps(output: Any, **kwargs: Any) -> Steps:
    """`Steps(output, ...)`: in Jupyter, `viz.steps(loss)` shows the stepper; `.save("step.html")` keeps it."""
    return Steps(output, **kwargs)


# ---------------------------------------------------------------------- the SVG and the page

_NODE_G = re.compile(r'<g id="(node\d+)" class="node">\s*<title>(\w+)</title>')


def _inline_svg(svg: str) -> str:
    """dot's SVG without its XML prolog, DOCTYPE and comments (they are not allowed inside HTML)."""
    svg = svg[svg.index("<svg") :]
    return re.sub(r"<!--.*?-->\n?", "", svg, flags=re.DOTALL)


def _plain(x: str | float) -> str:
    return x if isinstance(x, str) else decimal(x)


def _tag_nodes(svg: str, graph: Graph, start: list[str | float | None]) -> str:
    """Give each drawn value node its `data-node`, `data-label`, `data-value`, `data-grad`, escaped for HTML."""

    def tag(match: re.Match[str]) -> str:
        element, name = match.group(1), match.group(2)
        attrs, tip = "", name
        if name[0] == "v" and name[1:].isdigit():
            i = int(name[1:])
            tip = html.escape(graph.names[i])
            label = html.escape(graph.drawn_names[i], quote=True)
            value = "" if start[i] is None else html.escape(_plain(start[i]), quote=True)
            attrs = f' data-node="{i}" data-label="{label}" data-value="{value}" data-grad=""'
        elif name[0] == "o" and name[1:].isdigit():
            attrs = f' data-op="{int(name[1:])}"'
            tip = html.escape(str(graph.ops[int(name[1:])]))
        elif name[0] == "g" and name[1:].isdigit():
            attrs = f' data-group="{name[1:]}"'
        return f'<g id="{element}" class="node" data-unit="{name}"{attrs}>\n<title>{tip}</title>'

    return _NODE_G.sub(tag, svg)


def script_json(data: Any) -> str:
    """JSON that is safe inside `<script>`: no `<`, `>` or `&` (so no `</script>`), no U+2028/2029 line breaks."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char in "<>&\u2028\u2029":  # str.replace, not translate: it is 30x faster on a page of megabytes
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("page", name).read_text(encoding="utf-8")


_SLOT = re.compile(r"\{\{(\w+)\}\}")


def _page(title: str, svg: str, data: dict[str, Any]) -> str:
    """Fill the template's slots in one pass, so text put into one slot is never read as another slot."""
    slots = {
        "title": html.escape(title),
        "css": _asset("stepper.css"),
        "steps": str(len(data["steps"])),
        "svg": svg,
        "data": script_json(data),
        "js": _asset("stepper.js"),
    }
    return _SLOT.sub(lambda m: slots[m.group(1)], _asset("stepper.html"))
