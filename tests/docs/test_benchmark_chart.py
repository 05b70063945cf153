"""The ratio chart's reader (scripts/gen_docs.py): which numbers of docs/benchmarks.md it charts."""

from __future__ import annotations

import importlib.util

from locations import SCRIPTS

_spec = importlib.util.spec_from_file_location("gen_docs", SCRIPTS / "gen_docs.py")
gen_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_docs)

PAGE = """
## 1. Engines

| engine | batch | ms/step | vs numpy (min..max) | ratio vs torch |
|---|---|---|---|---|
| ours | 32 | 0.19 | 1.39x (0.92..1.93) | 0.65x |
| ours | 1024 | 2.05 | **1.08x** | - |
| numpy | 32 | 0.14 | - | 0.46x |

An earlier run, kept for the record:

| engine | batch | ms/step | vs numpy | ratio vs torch |
|---|---|---|---|---|
| ours | 32 | 0.30 | 1.62x | 0.80x |

## 2. Next

| case | ratio |
|---|---|
| chain | 0.24x |
"""


def test_reads_the_first_table_of_each_section_with_paired_spreads() -> None:
    assert gen_docs.benchmark_ratios(PAGE) == [
        ("1. Engines", "ours (batch 32): vs numpy", 1.39),
        ("1. Engines", "ours (batch 32): ratio vs torch", 0.65),
        ("1. Engines", "ours (batch 1024): vs numpy", 1.08),
        ("1. Engines", "numpy (batch 32): ratio vs torch", 0.46),
        ("2. Next", "chain: ratio", 0.24),
    ]
