"""The live page and the recording in a real headless Chromium, driven through their contract:
`<body data-step data-loss data-points>`, the controls' ids, `#frame=K`, and no console errors.

The numbers the page shows are checked against the training itself (the session's own steps and
losses, the recording's History), not against constants.
"""

from __future__ import annotations

import time

import pytest

from tinygrad_edu import nn
from tinygrad_edu.train import datasets
from tinygrad_edu.viz.live_view import live, record


def body(browser, name: str) -> str:
    return browser.execute_script(f"return document.body.dataset.{name};")


def step_and_loss(browser) -> tuple[int, float]:
    """Both read in one script: two reads could straddle an update of the page (sixty a second)."""
    step, loss = browser.execute_script("return [document.body.dataset.step, document.body.dataset.loss];")
    return int(step), float(loss)


def wait_for(condition, timeout: float = 10.0, what: str = "the page"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def errors(browser) -> list:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def moons_model(engine: str):
    return nn.Sequential(
        nn.Linear(2, 16, generator=0, engine=engine), nn.ReLU(), nn.Linear(16, 1, generator=1, engine=engine)
    )


def moons_data(n: int = 60):
    X, y = datasets.make_moons(n, noise=0.1, generator=1)
    return X, (2.0 * y - 1).reshape(-1, 1)


@pytest.mark.parametrize("engine", ["tensor", "value"])
def test_the_page_follows_training(browser, engine):
    view = live(moons_model(engine), moons_data(), loss_fn=nn.max_margin_loss, epochs=200, speed=60, open_browser=False)
    try:
        browser.get(view.url)
        wait_for(lambda: int(body(browser, "step") or 0) >= 5, what="the first steps")
        first_step, first_loss = step_and_loss(browser)
        wait_for(lambda: int(body(browser, "step")) >= first_step + 60, what="sixty more steps")
        later_step, later_loss = step_and_loss(browser)
        # the loss falls over training (not in every window of 60 steps: max-margin on moons has bumps, and
        # where the window starts depends on how fast the page loaded), and the page shows it as it goes
        assert later_loss < view.session.losses[0]
        assert first_loss == pytest.approx(view.session.losses[first_step], rel=1e-9)
        assert body(browser, "points") == "60"
        # what the page says is what training did: its loss at that step is the session's
        assert later_loss == pytest.approx(view.session.losses[later_step], rel=1e-9)
        edges = browser.execute_script("return document.querySelectorAll('#network line.edge').length;")
        assert edges == 2 * 16 + 16 * 1
        tip = browser.execute_script("return document.querySelector('#network line.edge title').textContent;")
        assert "gradient" in tip
        view.stop()  # the page hears that training has ended and stops polling: no failed requests
        wait_for(lambda: "stopped" in browser.find_element("id", "state").text, what="the page to hear of the stop")
        time.sleep(0.3)
        assert errors(browser) == []
    finally:
        view.stop()


def test_a_click_adds_a_point_and_training_resumes(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    X, Y = datasets.load_article()
    net = nn.Sequential(nn.Linear(2, 2, generator=0), nn.Sigmoid(), nn.Linear(2, 2, generator=1), nn.Sigmoid())
    view = live(net, (X, Y), loss_fn=nn.MSELoss(), lr=0.5, epochs=3, batch_size=1, speed=0, open_browser=False)
    try:
        browser.get(view.url)
        wait_for(lambda: "reached 3 epochs" in browser.find_element(By.ID, "state").text, what="the end of --epochs")
        assert body(browser, "step") == "30" and body(browser, "points") == "10"
        browser.find_element(By.ID, "point-class").send_keys("class 1")
        boundary = browser.find_element(By.ID, "boundary")
        ActionChains(browser).move_to_element_with_offset(boundary, 60, -40).click().perform()
        wait_for(lambda: body(browser, "points") == "11", what="the new point")
        wait_for(lambda: int(body(browser, "step")) > 30, what="training to resume")
        assert view.session.points.classes()[-1] == 1
        # shift-click on the new point deletes it
        ActionChains(browser).key_down(Keys.SHIFT).move_to_element_with_offset(boundary, 60, -40).click().key_up(
            Keys.SHIFT
        ).perform()
        wait_for(lambda: body(browser, "points") == "10", what="the deletion")
        # pause, one step, learning rate: the page steers the session
        wait_for(lambda: "reached" in browser.find_element(By.ID, "state").text, timeout=20, what="the pause")
        step = int(body(browser, "step"))
        browser.find_element(By.ID, "step-once").click()
        wait_for(lambda: int(body(browser, "step")) == step + 1, what="one step")
        lr = browser.find_element(By.ID, "lr")
        lr.clear()
        lr.send_keys("0.25", Keys.TAB)
        wait_for(lambda: view.session.lr == 0.25, what="the new learning rate")
        assert errors(browser) == []
        # what the server refuses, the page says (and the browser logs the 400 it got)
        lr.clear()
        lr.send_keys("-3", Keys.TAB)
        wait_for(lambda: "learning rate must be > 0" in browser.find_element(By.ID, "message").text, what="the refusal")
        assert view.session.lr == 0.25
        assert all("/control" in e["message"] and "400" in e["message"] for e in errors(browser))
    finally:
        view.stop()


def test_the_recording_opens_at_the_first_and_the_last_frame(browser, tmp_path):
    X, Y = moons_data(40)
    path = tmp_path / "run.html"
    history = record(moons_model("value"), (X, Y), path, loss_fn=nn.max_margin_loss, epochs=30, batch_size=40)
    for fragment, frame in (("#frame=0", 0), ("#frame=end", None), ("#frame=7", 7)):
        browser.get("about:blank")
        browser.get(path.as_uri() + fragment)
        frames = int(body(browser, "frames"))
        assert frames == 31  # frame 0 and one per step (one step an epoch: a full batch)
        k = frames - 1 if frame is None else frame
        assert body(browser, "frame") == str(k)
        assert body(browser, "step") == str(k)
        if k == frames - 1:
            # the last frame shows the loss after the last step: the mean loss of its batch
            assert float(body(browser, "loss")) == pytest.approx(history.history["loss"][-1], rel=1e-9)
    assert body(browser, "points") == "40"
    assert errors(browser) == []
