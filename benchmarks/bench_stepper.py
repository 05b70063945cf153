"""Benchmark: the step-through page (`viz.to_html`) on 10,000-node graphs: generating it, and loading it in Chromium.

Graphs (the same as bench_draw.py, values and gradients filled in):
  article        the article's 2-2-2 network (31 nodes)
  moons MLP 10k  micrograd's demo model built op by op from scalar Values: about 10,000 nodes
  chain 10k      y = y * 0.999 + 0.001, 5,000 times: 10,001 nodes in one long chain

"generate" is `to_html(root)` (collapsed to at most 300 drawn nodes, laid out by `dot`); beside it
`draw + dot` alone (the SVG picture, bench_draw's number) for the ratio. "load" is the time from
navigation to the page's `load` event in headless Chromium (its script runs before that), opening at
step 0 and at `#step=end` (which replays every step). Goal: both under 2 s for the 10,000-node graphs.

Run:  python benchmarks/bench_stepper.py [--repeats 3] [--quick]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import common
from bench_draw import chain, moons_mlp

from tinygrad_edu.check.article_network import article_network
from tinygrad_edu.graph import walk
from tinygrad_edu.viz import draw, to_html

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from browser import chromium_driver  # the tests' headless Chromium (Debian's), nothing downloaded


def load_seconds(driver: object, url: str) -> float:
    """Navigation start to the end of the `load` event, as Chromium measured it."""
    driver.get("about:blank")
    driver.get(url)
    return driver.execute_script("return performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000


def main() -> None:
    parser = common.make_parser(__doc__.splitlines()[0], repeats=3)
    args = parser.parse_args()
    common.print_header("bench_stepper: to_html + loading the page in headless Chromium", args)
    if shutil.which("dot") is None:
        print("skipped: the Graphviz `dot` program is not installed (apt-get install graphviz)")
        return
    graphs = {
        "article": lambda: article_network()[0],
        "moons MLP 10k": lambda: moons_mlp(3 if args.quick else 14, args.seed),
        "chain 10k": lambda: chain(500 if args.quick else 5000),
    }
    repeats = 1 if args.quick else args.repeats
    folder = Path(tempfile.mkdtemp(prefix="bench-stepper-"))
    driver, why = chromium_driver(str(folder / "profile"))
    if driver is None:
        print(f"page loads not measured: {why}")
    rows = []
    try:
        for name, build in graphs.items():
            root = build()
            n = len(walk(root))

            def picture(root: object = root) -> bytes:
                source = draw(root, max_nodes=300).source
                return subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, check=True).stdout

            cases = {
                "page": lambda r=root: common.timed(lambda: to_html(r))[0],
                "picture": lambda: common.timed(picture)[0],
            }
            times = common.interleaved(cases, repeats)
            page = to_html(root)
            path = folder / f"{name.replace(' ', '_')}.html"
            path.write_text(page, encoding="utf-8")
            loads: list[str] = ["-", "-"]
            if driver is not None:
                for k, suffix in enumerate(("", "#step=end")):
                    loads[k] = (
                        f"{common.median([load_seconds(driver, path.as_uri() + suffix) for _ in range(repeats)]):.2f}"
                    )
            gen, pic = common.median(times["page"]), common.median(times["picture"])
            rows.append((name, n, f"{len(page) / 2**20:.1f}", f"{gen:.2f}", f"{pic:.2f}", f"{gen / pic:.1f}x", *loads))
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(folder, ignore_errors=True)
    common.print_table(
        ("graph", "nodes", "page MiB", "generate s", "draw+dot s", "page / picture", "load s (step 0)", "load s (end)"),
        rows,
    )


if __name__ == "__main__":
    main()
