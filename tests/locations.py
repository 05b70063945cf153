"""Where things are in the repository, for tests in any folder under tests/ (not `parents[n]` in each file)."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
EXAMPLES = ROOT / "examples"
SCRIPTS = ROOT / "scripts"
CHECKER_CASES = TESTS / "checker_cases"
