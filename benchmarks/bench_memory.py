"""Benchmark: memory. Long training runs stay flat, and what one graph node costs.

1. Soak. 10,000 SGD steps of the digits MLP (tensor engine, 64-128-64-10, sigmoid, cross-entropy,
   batch 32; scikit-learn's digits if installed, else random data of that shape) and of the scalar
   moons MLP (Value engine, 2-16-16-1 ReLU, max-margin loss). The scalar one uses a mini-batch of 4
   points per step (micrograd's demo uses all 100) so that 10,000 steps take a few minutes under
   tracemalloc. After a warm-up (the first 10% of the steps: the caches of NumPy and the allocator
   fill up) memory must stay flat: we report the traced Python heap (`tracemalloc`, which sees
   every allocation Python makes, NumPy's array buffers included) and the resident set size (RSS,
   from /proc), both at the end of warm-up and at the end, and the growth between them. A leak of
   one float per step would show as ~0.3 MB over 10,000 steps.
   Each step also counts what `gc.collect()` finds: the engines keep no reference cycles, so the
   cyclic collector should find nothing and every graph is freed by reference counting alone.

2. Bytes per graph node. Build N nodes (a chain y = y * 1.0001, each node one op on the previous),
   keep them alive, and divide the growth of the traced heap (and separately, of RSS) by N:
   tinygrad_edu's Value and Tensor (a 1-element float64 tensor) next to micrograd's Value and
   PyTorch's tensor. PyTorch allocates in C++, which tracemalloc does not see, so its column is
   RSS only. micrograd turns the number 1.0001 into a Value of its own, so its chain holds two
   objects per step: that is what such a line costs there.

3. What `create_graph=True` costs: the peak traced memory of one forward pass and one gradient of the
   digits MLP (float64), first order and with the gradient recorded as a graph.

Run:  python benchmarks/bench_memory.py [--steps 10000] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import common
import numpy as np

from tinygrad_edu import Tensor, Value, nn, optim

MB = 1024 * 1024


def rss() -> int:
    """Resident set size in bytes (Linux /proc; elsewhere the peak from `resource`, a weaker bound)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ---------------------------------------------------------------------- the two training loops


