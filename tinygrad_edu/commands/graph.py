"""`tinygrad-edu graph`: draw a model's backprop graph, values and gradients on it, to SVG/PNG/PDF/DOT, or
make the step-through page (HTML).

tinygrad-edu graph --model article --format svg -o article.svg
tinygrad-edu graph --model article -o step.html
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..check.article_network import article_network  # the article's network is built in one place
from ..errors import ArgumentError
from .argtypes import GRAPH_FORMATS, STDOUT, check_output, count, drawing_format, output_path, positive_float

MODELS = {"article": article_network}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "graph",
        help="draw a model's backprop graph (values and gradients) as SVG, PNG, PDF or DOT, or step through it (HTML)",
        description="Run one forward and one backward pass of a model and draw the graph, "
        "every value and gradient on it. html makes the step-through page: the forward and backward pass "
        "one step at a time, with the arithmetic and a quiz, in one file that opens in any browser "
        "(-o step.html). Needs Graphviz's `dot` for svg/png/pdf/html; dot needs nothing.",
    )
    parser.add_argument("--model", choices=sorted(MODELS), default="article", help="which model (default: article)")
    parser.add_argument(
        "--format",
        choices=GRAPH_FORMATS,
        default=None,
        help="html: the step-through page. Default: from -o's suffix, else svg (a different suffix on -o is refused)",
    )
    parser.add_argument(
        "-o", "--output", default=None, help="file to write (default: MODEL.FORMAT; - writes to standard output)"
    )
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
    suffix = drawing_format(output, GRAPH_FORMATS) if output and output != STDOUT else None
    if fmt is not None and suffix is not None and suffix != fmt:
        raise ArgumentError(
            f"--format {fmt} but -o {output} ends in .{suffix}; name the file {os.path.splitext(output)[0]}.{fmt}, "
            f"or leave out --format (the suffix picks it)"
        )
    fmt = fmt or suffix or "svg"
    output = output or f"{model}.{fmt}"
    check_output("-o", output, stdout=True)
    return fmt, output


def run(args: argparse.Namespace) -> int:
    from ..viz import record_modules, render  # graphviz is imported only when drawing

    fmt, output = format_and_output(args.output, args.format, args.model)
    with record_modules() as calls:  # each layer's call drawn as a cluster
        root, params = MODELS[args.model]()
    with output_path(output, fmt) as path:
        if fmt == "html":  # the step-through page (viz.to_html), laid out by the same `dot`
            from ..viz import steps

            kwargs = {"max_nodes": args.max_nodes, "collapse": False if args.no_collapse else "auto"}
            steps(root, params=params, calls=calls, timeout=args.timeout, **kwargs).save(path)
        else:
            render(
                root,
                path,
                format=fmt,
                timeout=args.timeout,
                params=params,
                calls=calls,
                rankdir=args.rankdir,
                max_nodes=args.max_nodes,
                collapse=False if args.no_collapse else "auto",
            )
    if output == STDOUT:  # the drawing is standard output, so the report goes to standard error
        print("wrote the drawing to standard output", file=sys.stderr)
    else:
        print(f"wrote {output}")
    return 0
