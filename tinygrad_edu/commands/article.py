"""`tinygrad-edu article`: audit the article's worked example — every number, three ways.

    tinygrad-edu article                     the table: article / autodiff / manual / verdict, and why
    tinygrad-edu article --json              the same as {"rows": [{name, article, autodiff, manual, verdict, why}]}
    tinygrad-edu article --engine tensor     autodiff on the Tensor engine (same numbers)
    tinygrad-edu article --explain w5        only the chain rule for ∂E/∂w5, path by path, and the article's numbers
    tinygrad-edu article --graph article.svg the network's graph with values and gradients
    tinygrad-edu article --code              its training step compiled to Python, next to the article's formulas

Exits 1 if autodiff and the manual formulas ever differ by more than 1e-12.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from . import compile_flags
from .argtypes import check_output, drawing_format

TOLERANCE = 1e-12


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "article",
        help="audit the article's worked example: its numbers vs autodiff vs its own formulas",
        description="Recompute every number of the article's 2-2-2 network (forward pass, E, deltas, the "
        "weights after one SGD step at lr 0.5) by autodiff and by the article's formulas, and say for each "
        "printed number whether it matches, drifted by rounding, or is an error.",
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument(
        "--engine", choices=("value", "tensor"), default="value", help="autodiff engine (default value)"
    )
    parser.add_argument("--graph", metavar="PATH", help="also draw the network's graph to PATH (.svg/.png/.pdf/.dot)")
    parser.add_argument(
        "--explain",
        metavar="NAME",
        help="print only ∂E/∂NAME, path by path, linked to the article's numbers: any name of the audit table "
        "(E, s_h1.., a_h1.., delta_o1.., w1..w8, b_h1..b_o2) or an input (i1, i2)",
    )
    compile_flags.add_article_flags(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..check import article

    if args.code:
        return compile_flags.article_code()
    if args.graph:
        check_output("--graph", args.graph)  # before any work, so a bad path is the only message
    rows = article.audit(args.engine)
    bad = article.disagreements(rows, TOLERANCE)
    if args.explain:
        _explain(args.explain, rows, as_json=args.json)
        if args.graph:
            _graph(args.graph, args.engine, to_stderr=args.json)
        return 1 if bad else 0
    if args.json:
        print(json.dumps({"rows": [r.to_dict() for r in rows]}, indent=2, ensure_ascii=False))
    else:
        network = "its neurons as an nn.Module" if args.engine == "value" else "nn.Sequential"
        print(
            f"The article's worked example: inputs i1 = {article.INPUTS[0]}, i2 = {article.INPUTS[1]}, "
            f"targets {article.TARGETS[0]} and {article.TARGETS[1]}.\n"
            f"E = ½ Σ (target − output)², one SGD step at lr {article.LR}.\n"
            f"autodiff: {network} on the {args.engine} engine. manual: the article's formulas.\n"
        )
        print(article.format_table(rows))
    if args.graph:
        _graph(args.graph, args.engine, to_stderr=args.json)
    if bad:
        print(
            f"tinygrad-edu article: autodiff and the manual formulas differ by more than {TOLERANCE:g} on: "
            f"{', '.join(bad)}",
            file=sys.stderr,
        )
        return 1
    return 0


def _explain(name: str, rows: list[Any], as_json: bool) -> None:
    """Only the explanation of one audit name, then where its numbers are in the article."""
    from ..check import article, explain
    from ..errors import TinygradEduError

    try:
        target = article.explain_target(name)
    except KeyError:
        raise TinygradEduError(
            f"--explain {name!r}: not a name of the audit; use one of {', '.join(article.EXPLAINABLE)}"
        ) from None
    graph = article.build("value")  # explain reads the scalar graph, whatever --engine says
    result = explain(graph.loss, target)
    link = article.link(name, rows)
    if as_json:
        print(
            json.dumps({"name": name, "explanation": result.to_dict(), "article": link}, indent=2, ensure_ascii=False)
        )
        return
    title = f"{name} = ∂E/∂{target}\n" if target != name else ""
    print(f"{title}{result}\n\n{link}")


def _graph(path: str, engine: str, to_stderr: bool) -> None:
    from ..check.article_network import article_network, build
    from ..viz import record_modules, render

    fmt = drawing_format(path) or "svg"
    with record_modules() as calls:  # each layer's call drawn as a cluster
        if engine == "value":  # the drawing `graph --model article` makes: targets and ½ as named constants
            root, params = article_network()
        else:
            graph = build(engine)
            root, params = graph.loss, graph.model
    written = render(root, path, format=fmt, params=params, calls=calls)
    print(f"wrote {written}", file=sys.stderr if to_stderr else sys.stdout)
