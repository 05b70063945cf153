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
    try:
        math = convert(tex, display="block" if block else "inline")
    except Exception as error:  # latex2mathml raises many types; the build must say which formula
        raise ValueError(f"{where}: latex2mathml cannot convert {tex!r}: {error}") from error
    return f'<div class="math-block">{math}</div>' if block else math


def on_page_content(html_text: str, page: Any, **_: Any) -> str:
    where = getattr(getattr(page, "file", None), "src_path", "page")
    return _MATH.sub(lambda m: to_mathml(m, where), html_text)
