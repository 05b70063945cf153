"""The step-through page in a real headless Chromium, on the article's network: what a learner sees at each step.

Every number is checked against the article's maths done by hand (test_stepper.article_by_hand) or the
engine's own graph; the page is driven through its contract (`#step=N`, `data-step`, `data-label`/`-value`/`-grad`).
"""

from __future__ import annotations

import shutil

import pytest
from browser import chromium_driver
from test_stepper import article_by_hand

from tinygrad_edu import Value
from tinygrad_edu.check.article_network import article_network
from tinygrad_edu.viz import steps
from tinygrad_edu.viz.trace import read_graph, timeline

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver, why = chromium_driver(str(tmp_path_factory.mktemp("chromium-profile")))
    if driver is None:
        pytest.skip(why)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def article_page(tmp_path_factory):
    E, params = article_network()
    path = tmp_path_factory.mktemp("pages") / "article.html"
    steps(E, params=params).save(path)
    line = timeline(read_graph(E, params)).steps
    return path.as_uri(), line


def open_at(browser, url: str, step: str | int | None = None) -> None:
    browser.get("about:blank")  # a fresh load each time, not only a hash change
    browser.get(url if step is None else f"{url}#step={step}")


def node_attrs(browser) -> dict[str, tuple[str, str]]:
    """data-label -> (data-value, data-grad) of every drawn, named node."""
    rows = browser.execute_script(
        "return [...document.querySelectorAll('g[data-node]')]"
        ".map(g => [g.dataset.label, g.dataset.value, g.dataset.grad]);"
    )
    return {label: (value, grad) for label, value, grad in rows if label}


def body(browser, name: str) -> str:
    return browser.execute_script(f"return document.body.dataset.{name};")


def errors(browser) -> list:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def test_after_the_forward_pass_every_value_is_there_and_no_gradient(browser, article_page):
    url, line = article_page
    n_forward = sum(s["kind"] == "forward" for s in line)
    open_at(browser, url, n_forward)
    assert body(browser, "step") == str(n_forward)
    hand = article_by_hand()
    nodes = node_attrs(browser)
    for name in ("s_h1", "a_h1", "s_o1", "a_o1", "a_o2"):
        assert float(nodes[name][0]) == pytest.approx(hand[name], rel=1e-12)
    assert all(grad == "" for _, grad in nodes.values())
    assert errors(browser) == []


def test_at_the_end_w5_has_the_articles_gradient(browser, article_page):
    url, line = article_page
    open_at(browser, url, "end")
    assert body(browser, "step") == body(browser, "steps") == str(len(line))
    grad = float(node_attrs(browser)["w5"][1])
    assert grad == pytest.approx(article_by_hand()["grad w5"], rel=1e-12)
    assert round(grad, 6) == 0.095109
    steps_text = browser.execute_script("return document.getElementById('step-text').innerText")
    assert "Done" in steps_text


def test_the_w5_step_shows_the_articles_arithmetic(browser, article_page):
    url, line = article_page
    E, params = article_network()
    w5 = read_graph(E, params).names.index("w5")
    step = 1 + next(k for k, s in enumerate(line) if any(e["parent"] == w5 for e in s.get("edges", [])))
    open_at(browser, url, step)
    text = browser.find_element("id", "step-text").text
    assert "w5.grad += a_h1 × s_o1.grad = 0.783808 × 0.121343 = 0.0951095" in text
    assert errors(browser) == []


