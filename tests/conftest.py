"""Shared test settings: hypothesis profiles, one wording for skips, and the `browser` fixture.

`default` keeps a plain `pytest` run quick (a few examples per property, enough to catch a wrong
derivative); `ci` explores more. Pick one with `HYPOTHESIS_PROFILE=ci python -m pytest`.
No deadlines: the machines that run the suite are shared and timing is not what these tests check.
"""

import os

import pytest
from browser import chromium_driver
from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile("default", max_examples=25, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("ci", max_examples=80, deadline=None, suppress_health_check=_QUIET, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# ---------------------------------------------------------------------- one wording per missing package
# A test that skips for a missing optional package says which extra brings it, in one wording, whether it
# called `pytest.importorskip("torch")` bare (pytest's "could not import 'torch'") or wrote its own reason.

TORCH = "needs PyTorch: pip install -e '.[torch]' (the CPU-only build: see the README)"
EXTRAS = {
    "torch": TORCH,
    "sklearn": "needs scikit-learn, the compare extra: pip install -e '.[compare]'",
    "mkdocs": "needs the docs extra (docs site and browser tooling): pip install -e '.[docs]'",
    "latex2mathml": "needs the docs extra (docs site and browser tooling): pip install -e '.[docs]'",
    "selenium": "needs the docs extra (docs site and browser tooling): pip install -e '.[docs]'",
}


def skip_reason(message: str) -> str:
    """The one wording for a skip caused by a missing optional package; other skips keep theirs."""
    for module, reason in EXTRAS.items():
        if f"could not import '{module}" in message or message.startswith(reason.split(":")[0].split(" (")[0]):
            return reason
    return message


def _reword(report) -> None:
    if report.skipped and isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        path, line, message = report.longrepr
        text = message.removeprefix("Skipped: ")
        report.longrepr = (path, line, f"Skipped: {skip_reason(text)}")


def pytest_collectreport(report) -> None:
    _reword(report)


def pytest_runtest_logreport(report) -> None:
    _reword(report)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium (tests/browser.py) for a module's page tests, or a skip naming what is missing."""
    driver, why = chromium_driver(str(tmp_path_factory.mktemp("chromium-profile")))
    if driver is None:
        pytest.skip(why)
    yield driver
    driver.quit()
