"""A headless Chromium for the tests that drive generated pages: Debian's `chromium` and `chromedriver`, via selenium.

Nothing here downloads a browser: without one installed, `chromium_driver()` returns None and the reason why.
"""

from __future__ import annotations

import shutil
from typing import Any

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,850",
)


def chromium_driver(profile: str) -> tuple[Any, str]:
    """(a selenium WebDriver with a fresh profile in `profile`, "") or (None, one line saying what is missing)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None, "needs the docs extra (docs site and browser tooling): pip install -e '.[docs]'"
    binary = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    if binary is None and driver is None:
        return None, "no Chromium and no chromedriver found (Debian: apt-get install chromium chromium-driver)"
    if binary is None:
        return None, "chromedriver is installed but no Chromium browser (Debian: apt-get install chromium)"
    if driver is None:
        return None, "Chromium is installed but not chromedriver (Debian: apt-get install chromium-driver)"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        return webdriver.Chrome(service=Service(driver), options=options), ""
    except Exception as error:  # a driver that does not match the browser, a missing library, ...
        return None, f"Chromium did not start: {str(error).splitlines()[0]}"
