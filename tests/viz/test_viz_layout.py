"""Where `dot` puts the article network's weights: each beside the sum it feeds, in the drawing as on the page.

Structure, not pixels: the positions are read from `dot -Tplain` (node name, x, y in inches), and which
sum each weight feeds from the DOT source's own edges.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tinygrad_edu import Value, nn
from tinygrad_edu.check.article_network import article_network
from tinygrad_edu.cli import main
from tinygrad_edu.viz import record_modules
from tinygrad_edu.viz.collect import collect, weights_apart

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz `dot` program")

OUTPUT_WEIGHTS = ("w5", "w6", "b_o1", "w7", "w8", "b_o2")


def _positions(source: str) -> dict[str, tuple[float, float, float]]:
    """node id -> (x, y, height) as `dot` lays the source out."""
    plain = subprocess.run(["dot", "-Tplain"], input=source.encode(), capture_output=True, check=True).stdout
    out = {}
    for line in plain.decode().splitlines():
        parts = line.split()
        if parts and parts[0] == "node":
            out[parts[1]] = (float(parts[2]), float(parts[3]), float(parts[5]))
    return out


def _feeds(source: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(weight name -> the id of the Σw·x op it feeds, op id -> ids of all its inputs), from the DOT source."""
    ids = {name: box for box, name in re.findall(r'^\s*(v\d+) \[label="([^|"]+)\|', source, re.M)}
    sums = set(re.findall(r'^\s*(o\d+) \[label="Σw·x"', source, re.M))
    inputs: dict[str, list[str]] = {}
    for tail, head in re.findall(r"^\s*(\w+) -> (\w+)$", source, re.M):
        if head in sums:
            inputs.setdefault(head, []).append(tail)
    feeds = {name: next(s for s, tails in inputs.items() if ids[name] in tails) for name in OUTPUT_WEIGHTS}
    return {name: (ids[name], s) for name, s in feeds.items()}, inputs


@needs_dot
def test_the_article_drawing_puts_each_output_weight_beside_the_sum_it_feeds(tmp_path):
    out = tmp_path / "article.dot"
    assert main(["graph", "-o", str(out)]) == 0
    source = out.read_text(encoding="utf-8")
    assert "subgraph cluster_m" not in source  # no layer box between a weight and its sum
    feeds, inputs = _feeds(source)
    at = _positions(source)
    output_sums = sorted({s for _, s in feeds.values()})
    assert len(output_sums) == 2  # s_o1's and s_o2's sums, three weights each
    for name, (box, s) in feeds.items():
        x, y, height = at[box]
        others = [t for t in inputs[s] if t != box]
        # In the rank just before its sum, with the sum's other inputs (a_h1, a_h2): no edge spans ranks.
        assert all(abs(at[t][0] - x) < 1e-6 for t in others), name
        # The nearest of the two output sums is its own, within three box heights of it.
        other = next(t for t in output_sums if t != s)
        assert abs(at[s][1] - y) < abs(at[other][1] - y), name
        assert abs(at[s][1] - y) <= 3 * height, (name, abs(at[s][1] - y), height)


def test_layer_boxes_are_left_out_only_where_they_would_part_a_weight_from_its_sum():
    # The article network's weights belong to the network, not to its layers: drawn without layer boxes.
    with record_modules() as calls:
        E, net = article_network()
    picture = collect(E, params=net, calls=calls)
    assert picture.clusters == [] and all(box.cluster is None for box in picture.boxes)
    assert {f.split("|")[0] for box in picture.boxes for f in box.fields[:1]} >= set(OUTPUT_WEIGHTS)
    # A Sequential's layers own their weights: each weight already sits in its sum's box, so the boxes stay.
    model = nn.Sequential(nn.Linear(2, 2, generator=0, engine="value"), nn.Sigmoid())
    with record_modules() as calls:
        (a, b) = model([Value(0.5), Value(-1.0)])
    loss = a + b
    loss.backward()
    kept = collect(loss, params=model, calls=calls)
    assert [c.title for c in kept.clusters] == ["Sequential", "0: Linear(2→2)", "1: Sigmoid"]
    weights = {box.id for box in kept.boxes if box.fields[0].startswith("0.")}
    assert len(weights) == 6 and all(box.cluster == 1 for box in kept.boxes if box.id in weights)


def test_weights_apart_reads_the_boxes_clusters():
    from tinygrad_edu.viz.collect import Box

    inside = [Box("v0", ["w"], "", cluster=0), Box("o1", ["+"], "", cluster=0)]
    outside = [Box("v0", ["w"], "", cluster=None), Box("o1", ["+"], "", cluster=0)]
    assert not weights_apart(inside, [("v0", "o1")], {"v0"})
    assert weights_apart(outside, [("v0", "o1")], {"v0"})
    assert not weights_apart(outside, [("v0", "o1")], set())  # an input outside a layer is not a weight
