"""The live page and the recording as HTML: `live.html` with `live.css` and `live.js` inlined, as the
step-through page is, and its data as one JSON blob. The same page draws a live run (it polls the
server) and a recording (its frames are in the blob), so the two always show the same views.
"""

from __future__ import annotations

import base64
import html
import re
from importlib import resources
from typing import Any

from .html import script_json

_SLOT = re.compile(r"\{\{(\w+)\}\}")


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("live_page", name).read_text(encoding="utf-8")


def favicon() -> bytes:
    """The page's icon (an SVG), served by the live server and inlined into a recording."""
    return _asset("favicon.svg").encode("utf-8")


def live_page(title: str, data: dict[str, Any], inline_icon: bool = False) -> str:
    """The page with `data` in it: `{"mode": "live", "meta": ...}`, or a recording's frames and losses."""
    icon = "data:image/svg+xml;base64," + base64.b64encode(favicon()).decode("ascii") if inline_icon else "/favicon.svg"
    slots = {
        "title": html.escape(title),
        "icon": icon,
        "css": _asset("live.css"),
        "data": script_json(data),
        "js": _asset("live.js"),
    }
    return _SLOT.sub(lambda m: slots[m.group(1)], _asset("live.html"))
