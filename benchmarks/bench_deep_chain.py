"""Benchmark 3: a long chain of scalar ops, forward and backward, against PyTorch and micrograd.

    y₀ = 1,  y_{k+1} = y_k * 1.0001 + 0.001,  then y_n.backward()

Each step adds two nodes (a multiplication and an addition), so the default n = 150,000 builds a
graph of 300,000 ops (issue 12's size; --n 1000000 for two million). dy_n/dy₀ = 1.0001ⁿ, which
every engine must report. A graph this deep is where recursive graph walks fail: micrograd's recursive
topological sort raises RecursionError once the chain is about 500 steps (1,000 nodes) deep,
so micrograd is timed on a short chain (per-op times) and shown failing on the long one.

Rows: tinygrad_edu Value, in this process (where PyTorch, micrograd and scikit-learn are loaded too)
and in a fresh process of its own that imports only tinygrad_edu, as a learner's script does (the
cyclic collector's full collections walk every object of the process, so ours pays for the peers'
~200,000 objects here, PyTorch's C++ graph does not); tinygrad_edu Tensor on a 0-d float64 array;
PyTorch on a 0-d float64 tensor (~20 s, so 1 run by default); micrograd at --micrograd-depth and at
--micrograd-fail-n.

Run:  python benchmarks/bench_deep_chain.py [--n 1000000] [--repeats 3] [--quick]
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import common
import numpy as np

from tinygrad_edu import Tensor, Value

MUL, ADD = 1.0001, 0.001
GC_PAUSED = "(Value, cyclic GC paused)"
OWN_PROCESS = "tinygrad_edu Value, own process"


def run_chain(leaf: Any, n: int, *, pause_gc: bool = False) -> dict[str, Any]:
    """Build the chain from `leaf`, backpropagate, free it; seconds for each phase and dy/dy₀."""
    gc.collect()
    if pause_gc:
        gc.disable()
    try:
        y = leaf
        start = time.perf_counter()
        for _ in range(n):
            y = y * MUL + ADD
        built = time.perf_counter()
        y.backward()
        done = time.perf_counter()
        del y  # the whole graph goes here: refcounting must free 2n nodes without recursing
        freed = time.perf_counter()
    finally:
        if pause_gc:
            gc.enable()
    return {"forward": built - start, "backward": done - built, "free": freed - done, "grad": float(leaf.grad)}


def run_chain_in_own_process(n: int) -> dict[str, Any]:
    """`run_chain` in a fresh Python that imports only this file (NumPy and tinygrad_edu), as a learner's
    script would: none of the peers' objects for the cyclic collector to walk."""
    here = os.path.dirname(os.path.abspath(__file__))
    code = (
        f"import json, sys; sys.path.insert(0, {here!r}); import bench_deep_chain as b; "
        f"print(json.dumps(b.run_chain(b.Value(1.0), {n}) | {{'objects': len(b.gc.get_objects())}}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def short_chains(make_leaf: Callable[[], Any], depth: int, count: int) -> dict[str, Any]:
    """`count` chains of `depth` steps each (for an engine that cannot go deep); summed phase times."""
    gc.collect()
    forward = backward = 0.0
    grad = None
    for _ in range(count):
        leaf = y = make_leaf()
        start = time.perf_counter()
        for _ in range(depth):
            y = y * MUL + ADD
        built = time.perf_counter()
        y.backward()
        forward += built - start
        backward += time.perf_counter() - built
        grad = float(leaf.grad)
    return {"forward": forward, "backward": backward, "free": float("nan"), "grad": grad}


def median_phases(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = {key: common.median([r[key] for r in runs]) for key in ("forward", "backward", "free")}
    out["grad"] = runs[0]["grad"]
    return out


def main() -> None:
    parser = common.make_parser(__doc__.splitlines()[0], repeats=3)
    parser.add_argument("--n", type=int, default=150_000, help="chain length in steps (default 150000: 3e5 ops)")
    parser.add_argument("--tensor-repeats", type=int, default=1, help="runs of the Tensor engine (default 1)")
    parser.add_argument(
        "--micrograd-depth", type=int, default=400, help="steps per micrograd chain that it survives (default 400)"
    )
    parser.add_argument(
        "--micrograd-steps",
        type=int,
        default=200_000,
        help="steps in all over the short chains, for a stable per-step time (default 200000)",
    )
    parser.add_argument(
        "--micrograd-fail-n",
        type=int,
        default=None,
        help="chain length at which micrograd's RecursionError is shown (default: --n; 1,000,000 takes ~30 s "
        "and ~2.5 GB); 0 skips it",
    )
    args = parser.parse_args()
    if args.quick:
        args.n, args.repeats, args.tensor_repeats = 10_000, 1, 1
        args.micrograd_steps = 20_000
    if args.micrograd_fail_n is None:
        args.micrograd_fail_n = args.n
    common.print_header(f"deep chain: {args.n:,} steps of y = y * {MUL} + {ADD}, then backward", args)
    n = args.n
    torch = common.optional_import("torch", "the PyTorch row is left out")
    micrograd = common.optional_import("micrograd", "the micrograd rows are left out")

    # (engine, chain length, steps timed in all, phase times)
    rows: list[tuple[str, int, int, dict[str, Any]]] = []

    def long_row(name: str, make_leaf: Callable[[], Any], repeats: int, pause_gc: bool = False) -> None:
        runs = [run_chain(make_leaf(), n, pause_gc=pause_gc) for _ in range(repeats)]
        rows.append((name, n, n, median_phases(runs)))

    # The rows the bar compares run in rounds, interleaved (ours here, ours in its own process, PyTorch
    # with its default threads (os.cpu_count()) and with one: on a shared box the two swing apart), so
    # that each round's ratio compares runs made minutes apart at most.
    def torch_leaf(threads: int) -> Callable[[], Any]:
        def make() -> Any:
            torch.set_num_threads(threads)
            return torch.tensor(1.0, dtype=torch.float64, requires_grad=True)

        return make

    rounds: dict[str, Callable[[], dict[str, Any]]] = {
        "tinygrad_edu Value": lambda: run_chain(Value(1.0), n),
        OWN_PROCESS: lambda: run_chain_in_own_process(n),
    }
    if torch is not None:
        rounds["torch 0-d f64"] = lambda: run_chain(torch_leaf(os.cpu_count() or 1)(), n)
        rounds["torch 0-d f64, 1 thread"] = lambda: run_chain(torch_leaf(1)(), n)
    by_round: dict[str, list[dict[str, Any]]] = {name: [] for name in rounds}
    for _ in range(args.repeats):
        for name, run in rounds.items():
            by_round[name].append(run())
    for name, runs in by_round.items():
        rows.append((name, n, n, median_phases(runs)))
    long_row(GC_PAUSED, lambda: Value(1.0), args.repeats, pause_gc=True)
    long_row("tinygrad_edu Tensor 0-d f64", lambda: Tensor(np.array(1.0), requires_grad=True), args.tensor_repeats)

    depth = args.micrograd_depth
    count = max(1, args.micrograd_steps // depth)
    if micrograd is not None:
        from micrograd.engine import Value as MicroValue

        phases = short_chains(lambda: MicroValue(1.0), depth, count)
        rows.append((f"micrograd, {count} x {depth} steps", depth, depth * count, phases))
    phases = short_chains(lambda: Value(1.0), depth, count)
    rows.append((f"tinygrad_edu Value, {count} x {depth} steps", depth, depth * count, phases))

    # Same answer everywhere: dy/dy0 = 1.0001^length (relative 1e-9; all round the same float64 ops).
    for name, length, _, phases in rows:
        expected = MUL**length
        error = abs(phases["grad"] - expected) / expected
        assert error < 1e-9, f"{name}: dy/dy0 = {phases['grad']!r}, expected {expected!r}"

    per_step = {name: (p["forward"] + p["backward"]) / steps for name, _, steps, p in rows}
    torch_rows = [per_step[name] for name in per_step if name.startswith("torch")]
    torch_per_step = min(torch_rows) if torch_rows else None  # the faster of PyTorch's two settings
    table = []
    for name, length, steps, phases in rows:
        # Only chains as long as torch's are compared with it; the short ones are compared with each other.
        comparable = torch_per_step and length == n and not name.startswith("torch")
        vs = common.ratio(per_step[name], torch_per_step) if comparable else "-"
        free = "-" if phases["free"] != phases["free"] else f"{phases['free']:.2f}"  # NaN: not measured
        table.append(
            [name, f"{steps:,}", f"{phases['forward']:.2f}", f"{phases['backward']:.2f}",
             f"{phases['forward'] + phases['backward']:.2f}", free, f"{per_step[name] * 1e6:.2f}", vs,
             f"{phases['grad']:.6e}"]
        )  # fmt: skip
    print(
        f"seconds (medians: Value and torch {args.repeats} interleaved rounds, Tensor {args.tensor_repeats}); "
        "us/step = (forward + backward) / steps; ratio = our us/step / the faster torch row's:"
    )
    common.print_table(
        ["engine", "steps", "forward s", "backward s", "fwd+bwd s", "free s", "us/step", "ratio vs torch", "dy/dy0"],
        table,
    )
    short = [per_step[name] for name, length, _, _ in rows if length == depth and length != n]
    if len(short) == 2:
        print(f"on chains of {depth} steps (as deep as micrograd goes): micrograd / tinygrad_edu Value = "
              f"{common.speedup(short[1], short[0])} per step")  # fmt: skip
    print(
        f"tracked objects for the collector to walk besides the chain: {len(gc.get_objects()):,} in this process, "
        f"{by_round[OWN_PROCESS][0]['objects']:,} in the learner's own (after the chain was freed)"
    )
    if torch is not None:
        for name in ("tinygrad_edu Value", OWN_PROCESS):
            ours = [r["forward"] + r["backward"] for r in by_round[name]]
            theirs = [
                min(a["forward"] + a["backward"], b["forward"] + b["backward"])
                for a, b in zip(by_round["torch 0-d f64"], by_round["torch 0-d f64, 1 thread"])
            ]
            print(f"{name} / the faster torch row of the same round: {common.paired_ratio(ours, theirs)}")
    print(f"{GC_PAUSED} is a diagnosis, not a peer: the same run with gc.disable() around it.")
    print("target (issue 12): tinygrad_edu Value fwd+bwd <= 0.25x torch's at 3e5 ops (aim: 0.1x)")

    if micrograd is not None and args.micrograd_fail_n > 0:
        show_micrograd_failure(args.micrograd_fail_n)


def show_micrograd_failure(n: int) -> None:
    """Build micrograd's chain of n steps and call backward: its recursive topo sort gives up."""
    from micrograd.engine import Value as MicroValue

    print()
    print(f"micrograd at {n:,} steps (Python's recursion limit is {sys.getrecursionlimit()}):")
    gc.collect()
    y = MicroValue(1.0)
    start = time.perf_counter()
    for _ in range(n):
        y = y * MUL + ADD
    built = time.perf_counter()
    try:
        y.backward()
        print(f"  forward {built - start:.2f} s, backward finished (no RecursionError at this depth)")
    except RecursionError as error:
        print(f"  forward {built - start:.2f} s, then backward raised RecursionError: {error}")
    del y
    start = time.perf_counter()
    gc.collect()  # micrograd's closures hold their own output: only the cyclic collector frees the graph
    print(f"  freeing its graph took gc.collect() {time.perf_counter() - start:.2f} s (reference cycles)")


if __name__ == "__main__":
    main()
