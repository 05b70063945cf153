"""scripts/mkdocs_mathml.py: the docs' TeX becomes MathML at build time (no script at page view)."""

from __future__ import annotations

import importlib.util

import pytest
from locations import SCRIPTS

pytest.importorskip("latex2mathml", reason="needs the docs extra: pip install -e '.[docs]'")
_spec = importlib.util.spec_from_file_location("mkdocs_mathml", SCRIPTS / "mkdocs_mathml.py")
hook = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hook)


def test_inline_and_display_formulas_become_mathml():
    html = (
        '<p>With <span class="arithmatex">\\(\\sigma(s) = 1 / (1 + e^{-s})\\)</span> and</p>'
        '<div class="arithmatex">\\[\n\\frac{\\partial E}{\\partial w_5} = \\delta_{o1}\\, a_{h1} &lt; 1\n\\]</div>'
    )
    out = hook.on_page_content(html, None)
    assert "arithmatex" not in out and "\\(" not in out and "\\[" not in out
    assert out.count('display="inline"') == 1 and out.count('display="block"') == 1
    assert "<mfrac>" in out and "<msub><mi>w</mi><mn>5</mn></msub>" in out
    assert "&lt;" in out or "&#x0003C;" in out  # the escaped < came back as a MathML operator
    assert '<div class="math-block">' in out  # the box that scrolls when a formula is wider than the column


def test_a_qquad_at_a_line_end_starts_a_new_row():
    html = '<div class="arithmatex">\\[\ns_{h1} = 1, \\qquad a_{h1} = 2, \\qquad\ns_{h2} = 3\n\\]</div>'
    out = hook.on_page_content(html, None)
    assert out.count("<math") == 2  # two rows; the \\qquad inside a line stays a space


def test_a_formula_it_cannot_read_fails_the_build_naming_the_page():
    class Page:
        class file:
            src_path = "worked-example.md"

    with pytest.raises(ValueError, match=r"worked-example\.md.*cannot convert"):
        hook.on_page_content('<span class="arithmatex">\\(x^\\)</span>', Page())