def digits_step_fn(seed: int, batch: int = 32) -> Callable[[int], float]:
    """One SGD step of the 64-128-64-10 digits MLP per call (tensor engine)."""
    rng = np.random.default_rng(seed)
    try:
        from sklearn.datasets import load_digits

        data = load_digits()
        X, y = (data.data / 16.0).astype(np.float32), data.target.astype(np.int64)
    except ImportError:  # the shapes matter for memory, not the pixels
        X, y = rng.random((1797, 64), dtype=np.float32), rng.integers(0, 10, 1797)
    model = nn.Sequential(
        nn.Linear(64, 128, generator=seed),
        nn.Sigmoid(),
        nn.Linear(128, 64, generator=seed + 1),
        nn.Sigmoid(),
        nn.Linear(64, 10, generator=seed + 2),
    )
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=0.1)
    order = rng.permutation(len(X))

    def step(i: int) -> float:
        idx = order[(i * batch) % (len(X) - batch) :][:batch]
        loss = loss_fn(model(Tensor(X[idx])), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def moons_step_fn(seed: int, batch: int = 4) -> Callable[[int], float]:
    """One SGD step of the scalar 2-16-16-1 moons MLP (max-margin loss) per call (Value engine)."""
    rng = np.random.default_rng(seed)
    from tinygrad_edu.train.datasets import make_moons

    X, y = make_moons(100, noise=0.1, generator=seed) if _moons_takes_generator() else make_moons(100)
    y = np.where(np.asarray(y).reshape(len(X), -1)[:, -1] > 0, 1.0, -1.0)
    X = np.asarray(X, dtype=np.float64)
    model = nn.Sequential(
        nn.Linear(2, 16, engine="value", generator=seed),
        nn.ReLU(),
        nn.Linear(16, 16, engine="value", generator=seed + 1),
        nn.ReLU(),
        nn.Linear(16, 1, engine="value", generator=seed + 2),
        engine="value",
    )
    opt = optim.SGD(model.parameters(), lr=0.05)

    def step(i: int) -> float:
        idx = rng.integers(0, len(X), batch)
        scores = model([[float(v) for v in X[j]] for j in idx])
        loss = sum((1 - float(y[j]) * s[0]).relu() for j, s in zip(idx, scores)) * (1.0 / batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.data

    return step


def _moons_takes_generator() -> bool:
    import inspect

    from tinygrad_edu.train.datasets import make_moons

    params = inspect.signature(make_moons).parameters
    return "noise" in params and "generator" in params


def soak(make: Callable[[int], Callable[[int], float]], seed: int, steps: int, warmup: int) -> dict[str, Any]:
    """Build the model (traced too: it is the baseline) and run `steps` steps; memory at the end
    of warm-up and at the end, and what gc found."""
    gc.collect()
    tracemalloc.start()
    step = make(seed)
    found = 0
    start = time.perf_counter()
    for i in range(steps):
        step(i)
        if i % 100 == 0:
            found += gc.collect()  # objects in unreachable cycles: expect 0
        if i == warmup - 1:
            gc.collect()
            heap0, rss0 = tracemalloc.get_traced_memory()[0], rss()
    gc.collect()
    heap1, peak = tracemalloc.get_traced_memory()
    rss1 = rss()
    tracemalloc.stop()
    return {
        "seconds": time.perf_counter() - start,
        "heap0": heap0,
        "heap1": heap1,
        "peak": peak,
        "rss0": rss0,
        "rss1": rss1,
        "cycles": found,
    }


# ---------------------------------------------------------------------- bytes per node


def chain_value(n: int) -> Any:
    x = y = Value(1.0)
    for _ in range(n):
        y = y * 1.0001
    return x, y


def chain_tensor(n: int) -> Any:
    x = y = Tensor(np.ones(1), requires_grad=True)
    for _ in range(n):
        y = y * 1.0001
    return x, y


def chain_micrograd(n: int) -> Any:
    from micrograd.engine import Value as MValue

    x = y = MValue(1.0)
    for _ in range(n):
        y = y * 1.0001
    return x, y


def chain_torch(n: int) -> Any:
    import torch

    x = y = torch.ones(1, dtype=torch.float64, requires_grad=True)
    for _ in range(n):
        y = y * 1.0001
    return x, y


def traced_per_node(build: Callable[[int], Any], n: int) -> float:
    """Traced bytes per node for a graph of n nodes built by `build`."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    graph = build(n)
    traced = (tracemalloc.get_traced_memory()[0] - before) / n
    tracemalloc.stop()
    del graph
    return traced


def rss_per_node(case: str, n: int) -> float:
    """RSS bytes per node, measured in a fresh interpreter: memory that an earlier case freed stays
    in the allocator's pools and would hide the next case's growth."""
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--rss-case", case, "--nodes", str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.split()[-1])


def _rss_case(case: str, n: int) -> None:
    build = CASES[case]
    build(100)  # import the engine and warm its caches before the baseline
    gc.collect()
    before = rss()
    graph = build(n)
    print((rss() - before) / n)
    del graph


CASES: dict[str, Callable[[int], Any]] = {
    "tinygrad_edu Value": chain_value,
    "tinygrad_edu Tensor": chain_tensor,
    "micrograd Value": chain_micrograd,
    "torch tensor (float64, 1 elem)": chain_torch,
}


def main() -> None:
    parser = common.make_parser(__doc__.splitlines()[0], repeats=1, steps=10_000)
    parser.add_argument("--nodes", type=int, default=200_000, help="graph nodes per bytes-per-node case")
    parser.add_argument("--rss-case", help=argparse.SUPPRESS)  # internal: one RSS measurement, in a child
    args = parser.parse_args()
    if args.rss_case:
        _rss_case(args.rss_case, args.nodes)
        return
    if args.quick:
        args.steps, args.nodes = 500, 20_000
    common.print_header("memory: soak and bytes per node", args)

    rows = []
    for name, make in (("digits MLP, tensor", digits_step_fn), ("moons MLP, Value", moons_step_fn)):
        r = soak(make, args.seed, args.steps, warmup=max(1, args.steps // 10))
        rows.append(
            [
                name,
                args.steps,
                f"{r['seconds']:.0f} s",
                f"{r['heap0'] / MB:.2f} -> {r['heap1'] / MB:.2f} MB ({_pct(r['heap0'], r['heap1'])})",
                f"{r['rss0'] / MB:.1f} -> {r['rss1'] / MB:.1f} MB ({_pct(r['rss0'], r['rss1'])})",
                r["cycles"],
            ]
        )
    common.print_table(["soak", "steps", "time", "traced heap after warm-up", "RSS after warm-up", "gc found"], rows)
    print()

    rows = []
    for name, build in CASES.items():
        if name == "micrograd Value" and common.optional_import("micrograd.engine", "micrograd row") is None:
            continue
        if name.startswith("torch") and common.optional_import("torch", "PyTorch row") is None:
            continue
        traced_text = "n/a (C++)" if name.startswith("torch") else f"{traced_per_node(build, args.nodes):.0f}"
        rows.append([name, args.nodes, traced_text, f"{rss_per_node(name, args.nodes):.0f}"])
    common.print_table(["node (y = y * 1.0001)", "nodes", "bytes/node (tracemalloc)", "bytes/node (RSS)"], rows)

    rows = [
        [batch, *[f"{peak_gradient_bytes(batch, graph) / MB:.2f} MB" for graph in (False, True)]] for batch in (32, 256)
    ]
    for row in rows:
        row.append(f"{float(row[2].split()[0]) / float(row[1].split()[0]):.2f}x")
    common.print_table(
        ["digits MLP, float64, batch", "first order", "create_graph=True", "create_graph / first order"], rows
    )


def peak_gradient_bytes(batch: int, create_graph: bool, seed: int = 0) -> int:
    """Peak traced memory of one forward pass and one gradient of the 64-128-64-10 digits MLP
    (random data), first order or with `create_graph=True`: what a gradient that is a graph costs."""
    from tinygrad_edu import cross_entropy
    from tinygrad_edu.autograd import grad

    rng = np.random.default_rng(seed)
    X, y = rng.random((batch, 64)), rng.integers(0, 10, batch)
    arrays = [rng.normal(0, 0.1, s) for s in [(64, 128), (128,), (128, 64), (64,), (64, 10), (10,)]]
    gc.collect()
    tracemalloc.start()
    params = [Tensor(a, requires_grad=True) for a in arrays]
    W1, b1, W2, b2, W3, b3 = params
    h = (Tensor(X) @ W1 + b1).sigmoid()
    h = (h @ W2 + b2).sigmoid()
    grads = grad(cross_entropy(h @ W3 + b3, y), params, create_graph=create_graph)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del grads
    return peak


def _pct(a: float, b: float) -> str:
    return f"{100 * (b - a) / a:+.2f}%"


if __name__ == "__main__":
    main()
