"""Benchmark: memory kept by a list of losses (`losses.append(loss)`, the beginner's habit).

200 SGD steps of a 64-256-256-10 ReLU MLP at batch 256 (random data, cross-entropy), each step's loss
appended to a list, as a training loop that plots its losses afterwards would. Before the graph was
released by backward, every kept loss held its step's activations and gradients (+418 MB over the run);
PyTorch, which frees the graph in backward, grows by ~20 MB. We report the growth of the resident set
size (RSS, /proc) between the end of a 20-step warm-up and the end of the run, for tinygrad_edu with
the default `backward()`, for tinygrad_edu inside `keep_graph()` (what drawing needs: the graph kept,
the old cost), and for PyTorch; each case runs in a fresh process so that one does not inherit another's
heap. `tracemalloc` would not see PyTorch's C++ allocations, so RSS is the common measure.

Run:  python benchmarks/bench_kept_losses.py [--steps 200] [--quick]
"""

from __future__ import annotations

import os
import subprocess
import sys

import common

MB = 1024 * 1024
CASES = ("tinygrad_edu", "tinygrad_edu keep_graph()", "torch")


def rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run_case(case: str, steps: int, seed: int) -> float:
    """RSS growth in MB from the end of warm-up to the end of `steps` steps, the losses all kept."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((256, 64)).astype(np.float32)
    y = rng.integers(0, 10, 256)
    warmup = max(steps // 10, 1)
    losses = []
    if case == "torch":
        import torch

        torch.manual_seed(seed)
        model = torch.nn.Sequential(
            torch.nn.Linear(64, 256),
            torch.nn.ReLU(),
            torch.nn.Linear(256, 256),
            torch.nn.ReLU(),
            torch.nn.Linear(256, 10),
        )
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

        def step() -> None:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt), yt)
            loss.backward()
            opt.step()
            losses.append(loss)
    else:
        from tinygrad_edu import Tensor, keep_graph, nn, optim

        model = nn.Sequential(
            nn.Linear(64, 256, generator=seed), nn.ReLU(), nn.Linear(256, 256, generator=seed + 1), nn.ReLU(),
            nn.Linear(256, 10, generator=seed + 2),
        )  # fmt: skip
        opt = optim.SGD(model.parameters(), lr=0.01)
        xt = Tensor(x)
        keep = case.endswith("keep_graph()")

        def step() -> None:
            opt.zero_grad()
            loss = nn.CrossEntropyLoss()(model(xt), y)
            if keep:
                with keep_graph():
                    loss.backward()
            else:
                loss.backward()
            opt.step()
            losses.append(loss)

    for _ in range(warmup):
        step()
    start = rss()
    for _ in range(steps - warmup):
        step()
    return (rss() - start) / MB


def main() -> None:
    parser = common.make_parser(__doc__.splitlines()[0], repeats=1, steps=200)
    parser.add_argument("--case", choices=CASES, help=argparse_hidden())
    args = parser.parse_args()
    steps = 40 if args.quick else args.steps
    if args.case:  # the child process: one case, one number
        print(run_case(args.case, steps, args.seed))
        return
    common.print_header("memory kept by a list of losses (RSS growth)", args)
    rows = []
    for case in CASES:
        if case == "torch" and common.optional_import("torch") is None:
            continue
        out = subprocess.run(
            [sys.executable, __file__, "--case", case, "--steps", str(steps), "--seed", str(args.seed)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        rows.append((case, f"{float(out.stdout.strip().splitlines()[-1]):+.1f} MB"))
    common.print_table([f"{steps} steps, 64-256-256-10 MLP, batch 256, every loss kept", "RSS growth"], rows)


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
