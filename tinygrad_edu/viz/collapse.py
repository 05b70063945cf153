"""Folding a big graph into summary nodes, so that it stays readable and `dot` stays fast.

`dot` lays out a few hundred nodes in well under a second but slows down badly on tens of
thousands, and nobody can read such a picture anyway. Above `max_nodes`, folding goes from the
most meaningful unit to the bluntest, and stops as soon as the drawing fits:

1. module calls: everything one call of a sub-module created becomes one node, innermost modules
   first (each `Linear` call), then their parents (each `Sequential` call), ...;
2. chains: a result used by exactly one other op is folded into that op's summary; this turns a
   long chain `tanh(tanh(...))`, or the sum tree of one neuron, into one node;
3. creation order: what is left is cut into runs of nodes created one after another (code that
   runs together builds nodes together), as many runs as the budget allows. The runs are cut from
   a topological order of what steps 1 and 2 left, so no run feeds an earlier one: the folded
   picture of a DAG stays a DAG (summaries that would feed each other are merged first).

The output node is never folded. Each summary says how many nodes it hides and which ops.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field

from .modules import Call

LAYOUT_BUDGET = 20_000  # drawn + invisible nodes that `dot` lays out in about a second
# At most this many nodes side by side in one rank (a column, left to right): about 1,000 pt, so the
# picture still fits a screen when zoomed to its width or height. Without it, 400 summary nodes that
# all start at rank 0 made a drawing 26,000 pt tall that no viewer could open.
SCREEN_RANK = 16

_TITLES = {"chain": "chain of ops", "run": "nodes made together", "merged": "nodes folded together"}


@dataclass
class Group:
    """One summary node: the nodes it hides and where it is drawn."""

    title: str
    members: list[int] = field(default_factory=list)
    ops: Counter = field(default_factory=Counter)  # op name -> how many; leaves count as 'leaf'
    cluster: int | None = None  # the module call whose cluster holds it (None: top level)


@dataclass
class Plan:
    """`group[i]` is the index in `groups` of the summary hiding node i, or None if i is drawn."""

    group: list[int | None]
    groups: list[Group]
    folded_calls: set[int]  # module calls drawn as one node (their clusters are not drawn)


def plan(
    parents: list[list[int]],
    ops: list[str | None],
    owner: list[int | None],
    calls: list[Call],
    root: int,
    max_nodes: int,
    force: bool,
) -> Plan:
    """Choose what to fold so that at most `max_nodes` nodes are drawn (op nodes included).

    `parents[i]` are node i's inputs (indices, older nodes have smaller indices), `ops[i]` its op
    (None for a leaf), `owner[i]` its innermost module call. With `force`, fold module calls and
    chains even when the graph is small.
    """
    n = len(parents)
    leaf = [op is None for op in ops]
    if not force and _cost(leaf, [None] * n) <= max_nodes:
        return Plan([None] * n, [], set())

    # 1. Module calls, innermost level first, until the drawing fits.
    key: list[object] = [None] * n
    folded: set[int] = set()
    deepest = max((c.depth for c in calls if c.members), default=-1)
    for depth in range(deepest, -1, -1):
        key, folded = _fold_calls(owner, calls, depth, root)
        if force or _cost(leaf, key) <= max_nodes:
            break
    # 2. Chains of single-use results (they never make a cycle: only a chain's last node is used outside).
    if force or _cost(leaf, key) > max_nodes:
        key = _fold_chains(parents, leaf, key, root)
    # A picture of a DAG must stay a DAG. A module call's nodes are consecutive in creation order, but
    # the parameters drawn inside it are not, so a call can (rarely) feed itself through an outside node.
    key = _merge_cycles(parents, key)
    # 3. Runs of consecutive units in a topological order (so no run feeds an earlier one), longer runs
    # until `dot` can lay the drawing out quickly. When runs are needed at all, they also get long
    # enough that no rank holds more than SCREEN_RANK nodes.
    unfolded, size = key, 2
    order: list[object] | None = None
    runs = _cost(leaf, key) > max_nodes or _layout_cost(parents, leaf, key) > LAYOUT_BUDGET
    while runs and (
        _cost(leaf, key) > max_nodes
        or _layout_cost(parents, leaf, key) > LAYOUT_BUDGET
        or (_widest_rank(parents, leaf, key) > SCREEN_RANK and _cost(leaf, key) > 2)
    ):
        order = order or _unit_order(parents, unfolded, root)
        key, size = _fold_runs(order, unfolded, leaf[root], root, max_nodes, size)
    return _build(key, ops, owner, calls, folded)


def _cost(leaf: list[bool], key: list[object]) -> int:
    """Drawn nodes: a leaf is 1, a result is 2 (value + op), each summary is 1."""
    drawn = sum(1 if leaf[i] else 2 for i, k in enumerate(key) if k is None)
    return drawn + len({k for k in key if k is not None})


def _fold_calls(owner: list[int | None], calls: list[Call], depth: int, root: int) -> tuple[list[object], set[int]]:
    """Key each node by its enclosing call at `depth` (if it has one)."""
    at_depth: list[int | None] = []  # call index -> its ancestor at `depth`, computed parent first
    for call in calls:
        if call.depth == depth:
            at_depth.append(len(at_depth))
        elif call.depth > depth and call.parent is not None:
            at_depth.append(at_depth[call.parent])
        else:
            at_depth.append(None)
    key: list[object] = [None] * len(owner)
    for i, c in enumerate(owner):
        if c is not None and i != root and at_depth[c] is not None:
            key[i] = ("call", at_depth[c])
    return key, {k[1] for k in key if k is not None}


def _fold_chains(parents: list[list[int]], leaf: list[bool], key: list[object], root: int) -> list[object]:
    """Merge each unfolded result that has exactly one consumer into that consumer (union-find)."""
    n = len(parents)
    uses = [0] * n
    consumer = [-1] * n
    for i in range(n):
        for p in parents[i]:
            uses[p] += 1
            consumer[p] = i
    up = list(range(n))

    def find(i: int) -> int:
        while up[i] != i:
            up[i] = up[up[i]]
            i = up[i]
        return i

    def free(i: int) -> bool:
        return not leaf[i] and key[i] is None and i != root

    for i in range(n):
        if free(i) and uses[i] == 1 and free(consumer[i]):
            up[find(i)] = find(consumer[i])
    size = Counter(find(i) for i in range(n) if free(i))
    out = list(key)
    for i in range(n):
        if free(i) and size[find(i)] > 1:
            out[i] = ("chain", find(i))
    return out


def _layout_cost(parents: list[list[int]], leaf: list[bool], key: list[object]) -> int:
    """Roughly the number of nodes `dot` must place: drawn nodes plus one per rank an edge spans.

    `dot` puts each node on a rank (a column, left to right) and breaks an edge that spans k ranks
    into k pieces joined by invisible nodes; a few folded runs with many long edges between them
    can hide a million of those, which is what makes `dot` slow, not the visible nodes.
    """
    rank: dict[object, int] = {}
    edges: set[tuple[object, object]] = set()
    for i, k in enumerate(key):
        unit = i if k is None else k
        step = 2 if k is None and not leaf[i] else 1  # a drawn result is its op node, then itself
        r = rank.get(unit, 0)
        for p in parents[i]:
            src = p if key[p] is None else key[p]
            if src != unit:
                edges.add((src, unit))
                r = max(r, rank[src] + step)
        rank[unit] = r
    return len(rank) + sum(max(1, rank[b] - rank[a]) for a, b in edges)


def _widest_rank(parents: list[list[int]], leaf: list[bool], key: list[object]) -> int:
    """The most drawn nodes that `dot` would stack in one rank (its height in an LR drawing)."""
    rank: dict[object, int] = {}
    for i, k in enumerate(key):
        unit = i if k is None else k
        step = 2 if k is None and not leaf[i] else 1
        r = rank.get(unit, 0)
        for p in parents[i]:
            src = p if key[p] is None else key[p]
            if src != unit:
                r = max(r, rank[src] + step)
        rank[unit] = r
    width = Counter(rank.values())
    for i, k in enumerate(key):  # a drawn result's op node sits one rank before it
        if k is None and not leaf[i]:
            width[rank[i] - 1] += 1
    return max(width.values(), default=0)


def _unit_order(parents: list[list[int]], key: list[object], root: int) -> list[object]:
    """The units (node indices and existing keys) in a topological order of the folded graph, each as
    early as its inputs allow in creation order (Kahn's algorithm with a heap), so that code that ran
    together stays together. Needs the folded graph to be acyclic (`_merge_cycles` first)."""
    first: dict[object, int] = {}  # unit -> its position by first appearance in creation order
    unit_of = []
    for i, k in enumerate(key):
        unit = i if k is None else k
        unit_of.append(first.setdefault(unit, len(first)))
    units = list(first)
    succ: list[set[int]] = [set() for _ in units]
    indegree = [0] * len(units)
    for i, ps in enumerate(parents):
        for p in ps:
            a, b = unit_of[p], unit_of[i]
            if a != b and b not in succ[a]:
                succ[a].add(b)
                indegree[b] += 1
    ready = [u for u in range(len(units)) if indegree[u] == 0]
    heapq.heapify(ready)
    order: list[object] = []
    while ready:
        u = heapq.heappop(ready)
        if units[u] != root:
            order.append(units[u])
        for v in succ[u]:
            indegree[v] -= 1
            if indegree[v] == 0:
                heapq.heappush(ready, v)
    return order


def _fold_runs(
    order: list[object], key: list[object], root_is_leaf: bool, root: int, max_nodes: int, size: int
) -> tuple[list[object], int]:
    """Cut the units (drawn nodes and summaries, in `order`) into runs of consecutive ones."""
    budget = max(1, max_nodes - (1 if root_is_leaf else 2) - 1)
    size = max(size, -(-len(order) // budget))  # ceil; runs of at least 2 so every run costs 1
    run_of = {unit: ("run", j // size) for j, unit in enumerate(order)}
    return [k if i == root else run_of[i if k is None else k] for i, k in enumerate(key)], size + (size + 1) // 2


def _merge_cycles(parents: list[list[int]], key: list[object]) -> list[object]:
    """Merge the units (drawn nodes and summaries) that lie on a common cycle of the folded graph.

    Folding nodes that are not consecutive in a topological order can make two summaries feed each
    other (A holds x, B holds y, and x -> y -> ... -> x' with x' in A): the drawing would show a cycle
    that the graph does not have. The strongly connected components of the folded graph are exactly
    the sets of units on common cycles; merging each into one summary leaves a DAG (the condensation).
    The output node has no consumers, so it is never on a cycle and stays drawn.
    """
    units: dict[object, int] = {}
    unit = [units.setdefault(i if k is None else k, len(units)) for i, k in enumerate(key)]
    succ: list[set[int]] = [set() for _ in units]
    for i, ps in enumerate(parents):
        for p in ps:
            if unit[p] != unit[i]:
                succ[unit[p]].add(unit[i])
    component = _strongly_connected(succ)
    sizes = Counter(component)
    if all(sizes[c] == 1 for c in component):
        return key
    return [("merged", component[unit[i]]) if sizes[component[unit[i]]] > 1 else k for i, k in enumerate(key)]


def _strongly_connected(succ: list[set[int]]) -> list[int]:
    """Tarjan's algorithm, iterative (no recursion limit): the component number of each vertex."""
    n = len(succ)
    index, low, component = [-1] * n, [0] * n, [-1] * n
    on_stack = [False] * n
    stack: list[int] = []
    counter = found = 0
    for start in range(n):
        if index[start] != -1:
            continue
        work = [(start, iter(succ[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack[start] = True
        while work:
            v, children = work[-1]
            for w in children:
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, iter(succ[w])))
                    break
                if on_stack[w]:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    while True:
                        w = stack.pop()
                        on_stack[w] = False
                        component[w] = found
                        if w == v:
                            break
                    found += 1
    return component


def _build(
    key: list[object], ops: list[str | None], owner: list[int | None], calls: list[Call], folded: set[int]
) -> Plan:
    """Turn the keys into numbered groups with their titles, op counts and clusters."""
    index: dict[object, int] = {}
    groups: list[Group] = []
    group: list[int | None] = [None] * len(key)
    for i, k in enumerate(key):
        if k is None:
            continue
        g = index.get(k)
        if g is None:
            g = index[k] = len(groups)
            groups.append(Group(calls[k[1]].title if k[0] == "call" else _TITLES[k[0]]))  # type: ignore[index]
        group[i] = g
        groups[g].members.append(i)
        groups[g].ops[ops[i] or "leaf"] += 1
    for k, g in index.items():
        if k[0] == "call":  # type: ignore[index]
            groups[g].cluster = calls[k[1]].parent  # type: ignore[index]
            continue
        homes = {owner[i] for i in groups[g].members}
        home = homes.pop() if len(homes) == 1 else None
        groups[g].cluster = None if home in folded else home
    return Plan(group, groups, folded)
