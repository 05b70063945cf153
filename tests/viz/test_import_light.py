"""`import tinygrad_edu` loads no web server: the live view loads on first use (`tinygrad_edu.viz.live`)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _loaded_after(code: str) -> list[str]:
    watched = ("http.server", "tinygrad_edu.viz.live_view", "tinygrad_edu.viz.live_server")
    probe = f"import sys; {code}; print(sorted(m for m in {watched!r} if m in sys.modules))"
    return eval(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)


def test_importing_the_package_loads_no_live_view() -> None:
    assert _loaded_after("import tinygrad_edu") == []


def test_the_live_view_loads_on_first_use() -> None:
    loaded = _loaded_after("import tinygrad_edu; tinygrad_edu.viz.live")
    assert loaded == ["http.server", "tinygrad_edu.viz.live_server", "tinygrad_edu.viz.live_view"]
    from tinygrad_edu.viz import LiveView, live, live_view, record

    assert (live, record, LiveView) == (live_view.live, live_view.record, live_view.LiveView)


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    import tinygrad_edu.viz

    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        tinygrad_edu.viz.nothing_here
