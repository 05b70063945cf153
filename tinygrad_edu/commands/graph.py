"""`tinygrad-edu graph`: draw a model's backprop graph, values and gradients on it, to SVG/PNG/PDF/DOT.

tinygrad-edu graph --model article --format svg -o article.svg
"""

from __future__ import annotations

import argparse
from typing import Any

from ..check.article import INPUTS, PARAMS, TARGETS  # the article's numbers live in one place
from ..value import Value, weighted_sum


def article_network() -> tuple[Value, dict[str, Value]]:
    """The article's network after one forward and one backward pass: (E, parameters by name).

    Each neuron is one `weighted_sum` node (s = Σ wᵢ xᵢ + b) and one `sigmoid` (a = σ(s)), named
    as in the article, and E = ½ Σ (t - a)², so the drawing reads like the article's figure.
    """
    p = {name: Value(x, label=name) for name, x in PARAMS.items()}
    i1, i2 = (Value(x, requires_grad=False, label=name) for name, x in zip(("i1", "i2"), INPUTS))
    q: dict[str, Value] = {}
    q["s_h1"] = weighted_sum([p["w1"], p["w2"]], [i1, i2], p["b_h1"])
    q["a_h1"] = q["s_h1"].sigmoid()
    q["s_h2"] = weighted_sum([p["w3"], p["w4"]], [i1, i2], p["b_h2"])
    q["a_h2"] = q["s_h2"].sigmoid()
    q["s_o1"] = weighted_sum([p["w5"], p["w6"]], [q["a_h1"], q["a_h2"]], p["b_o1"])
    q["a_o1"] = q["s_o1"].sigmoid()
    q["s_o2"] = weighted_sum([p["w7"], p["w8"]], [q["a_h1"], q["a_h2"]], p["b_o2"])
    q["a_o2"] = q["s_o2"].sigmoid()
    q["E_o1"] = 0.5 * (TARGETS[0] - q["a_o1"]) ** 2
    q["E_o2"] = 0.5 * (TARGETS[1] - q["a_o2"]) ** 2
    q["E"] = q["E_o1"] + q["E_o2"]
    for name, node in q.items():
        node.label = name
    q["E"].backward()
    return q["E"], p


MODELS = {"article": article_network}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "graph",
        help="draw a model's backprop graph (values and gradients) as SVG, PNG, PDF or DOT",
        description="Run one forward and one backward pass of a model and draw the graph, "
        "every value and gradient on it. Needs Graphviz's `dot` for svg/png/pdf; dot needs nothing.",
    )
    parser.add_argument("--model", choices=sorted(MODELS), default="article", help="which model (default: article)")
    parser.add_argument(
        "--format",
        choices=("svg", "png", "pdf", "dot", "html"),
        default=None,
        help="default: from -o's suffix, else svg",
    )
    parser.add_argument("-o", "--output", default=None, help="file to write (default: MODEL.FORMAT)")
    parser.add_argument("--rankdir", choices=("LR", "TB", "RL", "BT"), default="LR", help="direction of the flow")
    parser.add_argument("--max-nodes", type=int, default=500, help="fold bigger graphs into summaries (default 500)")
    parser.add_argument("--no-collapse", action="store_true", help="draw every node, however many")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds `dot` may take (default 30)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..viz import render  # graphviz is imported only when drawing

    fmt = args.format
    if fmt is None:
        suffix = (args.output or "").rpartition(".")[2].lower()
        fmt = suffix if args.output and suffix in ("svg", "png", "pdf", "dot", "html") else "svg"
    output = args.output or f"{args.model}.{fmt}"
    root, params = MODELS[args.model]()
    if fmt == "html":  # the step-through page (viz.to_html), laid out by the same `dot`
        from ..viz import steps

        kwargs = {"max_nodes": args.max_nodes, "collapse": False if args.no_collapse else "auto"}
        print(f"wrote {steps(root, params=params, timeout=args.timeout, **kwargs).save(output)}")
        return 0
    path = render(
        root,
        output,
        format=fmt,
        timeout=args.timeout,
        params=params,
        rankdir=args.rankdir,
        max_nodes=args.max_nodes,
        collapse=False if args.no_collapse else "auto",
    )
    print(f"wrote {path}")
    return 0
