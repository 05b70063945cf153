"""Every label is drawn literally and the SVG stays well-formed XML, whatever text it holds:
DOT syntax, HTML entities, control characters, NUL, lone surrogates. Checked on real `dot` output."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor, Value, nn
from tinygrad_edu.viz import draw, record_modules, render
from tinygrad_edu.viz.labels import escape

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz `dot` program")
SVG = "{http://www.w3.org/2000/svg}"


def visible(text: str) -> str:
    """What the picture must say: the text, undrawable characters as their Python escapes."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\t":
            out.append(" ")
        elif (code < 0x20 and ch != "\n") or 0x7F <= code <= 0x9F:
            out.append(f"\\x{code:02x}")
        elif 0xD800 <= code <= 0xDFFF or ch in "\ufffe\uffff":
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out).replace("\u00a0", " ")  # compared as drawn: a no-break space is a space


def svg_texts(path) -> dict[str, list[str]]:
    """Node or cluster id (its <title>) -> the text lines drawn in it; parsing proves the XML is well-formed."""
    root = ET.parse(path).getroot()
    drawn = {}
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        if title is not None and group.get("class") in ("node", "cluster"):
            drawn[title.text] = [(t.text or "").replace("\u00a0", " ") for t in group.iter(f"{SVG}text")]
    return drawn


def labelled_graph(label: str) -> Value:
    a = Value(2.0, name=label)
    y = (a * 3.0).tanh()
    y.name = "y"
    y.backward()
    return y


@needs_dot
@pytest.mark.parametrize(
    "label",
    [
        "layer\x1b[1m",
        "nul\x00byte",
        "lone \udc80 surrogate",
        "&amp;",
        "&lt;b&gt; &#65;",
        'a|b"}{<x>\\N',
        "  two  spaces ",
    ],
    ids=["escape-sequence", "nul", "surrogate", "amp-entity", "entities", "dot-syntax", "spaces"],
)
def test_reported_labels_render_literally(tmp_path, label):
    path = render(labelled_graph(label), tmp_path / "g.svg", format="svg")
    drawn = svg_texts(path)
    assert [visible(label)] == [lines[0] for lines in drawn.values() if lines[:1] == [visible(label)]]


@needs_dot
@given(st.text(min_size=1, max_size=12))
def test_any_label_renders_literally_and_the_svg_parses(tmp_path_factory, label):
    path = render(labelled_graph(label), tmp_path_factory.mktemp("labels") / "g.svg", format="svg")
    lines = [line for texts in svg_texts(path).values() for line in texts]
    want = visible(label).split("\n")
    # A multi-line label is drawn as consecutive lines; dot drops lines that are empty.
    want = [w for w in want if w.strip()] or []
    if want:
        joined = "\n".join(lines)
        assert "\n".join(want) in joined or all(w in lines for w in want), (label, lines)


@needs_dot
def test_module_names_with_control_characters_give_well_formed_svg(tmp_path):
    model = nn.Sequential()
    setattr(model, "layer\x1b[1m", nn.Linear(2, 2, generator=0))
    setattr(model, "b&amp;\x00", nn.Sigmoid())
    with record_modules() as calls:
        loss = model(Tensor(np.ones((1, 2), np.float32))).sum()
    loss.backward(retain_graph=True)  # drawn afterwards
    path = render(loss, tmp_path / "m.svg", format="svg", params=model, calls=calls)
    drawn = svg_texts(path)
    clusters = [lines[0] for lines in drawn.values() if lines]
    assert any(line.startswith("layer\\x1b[1m: Linear") for line in clusters), clusters
    assert any(line.startswith("b&amp;\\x00") for line in clusters), clusters
    names = [line for lines in drawn.values() for line in lines]
    assert "layer\\x1b[1m.weight" in names


def test_escape_keeps_dot_syntax_out_of_the_source():
    assert escape("a&b") == "a&amp;b"
    assert escape("\x1b\x00\udc80") == "\\\\x1b\\\\x00\\\\udc80"
    source = draw(labelled_graph("\x00\udcff\x1b")).source
    source.encode("utf-8")  # no surrogate left to fail the encoding
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", source)