def test_a_middle_step_has_some_gradients_but_not_all(browser, article_page):
    url, line = article_page
    middle = [k + 1 for k, s in enumerate(line) if s["kind"] == "backward"]
    open_at(browser, url, middle[len(middle) // 2])
    grads = [grad for _, grad in node_attrs(browser).values()]
    done = [g for g in grads if g != ""]
    assert 0 < len(done) < len([g for name, g in node_attrs(browser).items() if name not in ("i1", "i2")])
    assert float(node_attrs(browser)["E"][1]) == 1.0


def test_the_running_sum_at_a_hidden_neuron(browser, article_page):
    url, line = article_page
    hand = article_by_hand()
    E, params = article_network()
    a_h1 = read_graph(E, params).names.index("a_h1")
    reach = [(k + 1, e["symbol"]) for k, s in enumerate(line) for e in s.get("edges", []) if e["parent"] == a_h1]
    assert sorted(symbol for _, symbol in reach) == ["w5", "w7"]  # via o1 (weight w5) and via o2 (w7)
    (first_step, first_weight), (second_step, _) = reach
    open_at(browser, url, first_step)
    via = "o1" if first_weight == "w5" else "o2"
    assert float(node_attrs(browser)["a_h1"][1]) == pytest.approx(hand[f"grad a_h1 via {via}"], rel=1e-12)
    open_at(browser, url, second_step)
    assert float(node_attrs(browser)["a_h1"][1]) == pytest.approx(hand["grad a_h1"], rel=1e-12)
    assert "running sum" in browser.find_element("id", "step-text").text


def test_keyboard_steps_and_the_url_follows(browser, article_page):
    from selenium.webdriver.common.keys import Keys

    url, line = article_page
    open_at(browser, url)
    page = browser.find_element("tag name", "body")
    assert body(browser, "step") == "0"
    for _ in range(3):
        page.send_keys(Keys.ARROW_RIGHT)
    assert body(browser, "step") == "3" and browser.current_url.endswith("#step=3")
    page.send_keys(Keys.ARROW_LEFT)
    assert body(browser, "step") == "2"
    page.send_keys(Keys.END)
    assert body(browser, "step") == str(len(line)) and browser.current_url.endswith("#step=end")
    page.send_keys(Keys.HOME)
    assert body(browser, "step") == "0"
    assert errors(browser) == []


def test_quiz_accepts_a_right_answer_and_rejects_a_wrong_one(browser, article_page):
    url, line = article_page
    seed = next(k for k, s in enumerate(line) if s["kind"] == "seed")
    open_at(browser, url, seed + 1)  # the next step is the first backward one: a question
    browser.find_element("id", "quiz-mode").click()
    browser.find_element("id", "next").click()
    assert browser.find_element("id", "quiz").is_displayed()
    assert body(browser, "step") == str(seed + 1)  # the answer is not shown before it is asked
    answer = float(line[seed + 1]["edges"][0]["grad"])
    box = browser.find_element("id", "quiz-answer")
    box.send_keys(f"{answer:.6f}")
    browser.find_element("id", "quiz-check").click()
    result = browser.find_element("id", "quiz-result")
    assert result.get_attribute("data-verdict") == "right" and "Right" in result.text
    assert body(browser, "step") == str(seed + 2)  # and the arithmetic is shown
    browser.find_element("id", "next").click()  # the next question
    assert result.get_attribute("data-verdict") is None
    box.send_keys(f"{float(line[seed + 2]['edges'][0]['grad']) * 2 + 1:.6f}")
    browser.find_element("id", "quiz-check").click()
    assert result.get_attribute("data-verdict") == "wrong" and "tolerance" in result.text
    assert errors(browser) == []


def test_clicking_a_node_shows_its_chain_rule_and_search_finds_it(browser, article_page):
    url, _ = article_page
    open_at(browser, url, "end")
    browser.find_element("css selector", 'g[data-label="w1"]').click()
    panel = browser.find_element("id", "node-panel")
    assert panel.is_displayed() and "w1" in browser.find_element("id", "node-title").text
    assert "path 1:" in panel.text and "path 2:" in panel.text  # w1 reaches E through both outputs
    search = browser.find_element("id", "search")
    search.send_keys("a_h2\n")
    browser.execute_script("arguments[0].dispatchEvent(new Event('change'))", search)
    assert browser.find_element("id", "node-title").text.startswith("a_h2")
    assert errors(browser) == []


def test_a_hostile_label_cannot_run_script(browser, tmp_path):
    evil = '</script><script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">'
    a = Value(0.5, name=evil)
    b = a.sigmoid() * 3.0
    b.name = "<b onmouseover=alert(1)>out</b>"
    path = tmp_path / "evil.html"
    steps(b, title=evil).save(path)
    browser.get(path.as_uri() + "#step=end")
    assert browser.title != "pwned" and browser.execute_script("return document.title") != "pwned"
    labels = browser.execute_script("return [...document.querySelectorAll('g[data-node]')].map(g => g.dataset.label)")
    assert evil in labels
    assert browser.execute_script("return document.querySelectorAll('img, b').length") == 0
    assert errors(browser) == []


def test_in_a_notebook_the_iframe_steps_too(browser, tmp_path):
    from selenium.webdriver.common.keys import Keys

    a, b = Value(2.0, name="a"), Value(-3.0, name="b")
    c = a * b + a  # dc/da = b + 1 = -2
    c.name = "c"
    cell = tmp_path / "cell.html"
    cell.write_text(f"<!DOCTYPE html><html><body>{steps(c)._repr_html_()}</body></html>", encoding="utf-8")
    browser.get(cell.as_uri())
    browser.switch_to.frame(browser.find_element("tag name", "iframe"))
    try:
        browser.find_element("id", "step-title").click()  # the learner clicks into the cell's frame first
        browser.find_element("tag name", "body").send_keys(Keys.END)  # about:srcdoc has no URL to update
        assert body(browser, "step") == body(browser, "steps")
        assert float(node_attrs(browser)["a"][1]) == -2.0 and float(node_attrs(browser)["b"][1]) == 2.0
    finally:
        browser.switch_to.default_content()
    assert errors(browser) == []


def test_a_collapsed_graph_lights_up_the_summary_of_a_folded_node(browser, tmp_path):
    y = Value(1.0, name="x")
    for _ in range(400):  # 801 nodes, far more than max_nodes
        y = y * 0.999 + 0.001
    y.name = "y"
    path = tmp_path / "chain.html"
    page = steps(y, max_nodes=40)
    page.save(path)
    data = read_graph(y)
    line = timeline(data).steps
    assert 'data-group="' in page.html
    middle = next(k for k, s in enumerate(line) if s["kind"] == "forward" and s["node"] == 400)
    open_at(browser, path.as_uri(), middle + 1)
    current = browser.execute_script("return [...document.querySelectorAll('g.current')].map(g => g.dataset.unit)")
    assert len(current) == 1 and current[0].startswith("g")  # the summary that hides node 400
    open_at(browser, path.as_uri(), "end")
    x_grad = float(node_attrs(browser)["x"][1])
    assert x_grad == pytest.approx(0.999**400, rel=1e-12)  # dy/dx of 400 steps of y * 0.999
    assert errors(browser) == []


def test_a_tensor_page_shows_shapes_and_the_engine_gradients(browser, tmp_path):
    import json

    import numpy as np

    from tinygrad_edu import Tensor

    w = Tensor(np.array([[0.5, -1.0], [2.0, 0.25]]), requires_grad=True, name="W")
    x = Tensor(np.array([[1.0, 2.0]]), name="x")
    loss = (x @ w).sigmoid().sum()
    loss.name = "loss"
    loss.backward(retain_graph=True)
    path = tmp_path / "tensor.html"
    steps(loss).save(path)
    open_at(browser, path.as_uri(), "end")
    value, grad = node_attrs(browser)["W"]
    s = 1 / (1 + np.exp(-(x.data @ w.data)))
    np.testing.assert_allclose(json.loads(grad), (x.data.T @ (s * (1 - s))).ravel(), rtol=1e-12)
    assert json.loads(value) == [0.5, -1.0, 2.0, 0.25]
    assert "(2, 2) float64" in browser.find_element("css selector", 'g[data-label="W"]').text
    assert errors(browser) == []


def test_space_plays_and_pauses(browser, article_page):
    import time

    from selenium.webdriver.support.ui import WebDriverWait

    url, _ = article_page
    open_at(browser, url)
    page = browser.find_element("tag name", "body")
    page.send_keys(" ")
    WebDriverWait(browser, 10).until(lambda b: int(body(b, "step")) >= 2)
    page.send_keys(" ")
    paused = body(browser, "step")
    time.sleep(1.0)  # longer than one tick of play (0.7 s)
    assert body(browser, "step") == paused
    assert browser.find_element("id", "play").text.endswith("play")
    assert errors(browser) == []
