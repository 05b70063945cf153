"""Benchmark: what watching costs. The same unpaced training run with no page (`fit`), and under
`viz.live(speed=0)` with the live page open in headless Chromium, polling and drawing every frame.

Workloads (micrograd's moons network, 2-16-16-1 ReLU, max-margin loss, SGD with momentum, full batch):
  value   the scalar engine (a few hundred epochs make a run of 10 s or more)
  tensor  the tensor engine (thousands of epochs make a run of 10 s or more)

Each timed run is the wall time from the start of training to its last step (live: until the session
reports it has reached its epochs). Goal (issue 27): watching costs training at most 2x its time
without the page, on runs of at least 10 s. Runs are interleaved (fit, live, fit, live, ...); the
median and min..max of the paired ratios are printed.

Run:  python benchmarks/bench_live.py [--repeats 3] [--quick]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import common
import numpy as np

from tinygrad_edu import nn, optim
from tinygrad_edu.train import datasets, fit
from tinygrad_edu.viz import live

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from browser import chromium_driver  # the tests' headless Chromium (Debian's), nothing downloaded


def setup(engine: str, seed: int):
    X, y = datasets.make_moons(100, noise=0.1, generator=1)
    Y = (2.0 * y - 1).reshape(-1, 1)
    rng = np.random.default_rng(seed)
    model = nn.Sequential(
        nn.Linear(2, 16, generator=rng, engine=engine),
        nn.ReLU(),
        nn.Linear(16, 16, generator=rng, engine=engine),
        nn.ReLU(),
        nn.Linear(16, 1, generator=rng, engine=engine),
    )
    sgd = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=2e-4)
    return model, sgd, X, Y


def run_fit(engine: str, epochs: int, seed: int) -> float:
    model, sgd, X, Y = setup(engine, seed)
    start = time.perf_counter()
    fit(model, nn.max_margin_loss, sgd, X, Y, epochs, batch_size=len(X), progress=False, generator=seed)
    return time.perf_counter() - start


def run_live(engine: str, epochs: int, seed: int, browser) -> float:
    model, sgd, X, Y = setup(engine, seed)
    start = time.perf_counter()
    view = live(model, (X, Y), loss_fn=nn.max_margin_loss, optimizer=sgd, epochs=epochs, batch_size=len(X),
                speed=0, open_browser=False, generator=seed)  # fmt: skip
    browser.get(view.url)
    while not view.session.finished:
        time.sleep(0.005)
    seconds = time.perf_counter() - start
    deadline = time.perf_counter() + 15  # a short run can end before the page has loaded: give it time to draw
    drawn = 0
    while drawn <= 0 and time.perf_counter() < deadline:
        drawn = int(browser.execute_script("return Number(document.body.dataset.step) || 0;"))
        time.sleep(0.02)
    view.stop()
    browser.get("about:blank")
    assert drawn > 0, "the page drew nothing"
    return seconds


def main() -> int:
    parser = common.make_parser(__doc__.splitlines()[0], repeats=3)
    args = parser.parse_args()
    common.print_header("watching training live: fit alone vs live(speed=0) with the page open", args)
    epochs = {"value": 30, "tensor": 300} if args.quick else {"value": 450, "tensor": 9000}
    repeats = 1 if args.quick else args.repeats
    with tempfile.TemporaryDirectory() as profile:
        browser, why = chromium_driver(profile)
        if browser is None:
            print(f"skipped: {why}")
            return 0
        try:
            rows = []
            for engine, n in epochs.items():
                cases = {
                    "fit": lambda e=engine, n=n: run_fit(e, n, args.seed),
                    "live": lambda e=engine, n=n: run_live(e, n, args.seed, browser),
                }
                times = common.interleaved(cases, repeats)
                ratios = [w / f for w, f in zip(times["live"], times["fit"])]
                rows.append(
                    [
                        engine,
                        n,
                        f"{common.median(times['fit']):.2f}",
                        f"{common.median(times['live']):.2f}",
                        f"{common.median(ratios):.2f}x ({min(ratios):.2f}..{max(ratios):.2f})",
                    ]
                )
        finally:
            browser.quit()
    common.print_table(["engine", "epochs", "fit s", "live + page s", "live / fit (min..max)"], rows)
    print("goal: live / fit <= 2x on runs of at least 10 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
