"""Benchmark: drawing the graph, `draw` (Python) + `dot -Tsvg` (layout), collapsed and not.

Graphs, all with values and gradients (one backward pass):
  article        the article's 2-2-2 network and its loss (`tinygrad-edu graph --model article`)
  moons MLP      micrograd's demo model, 2-16-16-1 with ReLU, built op by op from scalar Values
                 (sum(wi*xi, b)) on a few two-moons points, SVM loss + L2: about 2,000+ nodes
  moons MLP 10k  the same on more points: about 10,000 nodes
  chain 10k      y = y * 0.999 + 0.001, 5,000 times: 10,001 nodes in one long chain

"collapsed" is the default `collapse="auto", max_nodes=500`; "full" is `collapse=False`, every
node drawn. `dot` runs with a timeout (--timeout); a full drawing that does not finish is reported
as "> timeout", which is exactly the case `render` handles by drawing the collapsed view instead.
Goal: the collapsed 10,000-node graphs to SVG in under 2 s.

Run:  python benchmarks/bench_draw.py [--repeats 3] [--timeout 60] [--quick]
"""

from __future__ import annotations

import itertools
import math
import random
import shutil
import subprocess
from typing import Any

import common

from tinygrad_edu import Value
from tinygrad_edu.check.article_network import article_network
from tinygrad_edu.graph import walk
from tinygrad_edu.viz import draw

# ---------------------------------------------------------------------- graphs


def moons(n: int, seed: int) -> list[tuple[float, float, float]]:
    """n two-moons points (x1, x2, label ±1) with a little noise, as sklearn's make_moons draws them."""
    rng = random.Random(seed)
    points = []
    for i in range(n):
        t = math.pi * rng.random()
        if i % 2:
            x1, x2, y = math.cos(t), math.sin(t), -1.0
        else:
            x1, x2, y = 1 - math.cos(t), 0.5 - math.sin(t), 1.0
        points.append((x1 + rng.gauss(0, 0.1), x2 + rng.gauss(0, 0.1), y))
    return points


def moons_mlp(n_points: int, seed: int) -> Value:
    """micrograd's demo: MLP 2-16-16-1, loss = mean relu(1 - y score) + 1e-4 Σ p², after backward."""
    rng = random.Random(seed)
    sizes = [2, 16, 16, 1]
    layers = [
        [([Value(rng.uniform(-1, 1)) for _ in range(n_in)], Value(0.0)) for _ in range(n_out)]
        for n_in, n_out in itertools.pairwise(sizes)
    ]
    losses = []
    for x1, x2, y in moons(n_points, seed):
        x: list[Any] = [x1, x2]
        for k, layer in enumerate(layers):
            out = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in layer]
            x = [v.relu() for v in out] if k < len(layers) - 1 else out
        losses.append((1 + -y * x[0]).relu())
    params = [p for layer in layers for w, b in layer for p in (*w, b)]
    loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)
    loss.backward()
    return loss


def chain(n_steps: int) -> Value:
    y = Value(1.0, name="x")
    for _ in range(n_steps):
        y = y * 0.999 + 0.001
    y.backward()
    return y


# ---------------------------------------------------------------------- timing


def time_case(root: Value, collapse: Any, timeout: float) -> tuple[float, float | None, int]:
    """(seconds in draw, seconds in dot or None past the timeout, nodes drawn)."""
    t_draw, source = common.timed(lambda: draw(root, collapse=collapse).source)
    drawn = source.count(" [label=") - 1  # minus the legend
    try:
        t_dot, _ = common.timed(
            lambda: subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, timeout=timeout)
        )
    except subprocess.TimeoutExpired:
        t_dot = None
    return t_draw, t_dot, drawn


def main() -> None:
    parser = common.make_parser(__doc__.splitlines()[0], repeats=3)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds dot may take per drawing (default 60)")
    args = parser.parse_args()
    common.print_header("bench_draw: draw + dot -Tsvg", args)
    if shutil.which("dot") is None:
        print("skipped: the Graphviz `dot` program is not installed (apt-get install graphviz)")
        return
    graphs = {
        "article": lambda: article_network()[0],
        "moons MLP": lambda: moons_mlp(1 if args.quick else 2, args.seed),
        "moons MLP 10k": lambda: moons_mlp(3 if args.quick else 14, args.seed),
        "chain 10k": lambda: chain(500 if args.quick else 5000),
    }
    repeats = 1 if args.quick else args.repeats
    if args.quick:
        args.timeout = min(args.timeout, 10.0)
    rows = []
    for name, build in graphs.items():
        root = build()
        n = len(walk(root))
        for mode, collapse in (("collapsed", "auto"), ("full", False)):
            runs = [time_case(root, collapse, args.timeout) for _ in range(repeats)]
            t_draw = common.median([r[0] for r in runs])
            dots = [r[1] for r in runs]
            drawn = runs[0][2]
            if any(t is None for t in dots):
                t_dot = f"> {args.timeout:g} s"
                total = t_dot
            else:
                t_dot = f"{common.median(dots):.3f}"
                total = f"{t_draw + common.median(dots):.3f}"
            rows.append((name, n, mode, drawn, f"{t_draw:.3f}", t_dot, total))
            if t_dot.startswith(">"):
                break  # one timeout is enough: the full drawing of this graph is not usable
    common.print_table(("graph", "nodes", "mode", "drawn", "draw s", "dot s", "total s"), rows)


if __name__ == "__main__":
    main()
