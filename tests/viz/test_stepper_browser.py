"""The step-through page in a real headless Chromium, on the article's network: what a learner sees at each step.

Every number is checked against the article's maths done by hand (test_stepper.article_by_hand) or the
engine's own graph; the page is driven through its contract (`#step=N`, `data-step`, `data-label`/`-value`/`-grad`).
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
from test_stepper import article_by_hand

from tinygrad_edu import Value
from tinygrad_edu.check.article_network import article_network
from tinygrad_edu.viz import steps
from tinygrad_edu.viz.trace import read_graph, timeline

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


@pytest.fixture(scope="module")
def article_page(tmp_path_factory):
    E, params = article_network()
    path = tmp_path_factory.mktemp("pages") / "article.html"
    steps(E, params=params).save(path)
    return path.as_uri(), page_steps(path)


def page_steps(path) -> list[dict]:
    """The timeline the page replays, read back from the page itself."""
    text = path.read_text(encoding="utf-8")
    return json.loads(re.search(r'type="application/json">(.*?)</script>', text, re.S).group(1))["steps"]


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
    assert "w5′ = 0.5 − 0.5 × 0.0951095 = 0.452445" in steps_text  # the update the article ends with


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


def quiz_state(browser) -> tuple[str, str, str | None]:
    """(question, typed answer, verdict) as the learner sees them; the question is '' when none shows."""
    shown = browser.find_element("id", "quiz").is_displayed() and browser.find_element("id", "quiz-form").is_displayed()
    question = browser.find_element("id", "quiz-question").text if shown else ""
    return question, browser.find_element("id", "quiz-answer").get_attribute("value"), verdict(browser)


def verdict(browser) -> str | None:
    return browser.find_element("id", "quiz-result").get_attribute("data-verdict")


def asked_edge(browser, url_line) -> dict:
    """The edge (of the step the page is at) whose parent the question on screen asks about."""
    names = browser.execute_script("return JSON.parse(document.getElementById('trace').textContent).names")
    question = browser.find_element("id", "quiz-question").text
    asked = re.search(r"What is (\S+)\.grad after this step\?", question).group(1)
    step = url_line[int(body(browser, "step"))]
    return next(e for e in step["edges"] if names[e["parent"]] == asked)


def answer(browser, text: str, button: str = "quiz-check") -> None:
    box = browser.find_element("id", "quiz-answer")
    box.clear()
    box.send_keys(text)
    browser.find_element("id", button).click()


def first_backward(line) -> int:
    return next(k for k, s in enumerate(line) if s["kind"] == "backward")


def test_quiz_grades_the_question_on_screen_and_every_move_asks_again(browser, article_page):
    from selenium.webdriver.common.keys import Keys

    url, line = article_page
    k = first_backward(line)
    open_at(browser, url, k)
    browser.find_element("id", "quiz-mode").click()
    question, _, _ = quiz_state(browser)
    assert question and body(browser, "step") == str(k)  # asked before the answer is shown
    browser.find_element("id", "quiz-answer").send_keys("12345")
    later = next(j for j in range(k + 1, len(line)) if line[j]["kind"] == "backward")
    moves = {
        "slider": lambda: browser.execute_script(
            f"const s = document.getElementById('slider'); s.value = {later}; s.dispatchEvent(new Event('input'))"
        ),
        "Home": lambda: browser.find_element("tag name", "body").send_keys(Keys.HOME),
        "start": lambda: browser.find_element("id", "first").click(),
        "end": lambda: browser.find_element("id", "last").click(),
        "url": lambda: browser.execute_script(f"location.hash = '#step={later}'"),
    }
    for how, move in moves.items():
        if quiz_state(browser)[0]:
            browser.find_element("id", "quiz-answer").send_keys("12345")
        move()
        question, typed, _ = quiz_state(browser)
        at = int(body(browser, "step"))
        if at < len(line) and line[at]["kind"] == "backward":
            assert question and typed == "", how  # asked again for the new position, the old answer gone
            edge = asked_edge(browser, line)
            assert edge in line[at]["edges"], how
        else:
            assert question == "", how  # no gradient to ask for here: no question
    # and the answer typed now is graded against the question on screen
    browser.execute_script(f"location.hash = '#step={later}'")
    edge = asked_edge(browser, line)
    answer(browser, f"{float(edge['grad']):.6g}")
    assert verdict(browser) == "right"
    assert errors(browser) == []


def test_quiz_accepts_the_significant_digits_given_with_at_least_two(browser, article_page):
    url, line = article_page
    k = first_backward(line)
    for typed_of, expected in ((lambda g: f"{g:.2g}", "right"), (lambda g: f"{g:.3g}", "right")):
        open_at(browser, url, k)
        browser.find_element("id", "quiz-mode").click()
        truth = float(asked_edge(browser, line)["grad"])
        answer(browser, typed_of(truth))
        assert verdict(browser) == expected, typed_of(truth)
    # the article's w5 gradient 0.0951095: 0.095 and 0.0951 are right, 0.1 is too few digits, 0.096 wrong
    w5_step = next(
        j
        for j, s in enumerate(line)
        if s["kind"] == "backward"
        and len(s["edges"]) == 5
        and any(abs(float(e["grad"]) - 0.0951095) < 1e-7 for e in s["edges"])
    )
    for typed, expected in (("0.095", "right"), ("0.0951", "right"), ("0.1", "retry"), ("0.096", "wrong")):
        open_at(browser, url, w5_step)
        browser.find_element("id", "quiz-mode").click()
        for _ in range(5):  # ask again until the question is about w5 (each visit asks the next edge)
            if "What is w5.grad" in browser.find_element("id", "quiz-question").text:
                break
            browser.find_element("id", "next").click()
            browser.find_element("id", "prev").click()
        assert "What is w5.grad" in browser.find_element("id", "quiz-question").text
        answer(browser, typed)
        assert verdict(browser) == expected, typed
        if expected == "retry":
            assert "at least 2 significant digits" in browser.find_element("id", "quiz-result").text
    assert errors(browser) == []


def test_quiz_hints_name_the_factor_that_was_off_and_show_me_shows(browser, article_page):
    url, line = article_page
    # a running sum: a_h1 is fed by both output neurons; its second step asks about the sum so far
    for k, step in enumerate(line):
        running = [e for e in step.get("edges", []) if "local" in e and step["kind"] == "backward"]
        if not running:
            continue
        open_at(browser, url, k)
        browser.find_element("id", "quiz-mode").click()
        question = browser.find_element("id", "quiz-question").text
        if "so far (a running sum)" in question:
            break
    else:
        pytest.fail("no question about a running sum")
    names = browser.execute_script("return JSON.parse(document.getElementById('trace').textContent).names")
    edge = asked_edge(browser, line)
    node_grad = float(re.search(r"\.grad = (\S+)\.", question).group(1))
    # leaving out the running sum: only the local derivative times the node's gradient
    answer(browser, f"{float(edge['local']) * node_grad:.4g}")
    result = browser.find_element("id", "quiz-result").text
    assert verdict(browser) == "wrong" and "left out the running sum" in result
    # leaving out the local derivative
    open_at(browser, url, k)
    browser.find_element("id", "quiz-mode").click()
    edge = asked_edge(browser, line)
    before = float(edge["grad"]) - float(edge["local"]) * node_grad
    answer(browser, f"{before + node_grad:.4g}")
    assert "multiplied" in browser.find_element("id", "quiz-result").text and names[edge["parent"]]
    # show me: the answer, not "you typed nothing"
    open_at(browser, url, k)
    browser.find_element("id", "quiz-mode").click()
    browser.find_element("id", "quiz-skip").click()
    result = browser.find_element("id", "quiz-result").text
    assert verdict(browser) == "shown" and result.startswith("The answer:") and "typed" not in result
    assert errors(browser) == []


def test_the_article_page_folds_the_loss_and_speaks_the_articles_language(browser, article_page):
    url, line = article_page
    forward_E = next(k for k, s in enumerate(line) if s["kind"] == "forward" and s["text"][0].startswith("E ="))
    open_at(browser, url, forward_E + 1)
    text = browser.find_element("id", "step-text").text
    assert "E = ½·(target_o1 − a_o1)² + ½·(target_o2 − a_o2)²" in text and "+ −" not in text
    open_at(browser, url, forward_E + 3)  # the seed, then the loss's backward step
    text = browser.find_element("id", "step-text").text
    hand = article_by_hand()
    assert "a_o1.grad += ½ · 2·(target_o1 − a_o1) · −1 × E.grad" in text
    assert float(node_attrs(browser)["a_o1"][1]) == pytest.approx(hand["a_o1"] - 0.1, rel=1e-12)
    s_o1 = next(k for k, s in enumerate(line) if s["kind"] == "backward" and "δ_o1" in " ".join(s["text"]))
    open_at(browser, url, s_o1 + 1)
    assert "s_o1.grad is the article's δ_o1" in browser.find_element("id", "step-text").text
    assert float(node_attrs(browser)["s_o1"][1]) == pytest.approx(hand["grad s_o1"], rel=1e-12)
    open_at(browser, url, "end")
    assert browser.find_element("id", "step-title").text.startswith("Update")
    assert "w5′ = 0.5 − 0.5 × 0.0951095 = 0.452445" in browser.find_element("id", "step-text").text
    assert errors(browser) == []


def test_the_legend_and_the_page_agree(browser, tmp_path):
    """A scalar page replays backward itself: no drawing note may claim that no backward pass has run."""
    a, b = Value(2.0, name="a"), Value(-3.0, name="b")
    c = a * b
    c.name = "c"  # no backward() beforehand
    path = tmp_path / "c.html"
    steps(c).save(path)
    open_at(browser, path.as_uri(), "end")
    assert float(node_attrs(browser)["a"][1]) == -3.0
    page_text = browser.find_element("tag name", "body").text
    assert "no backward pass" not in page_text and "no backward pass" not in path.read_text(encoding="utf-8")
    assert "parameter" in browser.find_element("id", "help").text  # the page's own colour key
    assert errors(browser) == []


def test_the_article_network_is_readable_whole_at_1280_by_800(browser, article_page):
    url, _ = article_page
    browser.set_window_size(1280, 800)
    try:
        inner = browser.execute_script("return [window.innerWidth, window.innerHeight]")
        browser.set_window_size(1280 + 1280 - inner[0], 800 + 800 - inner[1])  # the viewport itself 1280×800
        open_at(browser, url, 0)
        pane, svg, font = browser.execute_script(
            "const r = (e) => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };"
            "const svg = document.querySelector('#graph svg'); const t = svg.querySelector('g.node text');"
            "const px = parseFloat(t.getAttribute('font-size')) * svg.getScreenCTM().a;"
            "return [r(document.getElementById('graph')), r(svg), px];"
        )
        assert svg[0] >= pane[0] and svg[1] >= pane[1] and svg[2] <= pane[2] and svg[3] <= pane[3]  # all of it
        assert font >= 11  # node text at least 11 px
        w5, s_o1_sum = browser.execute_script(
            "const c = (g) => { const b = g.getBoundingClientRect(); return [(b.left + b.right) / 2, b.top]; };"
            "const w5 = document.querySelector('g[data-label=\"w5\"]');"
            "const sum = document.querySelector('g[data-label=\"s_o1\"]');"
            "return [c(w5), c(sum)];"
        )
        assert abs(w5[0] - s_o1_sum[0]) < 300 and 0 < s_o1_sum[1] - w5[1] < 200  # w5 just above the sum it feeds
        zoom = float(body(browser, "zoom"))
        browser.find_element("id", "zoom-in").click()
        assert float(body(browser, "zoom")) == pytest.approx(zoom * 1.25, rel=1e-3)
        browser.find_element("id", "zoom-fit").click()
        svg = browser.execute_script(
            "const b = document.querySelector('#graph svg').getBoundingClientRect(); return b.right"
        )
        assert svg <= pane[2]
    finally:
        browser.set_window_size(1400, 850)
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
    quiz = browser.find_element("id", "quiz-mode")  # one gradient at a time is a scalar idea: said, not silent
    assert not quiz.is_enabled() and "scalar" in quiz.find_element("xpath", "..").get_attribute("title")
    assert (
        quiz.find_element("xpath", "..").text == "quiz mode (Value graphs only)"
    )  # said on the page, not only on hover
    drawing = browser.find_element("id", "graph").text
    for k in range(1, int(body(browser, "steps")) + 1):  # every node a step names is written on the drawing
        open_at(browser, path.as_uri(), k)
        title = browser.find_element("id", "step-title").text
        named = title.split(": ", 1)[-1].removeprefix("Backward through ").removeprefix("Forward: ")
        if title.startswith(("Forward", "Backward through")):
            assert named in drawing, title
        assert not re.search(r"\bn\d+\b", browser.find_element("id", "step-text").text)
    assert errors(browser) == []


def test_a_big_tensor_shows_its_norms_as_the_drawing_writes_them(browser, tmp_path):
    import numpy as np

    from tinygrad_edu import Tensor

    w = Tensor(np.full((8, 8), 0.5), requires_grad=True, name="W")
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    path = tmp_path / "big.html"
    steps(loss).save(path)
    open_at(browser, path.as_uri(), "end")
    box = browser.find_element("css selector", 'g[data-label="W"]').text
    assert f"data ‖x‖ = {np.linalg.norm(w.data):.4g}" in box and f"grad ‖g‖ = {np.linalg.norm(w.grad):.4g}" in box
    assert "loss" in browser.find_element("id", "graph").text  # the root is the loss, not "output"
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
