"""The built docs site in a real browser: no request leaves localhost, formulas are MathML, nothing cut off.

Builds the site with `mkdocs build`, serves it on 127.0.0.1 and opens every page in headless Chromium,
reading the browser's own network log. Set TINYGRAD_EDU_SCREENSHOTS=folder to keep a screenshot of
each page, to look at them as a reader would.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from locations import ROOT

pytest.importorskip("mkdocs", reason="needs the docs extra: pip install -e '.[docs]'")
webdriver = pytest.importorskip(
    "selenium.webdriver", reason="needs the docs extra (docs site and browser tooling): pip install -e '.[docs]'"
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(CHROMIUM is None or DRIVER is None, reason="needs chromium + chromedriver (apt-get)")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test reads the browser's log, not the server's
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield out, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,2000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER), options=options)
    yield driver
    driver.quit()


def _pages(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out).parent) for p in out.glob("**/index.html"))


def _requests(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_every_page_loads_nothing_from_the_network_and_shows_its_formulas(site, browser):
    out, base = site
    shots = os.environ.get("TINYGRAD_EDU_SCREENSHOTS")
    pages = _pages(out)
    assert "worked-example" in pages and len(pages) >= 10
    for page in pages:
        browser.get(f"{base}/{'' if page == '.' else page + '/'}")
        browser.execute_script("return document.readyState")
        outside = [u for u in _requests(browser) if not u.startswith((base, "data:", "blob:"))]
        assert outside == [], f"{page}: fetched from the network: {outside}"
        text = browser.execute_script("return document.querySelector('article').innerText")
        assert "\\(" not in text and "\\[" not in text, f"{page}: raw TeX shown"
        # Nothing sticks out of the text column: wide formulas scroll inside their own box.
        overflow = browser.execute_script(
            "const col = document.querySelector('article').getBoundingClientRect().right + 1;"
            "return [...document.querySelectorAll('article math, article table, article img, article svg')]"
            ".filter(e => !e.closest('.math-block, .md-typeset__scrollwrap, pre, .md-typeset__table'))"
            ".filter(e => e.getBoundingClientRect().right > col).map(e => e.outerHTML.slice(0, 80));"
        )
        assert overflow == [], f"{page}: cut off at the column edge: {overflow}"
        empty_headers = browser.execute_script(
            "return [...document.querySelectorAll('article thead tr')].filter(r => r.innerText.trim() === '').length;"
        )
        assert empty_headers == 0, f"{page}: a table with an empty header row"
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(Path(shots) / f"{'index' if page == '.' else page.replace('/', '_')}.png"))
    browser.get(f"{base}/worked-example/")
    assert browser.execute_script("return document.querySelectorAll('article math').length") > 20
