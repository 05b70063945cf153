"""What every benchmark shares: the command line, the machine header, peer skipping, timing and the table.

Timing rule: each case is run `repeats` times and the *median* is reported, because on a shared
machine the noise is one-sided (other work only ever makes a run slower) and a median ignores the
outliers a mean would absorb. Cases are interleaved (ours, peer, ours, peer, ...) so that a slow
patch of the machine hits every case alike, and the cyclic garbage collector is emptied before each
run (outside the timed region) so that one case never pays for the garbage another one left behind.
Inside the timed region the collector runs as it normally would: that cost is part of an engine.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from importlib import import_module, metadata
from types import ModuleType
from typing import Any

# Let `python benchmarks/bench_x.py` import tinygrad_edu from a source checkout that is not installed.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(1, _ROOT)


# ---------------------------------------------------------------------- command line


def make_parser(description: str, *, repeats: int, steps: int | None = None) -> argparse.ArgumentParser:
    """The flags every benchmark takes: --repeats, --steps (where it has steps) and --quick."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--repeats", type=int, default=repeats, help=f"timed runs per case; the median is reported (default {repeats})"
    )
    if steps is not None:
        parser.add_argument("--steps", type=int, default=steps, help=f"training steps per timed run (default {steps})")
    parser.add_argument("--quick", action="store_true", help="a short smoke run: few repeats, small sizes")
    parser.add_argument("--seed", type=int, default=1337, help="seed for data and initial weights (default 1337)")
    return parser


# ---------------------------------------------------------------------- the machine


def cpu_model() -> str:
    """The CPU's name as /proc/cpuinfo gives it (Linux), else what `platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version_of(dist: str) -> str:
    """An installed distribution's version, read from its metadata (no import, so no import cost)."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def print_header(title: str, args: argparse.Namespace | None = None) -> None:
    """Title, date, machine and versions: what a reader needs to judge the numbers below."""
    import tinygrad_edu

    print(f"== {title}")
    print(f"date      {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    try:
        load = "  load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = ""
    print(f"machine   {cpu_model()}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}{load}")
    print(f"python    {platform.python_version()} ({platform.python_implementation()})")
    versions = [f"tinygrad_edu {tinygrad_edu.__version__}"]
    versions += [f"{name} {version_of(name)}" for name in ("numpy", "torch", "micrograd", "scikit-learn")]
    print("versions  " + ", ".join(versions))
    print(f"numpy's BLAS  {numpy_blas()}")
    if args is not None:
        settings = {k: v for k, v in vars(args).items()}
        print("settings  " + " ".join(f"--{k.replace('_', '-')}={v}" for k, v in settings.items()))
    print()


def numpy_blas() -> str:
    """Which BLAS NumPy calls for its matrix products (it decides the large-batch times)."""
    try:
        import numpy as np

        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older NumPy has no mode="dicts"; the name is a nicety, not a requirement
        return "unknown"


# ---------------------------------------------------------------------- peers


def optional_import(name: str, why: str = "") -> ModuleType | None:
    """Import a peer, or say in one line that it is skipped (a benchmark never fails for a missing peer)."""
    try:
        return import_module(name)
    except ImportError:
        hint = f" ({why})" if why else ""
        print(f"skipped: {name} is not installed{hint}; pip install -e '.[dev,torch]' installs every peer")
        return None


def require(name: str, dist: str) -> ModuleType:
    """Import what the benchmark cannot run without (its data set), or exit with the command that installs it."""
    try:
        return import_module(name)
    except ImportError:
        sys.exit(f"this benchmark needs {dist} for its data: pip install {dist} (or pip install -e '.[compare]')")


# ---------------------------------------------------------------------- timing


def timed(fn: Callable[[], Any], *, pause_gc: bool = False, warm: Callable[[], Any] | None = None) -> tuple[float, Any]:
    """Seconds one call of `fn` takes (garbage emptied first, outside the clock), and its result.

    `pause_gc` switches the cyclic garbage collector off inside the clock, to show what it costs;
    only safe for code that makes no reference cycles (ours), whose garbage refcounting frees.
    `warm` runs after the collection, outside the clock: a full collection walks every object of the
    process and leaves the CPU's caches cold, which the first call timed would pay for (a training
    step that follows another does not: 3-4x its usual time, a few percent of a run of 50 steps).
    """
    gc.collect()
    if warm is not None:
        warm()
    if pause_gc:
        gc.disable()
    try:
        start = time.perf_counter()
        result = fn()
        return time.perf_counter() - start, result
    finally:
        if pause_gc:
            gc.enable()


def interleaved(cases: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Run every case `repeats` times, round-robin, and collect what each returns (a time).

    Each case is a callable that does its own setup, times its own work (see `timed`) and returns
    the number to report, e.g. seconds per step; that keeps setup out of the clock.
    """
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, case in cases.items():
            results[name].append(case())
    return results


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float], scale: float = 1e3) -> str:
    """min..max of the runs (in ms by default), so a reader sees how noisy the median is."""
    return f"{fmt_time(min(values) * scale)}..{fmt_time(max(values) * scale)}"


def fmt_time(x: float) -> str:
    """A time with about three significant digits, never in exponent notation."""
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}" if x >= 0.1 else f"{x:.4f}"


# ---------------------------------------------------------------------- output


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain left-aligned text table (also valid Markdown, so it can be pasted into the docs)."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"

    print(line(cells[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print(line(row))
    print()


def ratio(ours: float, theirs: float) -> str:
    """ours / theirs as '0.42x' (below 1: we are faster); three decimals below 0.1 so small ratios keep digits."""
    r = ours / theirs
    return f"{r:.2f}x" if r >= 0.1 else f"{r:.3f}x"


def paired_ratio(ours: Sequence[float], theirs: Sequence[float]) -> str:
    """The median of ours[i] / theirs[i] over interleaved runs, with their min..max, as '1.46x (1.39..1.52)'.

    Each pair ran back to back, so a slow patch of a shared machine hits both sides of a pair alike:
    steadier than the ratio of two medians taken from different moments.
    """
    ratios = sorted(a / b for a, b in zip(ours, theirs))
    return f"{statistics.median(ratios):.2f}x ({ratios[0]:.2f}..{ratios[-1]:.2f})"


def speedup(ours: float, theirs: float) -> str:
    """theirs / ours as '12.3x faster' (how many times faster we are)."""
    return f"{theirs / ours:.1f}x"
