"""The README opens by saying what this is and which article it grows from, then the two commands."""

from __future__ import annotations

import re

from locations import ROOT

from tinygrad_edu.cli import main

README = (ROOT / "README.md").read_text(encoding="utf-8")
TITLE = "*Building Neural Networks: A Hands-On Journey from Scratch with Python*"


def test_the_first_sentence_names_the_article_then_come_the_two_commands():
    opening = README.split("```", 1)[0]
    assert TITLE in opening and "Long Nguyen" in opening and "November 2023" in opening
    assert "http" not in opening  # we have no link to it: none is made up
    commands = re.findall(r"```bash\n(.*?)\n```", README, re.S)[:2]
    assert commands[0].endswith("tinygrad-edu article") and commands[1].endswith("python -m pytest")
    assert README.index(TITLE) < README.index("| extra |")  # the article before any table


def test_the_readme_says_the_light_install_size():
    size = re.search(r"a light install: about (\d+) MB", README)
    assert size and 50 <= int(size.group(1)) <= 745


def test_the_exit_status_is_said_once():
    flat = " ".join(README.split())
    assert flat.count("usage or input error") == 1 and flat.count("0 ok") == 1
    assert "when all is well" not in flat  # not a second wording of the same codes


def test_graph_help_says_html_makes_the_step_through_page(capsys):
    try:
        main(["graph", "--help"])
    except SystemExit as done:
        assert done.code == 0
    assert "html makes the step-through page" in capsys.readouterr().out
