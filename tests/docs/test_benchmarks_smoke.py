"""The issue-12 benchmarks still run: each script's `--quick` smoke run, end to end (slow: about a minute).

No time is asserted (benchmarks are not tests); what is checked is that each script gets through its
correctness check and prints the lines the docs quote from it.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest
from locations import ROOT

BENCHMARKS = ROOT / "benchmarks"


def run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
def test_tensor_digits_prints_paired_ratios() -> None:
    pytest.importorskip("sklearn")  # its data set (conftest.py words the skip)
    out = run("bench_tensor_digits.py")
    assert "first-step check" in out
    assert re.search(r"^\| tinygrad_edu @ \+ +\| 32 +\|", out, re.M)  # the column widths follow the longest name
    assert "vs numpy (min..max)" in out


@pytest.mark.slow
def test_scalar_moons_prints_round_by_round_speedups() -> None:
    pytest.importorskip("sklearn")  # its data set (conftest.py words the skip)
    out = run("bench_scalar_moons.py")
    assert "loss check over the first" in out
    if importlib.util.find_spec("micrograd") is not None:  # the peer is installed (dev extra): its rows ran
        assert "tinygrad_edu op by op, own process" in out
        assert "speedup of tinygrad_edu op by op over micrograd, round by round" in out
        assert "first call (trace + generate + compile the 65k-node step)" in out  # the compiled row's costs
        assert "100 steps including compilation" in out and "the first call's CPU time" in out


@pytest.mark.slow
def test_deep_chain_prints_own_process_row() -> None:
    out = run("bench_deep_chain.py", "--micrograd-fail-n", "0")
    assert "| tinygrad_edu Value, own process" in out
    assert "target (issue 12)" in out


@pytest.mark.slow
def test_live_prints_the_watching_ratio() -> None:
    out = run("bench_live.py")
    assert "live / fit (min..max)" in out or "skipped:" in out
