"""A `GradientReport` through `copy.copy`, `copy.deepcopy` and `pickle` (issue 24's hunt): deepcopy and pickle
used to raise "this Tensor is the result of an op inside a graph" about a tensor the user never copied (the loss
graph the report keeps for `draw()`). Copies now share that graph and draw the same picture; a pickle carries the
numbers and findings, and its `draw()` says why it has no graph."""

from __future__ import annotations

import copy
import pickle

import pytest
from test_compare import compare, level2

from tinygrad_edu import GraphError


def wrong_report():
    return compare(lambda s, x, t: (level2.step(s, x, t, 0.5), 0.5))


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy])
def test_a_copied_report_reads_and_draws_the_same(how):
    report = wrong_report()
    clone = how(report)
    assert str(clone) == str(report) and clone.to_json() == report.to_json()
    assert clone.ok is report.ok is False
    assert clone.draw().source == report.draw().source


def test_a_pickled_report_keeps_its_numbers_and_says_it_cannot_draw():
    report = wrong_report()
    clone = pickle.loads(pickle.dumps(report))
    assert str(clone) == str(report) and clone.to_json() == report.to_json()
    assert [p.name for p in clone.params if not p.ok] == ["0.weight", "0.bias"]
    with pytest.raises(GraphError, match="carries no graph"):
        clone.draw()
    assert report.draw().source.count('fillcolor="#e31a1c"') == 2  # the original still draws
