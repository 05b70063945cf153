"""Folding a big graph for drawing must keep the picture a DAG: no summary may feed one that feeds it.

Before, cutting runs by first appearance (with chain summaries spanning far apart nodes) drew 161
pairs of summaries with edges both ways on a 20,000-op random DAG folded to 100 nodes.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor, Value, nn
from tinygrad_edu.viz import collapse as folding
from tinygrad_edu.viz import draw


def random_dag(n: int, seed: int, leaf_frac: float = 0.2) -> tuple[list[list[int]], list[str | None]]:
    """Node i's parents are older nodes: near ones, a window back, or anywhere (long edges)."""
    rng = np.random.default_rng(seed)
    parents: list[list[int]] = []
    ops: list[str | None] = []
    for i in range(n):
        if i < 3 or rng.random() < leaf_frac:
            parents.append([])
            ops.append(None)
            continue
        reach = int(rng.choice([3, 50, i]))
        picks = rng.integers(max(0, i - reach), i, size=int(rng.integers(1, 4)))
        parents.append(sorted({int(p) for p in picks}))
        ops.append(str(rng.choice(["add", "mul", "tanh"])))
    return parents, ops


def cycle_in(edges: set[tuple[object, object]]) -> bool:
    """Kahn's algorithm: a cycle is what is left when no vertex without inputs remains."""
    vertices = {v for e in edges for v in e}
    indegree = dict.fromkeys(vertices, 0)
    out: dict[object, list[object]] = {v: [] for v in vertices}
    for a, b in edges:
        out[a].append(b)
        indegree[b] += 1
    ready = [v for v in vertices if indegree[v] == 0]
    seen = 0
    while ready:
        v = ready.pop()
        seen += 1
        for w in out[v]:
            indegree[w] -= 1
            if indegree[w] == 0:
                ready.append(w)
    return seen != len(vertices)


def folded_edges(parents: list[list[int]], plan: folding.Plan) -> set[tuple[object, object]]:
    unit = [("node", i) if g is None else ("group", g) for i, g in enumerate(plan.group)]
    return {(unit[p], unit[i]) for i, ps in enumerate(parents) for p in ps if unit[p] != unit[i]}


def test_the_reported_case_20000_ops_to_100_nodes():
    n = 20_000
    parents, ops = random_dag(n, seed=0)
    plan = folding.plan(parents, ops, [None] * n, [], n - 1, 100, force=False)
    edges = folded_edges(parents, plan)
    assert not cycle_in(edges)
    assert not any((b, a) in edges for a, b in edges)
    drawn = sum(1 for g in plan.group if g is None)
    assert drawn + len(plan.groups) <= 100 and len(plan.groups) > 10  # still a picture, not one blob


@given(st.integers(50, 3000), st.integers(10, 200), st.floats(0.0, 0.6), st.integers(0, 2**32 - 1))
def test_random_dags_fold_to_dags(n, max_nodes, leaf_frac, seed):
    parents, ops = random_dag(n, seed, leaf_frac)
    plan = folding.plan(parents, ops, [None] * n, [], n - 1, max_nodes, force=False)
    assert not cycle_in(folded_edges(parents, plan))
    assert plan.group[n - 1] is None  # the output is never folded
    members = sorted(i for g in plan.groups for i in g.members)
    assert members == [i for i, g in enumerate(plan.group) if g is not None]


class Block(nn.Module):
    def __init__(self, seed: int):
        super().__init__()
        self.a = nn.Linear(4, 4, generator=seed)
        self.b = nn.Linear(4, 4, generator=seed + 1)

    def forward(self, x):
        return self.b(self.a(x).tanh()).tanh() + x


@given(st.integers(1, 6), st.integers(10, 60), st.sampled_from([True, "auto"]))
def test_drawn_module_graphs_stay_acyclic(depth, max_nodes, collapse):
    """Through `draw`: module calls, a parameter used outside its call too, chains and runs."""
    blocks = nn.Sequential(*[Block(2 * k) for k in range(depth)])
    x = Tensor(np.ones((2, 4), np.float32))
    shared = blocks[0].a.weight.sum()  # the first call's parameter also feeds a node made before it
    loss = (blocks(x * shared) ** 2).sum()
    loss.backward(retain_graph=True)  # drawn afterwards
    source = draw(loss, params=blocks, max_nodes=max_nodes, collapse=collapse).source
    edges = set(re.findall(r"^\t+(\w+) -> (\w+)", source, flags=re.MULTILINE))
    # A drawn result is two DOT nodes (op o<i> -> value v<i>); that edge is part of the picture too.
    assert edges and not cycle_in(edges)


def test_scalar_chains_fold_without_cycles():
    xs = [Value(float(i)) for i in range(40)]
    total = xs[0]
    for i, x in enumerate(xs[1:], 1):
        total = (total * x).tanh() + xs[i // 2]
    total.backward()
    source = draw(total, max_nodes=12).source
    edges = set(re.findall(r"^\t+(\w+) -> (\w+)", source, flags=re.MULTILINE))
    assert not cycle_in(edges)


@pytest.mark.parametrize("seed", range(5))
def test_strongly_connected_components_against_a_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 30
    succ = [set(int(v) for v in rng.integers(0, n, size=int(rng.integers(0, 3)))) for _ in range(n)]
    component = folding._strongly_connected(succ)

    def reach(s):
        seen, stack = {s}, [s]
        while stack:
            for w in succ[stack.pop()]:
                if w not in seen:
                    seen.add(w)
                    stack.append(w)
        return seen

    reachable = [reach(v) for v in range(n)]
    for u in range(n):
        for v in range(n):
            assert (component[u] == component[v]) == (v in reachable[u] and u in reachable[v])
