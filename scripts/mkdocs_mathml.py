"""MkDocs hook: the docs' formulas become MathML when the site is built, so pages need no network.

`pymdownx.arithmatex` (generic mode) leaves each formula as TeX in `<span class="arithmatex">\\( … \\)</span>`
or `<div class="arithmatex">\\[ … \\]</div>`; this hook converts each to MathML with `latex2mathml`
(the `docs` extra). Browsers draw MathML themselves: no script and no font is fetched at page view.
A formula latex2mathml cannot read fails the build, naming the page and the TeX.
"""

from __future__ import annotations

import html
import re
from typing import Any

from latex2mathml.converter import convert

_MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<block>.*?)\\\])\s*</(?P=tag)>',
    re.DOTALL,
)


def to_mathml(match: re.Match[str], where: str = "") -> str:
    """One arithmatex element -> a <math> element (display="block" for \\[ … \\])."""
    block = match["block"] is not None
    tex = html.unescape(match["block"] if block else match["inline"]).strip()
    # A display formula whose source line ends in `\qquad` continues on a new row (MathML has no automatic
    # line breaking, so a row of four equations would not fit the column).
    parts = [p.strip() for p in re.split(r"\\qquad[ \t]*\n", tex)] if block else [tex]
    try:
        maths = [convert(part, display="block" if block else "inline") for part in parts if part]
    except Exception as error:  # latex2mathml raises many types; the build must say which formula
        raise ValueError(f"{where}: latex2mathml cannot convert {tex!r}: {error}") from error
    return f'<div class="math-block">{"".join(maths)}</div>' if block else maths[0]


def on_page_content(html_text: str, page: Any, **_: Any) -> str:
    where = getattr(getattr(page, "file", None), "src_path", "page")
    return _MATH.sub(lambda m: to_mathml(m, where), html_text)
