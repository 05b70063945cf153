"""`check --graph PAGE.html`: red means one thing (a wrong parameter), the step's own node is marked another way,
and every number the page writes is rounded as the report rounds it (six significant digits).

Driven in a real browser (the house rule for pages), on the article's Level 2 program, whose hidden layer is wrong.
"""

import json
import re
import shutil
import subprocess
import sys

import pytest
from locations import EXAMPLES

from tinygrad_edu.check.compare import WRONG_FILL
from tinygrad_edu.check.userfile import check_file

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
LEVEL2 = EXAMPLES / "article_code" / "level2.py"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    path = tmp_path_factory.mktemp("check-graph") / "level2.html"
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu.cli", "check", str(LEVEL2), "--graph", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and f"wrote {path}" in done.stdout, done.stderr
    return path


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def significant_digits(number: str) -> int:
    mantissa = number.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return len(mantissa)


def test_the_notes_give_manual_and_autodiff_to_six_significant_digits(page):
    report = check_file(str(LEVEL2)).report
    data = json.loads(re.search(r'type="application/json">(.*?)</script>', page.read_text(), re.S).group(1))
    notes = [n for n in data["notes"] if n]
    wrong = {p.name for p in report.params if not p.ok}
    assert {n.split(":")[0] for n in notes if n.endswith("(WRONG)")} == wrong == {"0.weight", "0.bias"}
    manual = report["0.weight"].manual  # written here another way: each row's numbers with %.6g
    rows = ", ".join("[" + ", ".join(f"{v:.6g}" for v in row) + "]" for row in manual)
    assert f"0.weight: manual [{rows}] vs autodiff" in "\n".join(notes)
    assert all("\n" not in n for n in notes)  # one line each, not NumPy's wrapped rows


def test_red_marks_only_the_wrong_parameters_and_the_step_is_marked_another_way(browser, page):
    browser.get(f"{page.as_uri()}#step=3")
    filled = browser.execute_script(
        "return [...document.querySelectorAll('g.node')].filter(g => [...g.querySelectorAll('polygon')]"
        ".some(p => p.getAttribute('fill') === arguments[0])).map(g => g.dataset.label)",
        WRONG_FILL,
    )
    assert sorted(filled) == ["0.bias", "0.weight"]
    current = browser.execute_script(
        "const p = document.querySelector('g.node.current polygon, g.node.current ellipse');"
        "return [getComputedStyle(p).stroke, getComputedStyle(document.querySelector('.key.current')).borderTopColor]"
    )
    assert current[0] == current[1] != rgb(WRONG_FILL)  # the legend's colour, not red
    assert "red: a parameter whose gradient you computed wrong" in browser.find_element("tag name", "h1").text


def test_every_number_in_the_step_text_is_rounded_like_the_report(browser, page):
    data = json.loads(re.search(r'type="application/json">(.*?)</script>', page.read_text(), re.S).group(1))
    seen = 0
    for k in range(1, len(data["steps"]) + 1):
        browser.get("about:blank")
        browser.get(f"{page.as_uri()}#step={k}")
        text = browser.find_element("id", "step-text").text
        numbers = re.findall(r"-?\d+\.\d+(?:e[-+]?\d+)?", text)
        seen += len(numbers)
        assert all(significant_digits(n) <= 6 for n in numbers), (k, text)
    assert seen > 20  # the steps do write arrays of numbers (the check is not vacuous)
