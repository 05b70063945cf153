"""`tinygrad-edu graph`: draw a model's backprop graph, values and gradients on it, to SVG/PNG/PDF/DOT.

tinygrad-edu graph --model article --format svg -o article.svg
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..check.article import INPUTS, PARAMS, TARGETS  # the article's numbers live in one place
from ..errors import ArgumentError
from ..value import Value, weighted_sum
from .argtypes import DRAWING_FORMATS, check_output, count, drawing_format, positive_float


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
        choices=DRAWING_FORMATS,
        default=None,
        help="default: from -o's suffix, else svg (a different suffix on -o is refused)",
    )
    parser.add_argument("-o", "--output", default=None, help="file to write (default: MODEL.FORMAT)")
    parser.add_argument("--rankdir", choices=("LR", "TB", "RL", "BT"), default="LR", help="direction of the flow")
    parser.add_argument(
        "--max-nodes", type=count(10), default=500, help="fold bigger graphs into summaries (at least 10; default 500)"
    )
    parser.add_argument("--no-collapse", action="store_true", help="draw every node, however many")
    parser.add_argument("--timeout", type=positive_float, default=30.0, help="seconds `dot` may take (default 30)")
    parser.set_defaults(func=run)


def format_and_output(output: str | None, fmt: str | None, model: str) -> tuple[str, str]:
    """(format, path): the format follows -o's suffix unless --format says it; a clash is refused,
    since `--format png -o x.svg` would write PNG bytes into a file every viewer opens as SVG."""
    suffix = drawing_format(output) if output else None
    if fmt is not None and suffix is not None and suffix != fmt:
        raise ArgumentError(
            f"--format {fmt} but -o {output} ends in .{suffix}; name the file {os.path.splitext(output)[0]}.{fmt}, "
            f"or leave out --format (the suffix picks it)"
        )
    fmt = fmt or suffix or "svg"
    output = output or f"{model}.{fmt}"
    check_output("-o", output)
    return fmt, output


def run(args: argparse.Namespace) -> int:
    from ..viz import render  # graphviz is imported only when drawing

    fmt, output = format_and_output(args.output, args.format, args.model)
    root, params = MODELS[args.model]()
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
