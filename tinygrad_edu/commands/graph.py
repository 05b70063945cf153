"""`tinygrad-edu graph`: draw a model's backprop graph, values and gradients on it, to SVG/PNG/PDF/DOT.

tinygrad-edu graph --model article --format svg -o article.svg
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from .. import nn
from ..check.article import INPUTS, PARAMS, TARGETS  # the article's numbers live in one place
from ..errors import ArgumentError
from ..fused import weighted_sum
from ..value import Value
from .argtypes import GRAPH_FORMATS, check_output, count, drawing_format, positive_float


class Layer(nn.Module):
    """Two of the article's neurons: s = Σ wᵢ xᵢ + b, then a = σ(s), named s_h1, a_h1, ... as in the article.

    It holds no parameters of its own (the network does, under the article's names w1 … b_o2); it exists
    so that each layer's call is drawn as a labelled cluster, as `Sequential`'s layers are.
    """

    def __init__(self, neurons: tuple[str, str]) -> None:
        super().__init__()
        self.neurons = neurons
        self.in_features = self.out_features = 2

    def forward(self, x: list[Value], weights: list[list[Value]], biases: list[Value]) -> list[Value]:
        out = []
        for neuron, w, b in zip(self.neurons, weights, biases):
            s = weighted_sum(w, x, b)
            s.label = f"s_{neuron}"
            a = s.sigmoid()
            a.label = f"a_{neuron}"
            out.append(a)
        return out


class ArticleNetwork(nn.Module):
    """The article's 2-2-2 network: parameters named as in the article, a hidden and an output `Layer`."""

    def __init__(self) -> None:
        super().__init__()
        for name, x in PARAMS.items():
            setattr(self, name, Value(x, label=name))
        self.hidden = Layer(("h1", "h2"))
        self.output = Layer(("o1", "o2"))

    def __getitem__(self, name: str) -> Value:
        """A parameter by its article name: `net["w5"]`."""
        return getattr(self, name)

    def forward(self, x: list[Value]) -> list[Value]:
        p = self
        h = self.hidden(x, [[p.w1, p.w2], [p.w3, p.w4]], [p.b_h1, p.b_h2])
        return self.output(h, [[p.w5, p.w6], [p.w7, p.w8]], [p.b_o1, p.b_o2])


def article_network() -> tuple[Value, ArticleNetwork]:
    """The article's network after one forward and one backward pass: (E, the network).

    Each neuron is one `weighted_sum` node (s = Σ wᵢ xᵢ + b) and one `sigmoid` (a = σ(s)), named
    as in the article, inside its layer's cluster; E = ½ Σ (t - a)², with the targets and the ½
    drawn as named constants, so the drawing reads like the article's figure and formula.
    """
    net = ArticleNetwork()
    i1, i2 = (Value(x, requires_grad=False, label=name) for name, x in zip(("i1", "i2"), INPUTS))
    a_o1, a_o2 = net([i1, i2])
    half = Value(0.5, requires_grad=False, label="½")
    errors = []
    for neuron, a, t in zip(("o1", "o2"), (a_o1, a_o2), TARGETS):
        target = Value(t, requires_grad=False, label=f"target_{neuron}")
        e = half * (target - a) ** 2
        e.label = f"E_{neuron}"
        errors.append(e)
    E = errors[0] + errors[1]
    E.label = "E"
    E.backward()
    return E, net


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
        choices=GRAPH_FORMATS,
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
    suffix = drawing_format(output, GRAPH_FORMATS) if output else None
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
    from ..viz import record_modules, render  # graphviz is imported only when drawing

    fmt, output = format_and_output(args.output, args.format, args.model)
    with record_modules() as calls:  # each layer's call drawn as a cluster
        root, params = MODELS[args.model]()
    if fmt == "html":  # the step-through page (viz.to_html), laid out by the same `dot`
        from ..viz import steps

        kwargs = {"max_nodes": args.max_nodes, "collapse": False if args.no_collapse else "auto"}
        print(f"wrote {steps(root, params=params, calls=calls, timeout=args.timeout, **kwargs).save(output)}")
        return 0
    path = render(
        root,
        output,
        format=fmt,
        timeout=args.timeout,
        params=params,
        calls=calls,
        rankdir=args.rankdir,
        max_nodes=args.max_nodes,
        collapse=False if args.no_collapse else "auto",
    )
    print(f"wrote {path}")
    return 0
