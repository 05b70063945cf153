"""Retake the screenshots of docs/live.md ("Watch it learn") in headless Chromium.

    .venv/bin/python scripts/live_screenshots.py      # writes docs/images/live_*.png

The live page is taken mid-training on moons (with three points added by clicks, as a learner
would), the recording of the article's network at its last frame.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"


def driver(profile: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("google-chrome") or ""
    flags = ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000", f"--user-data-dir={profile}")
    for flag in flags:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from tinygrad_edu import nn, optim
    from tinygrad_edu.commands.train import PRESETS, build_model
    from tinygrad_edu.train import datasets
    from tinygrad_edu.viz import live, record

    with tempfile.TemporaryDirectory() as tmp:
        browser = driver(tmp)
        try:
            preset = PRESETS["moons"]
            X, Y = preset.load()
            model = build_model(preset, "tensor", np.random.default_rng(0))
            sgd = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
            view = live(model, (X, Y), loss_fn=nn.max_margin_loss, optimizer=sgd, epochs=400, open_browser=False)
            browser.get(view.url)
            boundary = browser.find_element(By.ID, "boundary")
            for dx, dy in ((-150, -150), (-130, -160), (-160, -130)):  # three points of class 0, top left
                ActionChains(browser).move_to_element_with_offset(boundary, dx, dy).click().perform()
            while view.step < 60:
                time.sleep(0.05)
            IMAGES.joinpath("live_moons.png").write_bytes(browser.get_screenshot_as_png())
            view.stop()

            X, Y = datasets.load_article()
            net = nn.Sequential(nn.Linear(2, 2, generator=0), nn.Sigmoid(), nn.Linear(2, 2, generator=1), nn.Sigmoid())
            page = Path(tmp) / "article.html"
            record(net, (X, Y), page, loss_fn=nn.MSELoss(reduction="half_sum"), lr=0.5, epochs=200, batch_size=1)
            browser.get(page.as_uri() + "#frame=end")
            IMAGES.joinpath("live_recording.png").write_bytes(browser.get_screenshot_as_png())
        finally:
            browser.quit()
    print(f"wrote {IMAGES / 'live_moons.png'} and {IMAGES / 'live_recording.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
