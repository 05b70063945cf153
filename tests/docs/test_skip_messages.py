"""A skipped test says what is missing and how to get it: the right program, the right extra, one wording."""

from __future__ import annotations

import os
import subprocess
import sys

import browser
import pytest
from conftest import TORCH, skip_reason
from locations import ROOT


def test_a_missing_chromedriver_is_not_called_a_missing_chromium(monkeypatch, tmp_path):
    pytest.importorskip("selenium")  # without it (the docs extra) the skip names the extra first
    real = {"chromium": "/usr/bin/chromium", "chromedriver": "/usr/bin/chromedriver"}
    for missing, says in (
        ("chromedriver", "Chromium is installed but not chromedriver (Debian: apt-get install chromium-driver)"),
        ("chromium", "chromedriver is installed but no Chromium browser (Debian: apt-get install chromium)"),
    ):
        monkeypatch.setattr(browser.shutil, "which", lambda name, m=missing: None if name == m else real.get(name))
        driver, why = browser.chromium_driver(str(tmp_path))
        assert driver is None and why == says


def test_one_wording_for_a_missing_package():
    assert skip_reason("could not import 'torch': No module named 'torch'") == TORCH
    assert skip_reason("needs PyTorch: pip install -e '.[torch]'") == TORCH
    assert "'.[compare]'" in skip_reason("could not import 'sklearn': No module named 'sklearn'")
    docs = skip_reason("could not import 'mkdocs': No module named 'mkdocs'")
    assert "'.[docs]'" in docs and skip_reason("needs the docs extra: pip install -e '.[docs]'") == docs
    assert skip_reason("no python blocks on this page") == "no python blocks on this page"


def test_without_torch_every_torch_test_skips_with_the_same_reason(tmp_path):
    """A `torch` that cannot be imported (as in a light install): the skips all read the same."""
    (tmp_path / "torch.py").write_text("raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    files = ["tests/nn/test_losses.py", "tests/engine/test_value.py", "tests/engine/test_higher_order.py"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-k", "torch or Torch", *files],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    skips = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skips, done.stdout[-2000:]
    assert all(line.endswith(TORCH) for line in skips), "\n".join(skips)
