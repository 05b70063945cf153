"""Two checkouts of tinygrad_edu, side by side: the eager engine's speed on the four workloads of issue 29.

    python benchmarks/bench_backward_ab.py OTHER_CHECKOUT [--rounds 15]

Each checkout runs in a fresh process of its own each round, interleaved (the order alternates); the
table gives medians over the rounds, min..max, and the ratio this checkout / OTHER. Times are CPU
seconds of the process (`time.process_time`): on a machine shared by several people, wall-clock times
mostly measure the others. The children run NumPy's BLAS on one thread (OMP_NUM_THREADS=1 and
friends): with its default threads the CPU time of the batch-1024 matmuls counts every spinning helper
thread, and on a busy 2-core machine it swung 6.5..70 ms for the same step on both checkouts.
The workloads are those of the benchmarks beside this file, shorter:
`bench_tensor_digits.py` (the fused `linear` step, batch 32 and 1024, per step), `bench_scalar_moons.py`
op by op (per step), `bench_deep_chain.py` (the backward pass of the chain, Value and Tensor engines).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
WORKLOADS = ("digits32", "digits1024", "moons", "chain_value", "chain_tensor")
THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
ONE_THREAD = {**os.environ, **dict.fromkeys(THREADS, "1")}


def child(workloads: str) -> None:
    """Run the workloads with the tinygrad_edu of the checkout given; print the seconds of each."""
    sys.path.insert(0, str(HERE / "benchmarks"))
    import tinygrad_edu

    found = {w: run(w) for w in workloads.split(",")}
    print(json.dumps({"seconds": found, "engine": tinygrad_edu.__file__}))


def run(workload: str) -> float:
    """Seconds of one workload: per step (digits, moons) or of the backward phase (the chains)."""
    import gc

    import numpy as np

    import tinygrad_edu

    if workload.startswith("digits"):
        import bench_tensor_digits as b

        size, steps = (32, 150) if workload == "digits32" else (1024, 15)
        X, y = b.digits()
        batches = b.make_batches(X, y, size, steps + 3, 0)
        step, _ = b.make_ours(b.init_params(0))
        xs = [(tinygrad_edu.Tensor(x), t) for x, t in batches]
        for x, t in xs[:3]:
            step(x, t)
        times = []
        for x, t in xs[3:]:
            start = time.process_time()
            step(x, t)
            times.append(time.process_time() - start)
        seconds = statistics.median(times)
    elif workload == "moons":
        import bench_scalar_moons as b

        X, labels = b.moons(0)
        model = b.ScalarMLP(tinygrad_edu.Value, b.fallback_init(0), b.op_by_op_neuron)
        train = b.make_trainer(tinygrad_edu.Value, b._none, False)
        train(model, X, labels, 1)
        start = time.process_time()
        train(model, X, labels, 2)
        seconds = (time.process_time() - start) / 2
    else:
        import bench_deep_chain as b

        if workload == "chain_value":
            leaf, n = tinygrad_edu.Value(1.0), 100_000
        else:
            leaf, n = tinygrad_edu.Tensor(np.array(1.0), requires_grad=True), 20_000
        y = leaf
        for _ in range(n):
            y = y * b.MUL + b.ADD
        gc.collect()
        start = time.process_time()
        y.backward()
        seconds = time.process_time() - start
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", help="another checkout of tinygrad_edu (for example a worktree of main)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    args = parser.parse_args()
    checkouts = {"this": HERE, "other": Path(args.other).resolve()}
    workloads = args.workloads.split(",")
    seconds: dict[tuple[str, str], list[float]] = {(w, c): [] for w in workloads for c in checkouts}
    for r in range(args.rounds):
        for name in list(checkouts)[:: 1 if r % 2 == 0 else -1]:
            script = checkouts[name] / "benchmarks" / Path(__file__).name
            if not script.exists():  # the other checkout may not have this file: run ours against its engine
                script = Path(__file__).resolve()
            cmd = [sys.executable, str(script), "--child", ",".join(workloads), "--root", str(checkouts[name])]
            run = subprocess.run(cmd, check=True, capture_output=True, text=True, env=ONE_THREAD)
            out = json.loads(run.stdout)
            assert Path(out["engine"]).is_relative_to(checkouts[name]), out["engine"]
            for w in workloads:
                seconds[w, name].append(out["seconds"][w])
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    print(f"{'workload':14} {'this (median, min..max)':34} {'other (median, min..max)':34} ratio this/other")
    for w in workloads:
        cells = []
        for name in checkouts:
            s = seconds[w, name]
            cells.append(f"{statistics.median(s) * 1e3:9.3f} ms ({min(s) * 1e3:.3f}..{max(s) * 1e3:.3f})")
        ratio = statistics.median(seconds[w, "this"]) / statistics.median(seconds[w, "other"])
        print(f"{w:14} {cells[0]:34} {cells[1]:34} {ratio:.3f}")


if __name__ == "__main__":
    if "--child" in sys.argv:
        root = Path(sys.argv[sys.argv.index("--root") + 1])
        HERE = root
        sys.path.insert(0, str(root))
        child(sys.argv[sys.argv.index("--child") + 1])
    else:
        main()
