"""Differential fuzzing: random expression graphs, evaluated by tinygrad_edu and by PyTorch (float64).

Hypothesis draws a *plan*: leaves whose shapes broadcast against one base shape, then up to 20
steps, each an op applied to earlier nodes (any of them, so nodes are reused and the graph is a
DAG, not a chain). The plan is first run on our engine, which *records* a concrete program: where
a step would leave an op's safe domain (log of a non-positive number, division by a number near
0, exp of a large one) or its operands do not fit (shapes that do not broadcast), a guard step is
recorded in front (x -> x*x + 0.5, x -> tanh x, b -> b.mean()). The recorded program is then
replayed on PyTorch, so both engines run exactly the same ops, and every node's value and every
leaf's gradient must agree to 1e-9.

The loss is sum_i (node_i * C_i).sum() over every node with fixed random C_i, so the
gradient reaching each node is a dense, non-uniform array (a plain .sum() would hide transposed or
mis-broadcast gradients behind all-ones arrays).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value

torch = pytest.importorskip("torch", reason="needs PyTorch: pip install -e '.[torch]' (CPU build: README)")

RTOL = ATOL = 1e-9
BIG = 50.0  # a node whose magnitude passes this is squashed with tanh before the next op uses it

BINARY = ("add", "sub", "mul", "div", "pow", "maximum", "matmul", "concat", "stack")
UNARY = ("neg", "exp", "log", "tanh", "sigmoid", "relu", "abs", "clip")
CONSTANT = ("add_c", "mul_c", "rsub_c", "rdiv_c", "pow_c", "rpow_c", "mul_arr")
SHAPE = ("sum", "mean", "max", "softmax", "log_softmax", "reshape", "permute", "T", "index")
TERMINAL = ("linear", "cross_entropy")
TENSOR_OPS = BINARY + UNARY + CONSTANT + SHAPE + TERMINAL


# ---------------------------------------------------------------------- the two backends


def _np_index(spec):
    kind = spec[0]
    if kind == "int":
        return spec[1]
    if kind == "slice":
        return slice(spec[1], spec[2], spec[3])
    if kind == "ell":
        return (Ellipsis, spec[1])
    return np.array(spec[1], dtype=np.int64)


def run_tg(op, xs, p):
    """One recorded step on tinygrad_edu (xs are Tensors, p the step's parameters)."""
    a = xs[0]
    simple = {
        "add": lambda: a + xs[1],
        "sub": lambda: a - xs[1],
        "mul": lambda: a * xs[1],
        "div": lambda: a / xs[1],
        "pow": lambda: a ** xs[1],
        "maximum": lambda: a.maximum(xs[1]),
        "matmul": lambda: a @ xs[1],
        "concat": lambda: tg.concatenate(xs, axis=p),
        "stack": lambda: tg.stack(xs, axis=p),
        "neg": lambda: -a,
        "exp": lambda: a.exp(),
        "log": lambda: a.log(),
        "tanh": lambda: a.tanh(),
        "sigmoid": lambda: a.sigmoid(),
        "relu": lambda: a.relu(),
        "abs": lambda: a.abs(),
        "clip": lambda: a.clip(*p),
        "add_c": lambda: a + p,
        "mul_c": lambda: p * a,
        "rsub_c": lambda: p - a,
        "rdiv_c": lambda: p / a,
        "pow_c": lambda: a**p,
        "rpow_c": lambda: p**a,
        "mul_arr": lambda: a * p,
        "sum": lambda: a.sum(axis=p[0], keepdims=p[1]),
        "mean": lambda: a.mean(axis=p[0], keepdims=p[1]),
        "max": lambda: a.max(axis=p[0], keepdims=p[1]),
        "softmax": lambda: a.softmax(axis=p),
        "log_softmax": lambda: a.log_softmax(axis=p),
        "reshape": lambda: a.reshape(p),
        "permute": lambda: a.permute(p),
        "T": lambda: a.T,
        "index": lambda: a[_np_index(p)],
        "linear": lambda: tg.linear(a, xs[1], xs[2] if len(xs) > 2 else None),
        "cross_entropy": lambda: tg.cross_entropy(a, p),
    }
    return simple[op]()


def _torch_axis(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


def run_torch(op, xs, p):
    """The same step on PyTorch."""
    F = torch.nn.functional
    a = xs[0]
    if op in ("sum", "mean", "max"):
        fn = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax}[op]
        return fn(a, dim=_torch_axis(p[0], a.ndim), keepdim=p[1])
    if op == "index":
        index = _np_index(p)
        return a[torch.as_tensor(index)] if isinstance(index, np.ndarray) else a[index]
    simple = {
        "add": lambda: a + xs[1],
        "sub": lambda: a - xs[1],
        "mul": lambda: a * xs[1],
        "div": lambda: a / xs[1],
        "pow": lambda: a ** xs[1],
        "maximum": lambda: torch.maximum(a, xs[1]),
        "matmul": lambda: a @ xs[1],
        "concat": lambda: torch.cat(xs, dim=p),
        "stack": lambda: torch.stack(xs, dim=p),
        "neg": lambda: -a,
        "exp": lambda: a.exp(),
        "log": lambda: a.log(),
        "tanh": lambda: a.tanh(),
        "sigmoid": lambda: a.sigmoid(),
        "relu": lambda: a.relu(),
        "abs": lambda: a.abs(),
        "clip": lambda: a.clamp(*p),
        "add_c": lambda: a + p,
        "mul_c": lambda: p * a,
        "rsub_c": lambda: p - a,
        "rdiv_c": lambda: p / a,
        "pow_c": lambda: a**p,
        "rpow_c": lambda: p**a,
        "mul_arr": lambda: a * torch.as_tensor(p),
        "softmax": lambda: torch.softmax(a, dim=p),
        "log_softmax": lambda: torch.log_softmax(a, dim=p),
        "reshape": lambda: a.reshape(p),
        "permute": lambda: a.permute(p),
        "T": lambda: a.permute(tuple(reversed(range(a.ndim)))),
        "linear": lambda: F.linear(a, xs[1], xs[2] if len(xs) > 2 else None),
        "cross_entropy": lambda: F.cross_entropy(a, torch.as_tensor(p)),
    }
    return simple[op]()


# ---------------------------------------------------------------------- plans and recording


@st.composite
def tensor_plans(draw):
    """Leaves (shapes broadcasting against one base shape) and up to 20 steps over earlier nodes."""
    # sampled_from draws uniformly (st.integers favours small values), so 3-D bases and long
    # programs are common; shrinking still moves towards the first, simplest choice.
    ndim = draw(st.sampled_from((0, 1, 2, 3, 2, 3)))
    base = tuple(draw(st.lists(st.sampled_from((1, 2, 3, 4)), min_size=ndim, max_size=ndim)))
    leaves = []
    for _ in range(draw(st.sampled_from((1, 2, 3)))):
        keep = draw(st.sampled_from(range(ndim, -1, -1)))  # drop leading axes, then squeeze some to 1
        shape = tuple(1 if draw(st.integers(0, 3)) == 3 else n for n in base[ndim - keep :])
        leaves.append(shape)
    steps = []
    for _ in range(draw(st.sampled_from(range(1, 21)))):
        op = draw(st.sampled_from(TENSOR_OPS))
        picks = draw(st.lists(st.integers(0, 10_000), min_size=3, max_size=3))
        steps.append((op, picks, draw(st.integers(0, 2**31 - 1))))
    return leaves, steps, draw(st.integers(0, 2**31 - 1))


class Recorder:
    """Runs a plan on tinygrad_edu, writing down each concrete step (with its guards) as it goes."""

    def __init__(self, leaves: list[np.ndarray]):
        self.nodes = [Tensor(x, requires_grad=True) for x in leaves]
        self.leaf_ids = list(range(len(leaves)))
        self.leaf_data = list(leaves)
        self.program: list[tuple[str, tuple[int, ...], object]] = []

    def emit(self, op, ids, p=None):
        out = run_tg(op, [self.nodes[i] for i in ids], p)
        self.nodes.append(out)
        self.program.append((op, tuple(ids), p))
        return len(self.nodes) - 1

    def leaf(self, array):
        self.nodes.append(Tensor(array, requires_grad=True))
        self.leaf_ids.append(len(self.nodes) - 1)
        self.leaf_data.append(array)
        self.program.append(("leaf", (), len(self.leaf_data) - 1))
        return len(self.nodes) - 1

    def data(self, i):
        return self.nodes[i].data

    def positive(self, i, lo=0.05):
        """A node with every element > lo: i itself, or i*i + 0.5."""
        if self.data(i).size and self.data(i).min() > lo:
            return i
        return self.emit("add_c", [self.emit("mul", [i, i])], 0.5)

    def away_from_zero(self, i):
        if self.data(i).size and np.abs(self.data(i)).min() > 0.1:
            return i
        return self.emit("add_c", [self.emit("mul", [i, i])], 0.5)

    def small(self, i, limit=3.0):
        return i if np.abs(self.data(i)).max(initial=0) <= limit else self.emit("tanh", [i])

    def fit(self, a, b):
        """b, or b reduced to a scalar when the two shapes do not broadcast."""
        try:
            np.broadcast_shapes(self.data(a).shape, self.data(b).shape)
            return b
        except ValueError:
            return self.emit("mean", [b], (None, False))


def record(rec: Recorder, step, rng: np.random.Generator) -> None:
    op, picks, seed = step
    r = np.random.default_rng(seed)
    n = len(rec.nodes)
    a, b = picks[0] % n, picks[1] % n
    a = rec.small(a, BIG)
    x = rec.data(a)
    if op in ("add", "sub", "mul", "maximum"):
        rec.emit(op, [a, rec.fit(a, rec.small(b, BIG))])
    elif op == "div":
        rec.emit(op, [a, rec.fit(a, rec.away_from_zero(b))])
    elif op == "pow":
        base = rec.positive(a)
        rec.emit(op, [base, rec.fit(base, rec.small(b))])
    elif op == "matmul":
        b = rec.small(b, BIG)
        y = rec.data(b)
        try:
            np.matmul(x, y)
            ok = x.ndim >= 1 and y.ndim >= 1
        except ValueError:
            ok = False
        if ok:
            rec.emit(op, [a, b])
        elif x.ndim >= 2:
            rec.emit(op, [a, rec.emit("permute", [a], (*tuple(range(x.ndim - 2)), x.ndim - 1, x.ndim - 2))])
        elif x.ndim == 1:
            rec.emit(op, [a, a])  # a dot product of a node with itself
    elif op in ("concat", "stack"):
        if x.ndim == 0:
            return
        y = rec.data(b)
        axis = int(r.integers(-x.ndim, x.ndim))
        if op == "concat":
            same = y.ndim == x.ndim and all(
                s == t for k, (s, t) in enumerate(zip(x.shape, y.shape)) if k != axis % x.ndim
            )
        else:
            axis = int(r.integers(-x.ndim - 1, x.ndim + 1))
            same = y.shape == x.shape
        rec.emit(op, [a, rec.small(b, BIG) if same else a], axis)
    elif op == "log":
        rec.emit(op, [rec.positive(a)])
    elif op == "exp":
        rec.emit(op, [rec.small(a, 5.0)])
    elif op == "clip":
        lo = float(r.uniform(-1.5, 0.5))
        hi = None if r.random() < 0.3 else lo + float(r.uniform(0.1, 2.0))
        rec.emit(op, [a], (None if hi is not None and r.random() < 0.3 else lo, hi))
    elif op in UNARY:
        rec.emit(op, [a])
    elif op in ("add_c", "mul_c", "rsub_c"):
        rec.emit(op, [a], float(r.uniform(-2, 2)))
    elif op == "rdiv_c":
        rec.emit(op, [rec.away_from_zero(a)], float(r.uniform(-2, 2)))
    elif op == "pow_c":
        c = float(r.choice([2.0, 3.0, -1.0, -2.0, 0.5, 1.5, 0.0]))
        if not c.is_integer():
            a = rec.positive(a)
        elif c < 0:
            a = rec.away_from_zero(a)
        rec.emit(op, [a], c)
    elif op == "rpow_c":
        rec.emit(op, [rec.small(a)], float(r.choice([0.5, 2.0, 3.0, math.e])))
    elif op == "mul_arr":
        shape = x.shape[int(r.integers(0, x.ndim + 1)) :]
        rec.emit(op, [a], r.uniform(-2, 2, size=shape))
    elif op in ("sum", "mean", "max"):
        if op == "max" and x.ndim and r.random() < 0.4:
            # ties that matter: every element twice, so each maximum is shared and its gradient
            # must split in halves that add back up (clipping to make ties would zero the gradient)
            a = rec.emit("concat", [a, a], int(r.integers(0, x.ndim)))
            x = rec.data(a)
        axis = None
        if x.ndim and r.random() < 0.7:
            k = int(r.integers(1, x.ndim + 1))
            dims = [int(d) for d in r.permutation(x.ndim)[:k]]
            axis = dims[0] - x.ndim if k == 1 and r.random() < 0.5 else (dims[0] if k == 1 else tuple(dims))
        rec.emit(op, [a], (axis, bool(r.random() < 0.5)))
    elif op in ("softmax", "log_softmax"):
        if x.ndim:
            rec.emit(op, [a], int(r.integers(-x.ndim, x.ndim)))
    elif op == "reshape":
        choice = r.integers(0, 3)
        shape = (-1,) if choice == 0 else tuple(reversed(x.shape)) if choice == 1 else (*x.shape, 1)
        rec.emit(op, [a], shape)
    elif op == "permute":
        axes = tuple(int(d) - (x.ndim if r.random() < 0.3 else 0) for d in r.permutation(x.ndim))
        rec.emit(op, [a], axes)
    elif op == "T":
        rec.emit(op, [a])
    elif op == "index":
        if x.ndim == 0:
            return
        n0 = x.shape[0]
        kind = r.integers(0, 4)
        if kind == 0:
            spec = ("int", int(r.integers(-n0, n0)))
        elif kind == 1:
            start = int(r.integers(0, n0))
            spec = ("slice", start, int(r.integers(start + 1, n0 + 1)), int(r.integers(1, 3)))
        elif kind == 2:
            spec = ("ell", int(r.integers(-x.shape[-1], x.shape[-1])))
        else:
            spec = ("arr", [int(i) for i in r.integers(0, n0, size=int(r.integers(1, 5)))])  # repeats add up
        rec.emit(op, [a], spec)
    elif op == "linear":
        features = x.shape[-1] if x.ndim else 1
        if x.ndim == 0:
            a = rec.emit("reshape", [a], (1, 1))
        out = int(r.integers(1, 4))
        w = rec.leaf(rng.uniform(-1, 1, size=(out, features)))
        if r.random() < 0.7:
            rec.emit(op, [a, w, rec.leaf(rng.uniform(-1, 1, size=(out,)))])
        else:
            rec.emit(op, [a, w], "no bias")
    elif op == "cross_entropy":
        classes = x.shape[-1] if x.ndim else 1
        logits = rec.emit("reshape", [a], (-1, classes))
        rows = rec.data(logits).shape[0]
        rec.emit(op, [logits], r.integers(0, classes, size=rows))


def replay(program, leaves):
    """Run the recorded program on PyTorch."""
    tleaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    created = sum(1 for op, _, _ in program if op == "leaf")
    nodes = tleaves[: len(leaves) - created]  # the plan's leaves; `linear` adds its own later
    for op, ids, p in program:
        if op == "leaf":
            nodes.append(tleaves[p])
        else:
            nodes.append(run_torch(op, [nodes[i] for i in ids], p))
    return nodes, tleaves


def check_tensor_plan(plan) -> None:
    shapes, steps, seed = plan
    rng = np.random.default_rng(seed)
    rec = Recorder([rng.uniform(-2, 2, size=s) for s in shapes])
    for step in steps:
        record(rec, step, rng)
    ours = rec.nodes
    theirs, tleaves = replay(rec.program, rec.leaf_data)
    assert len(ours) == len(theirs)
    for i, (x, y) in enumerate(zip(ours, theirs)):
        assert x.shape == tuple(y.shape), f"shape of node {i}"
        np.testing.assert_allclose(x.data, y.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=f"value of node {i}")
    # the loss: a weighted sum over every node, so every op's backward is on some path to it
    tail = range(len(ours))
    loss_ours, loss_theirs = None, None
    for i in tail:
        c = rng.uniform(-1, 1, size=ours[i].shape)
        term_ours, term_theirs = (ours[i] * c).sum(), (theirs[i] * torch.as_tensor(c)).sum()
        loss_ours = term_ours if loss_ours is None else loss_ours + term_ours
        loss_theirs = term_theirs if loss_theirs is None else loss_theirs + term_theirs
    loss_ours.backward()
    loss_theirs.backward()
    for k, (i, t) in enumerate(zip(rec.leaf_ids, tleaves)):
        expected = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(t.shape) if ours[i].grad is None else ours[i].grad
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL, err_msg=f"gradient of leaf {k}")


@settings(max_examples=250)
@given(tensor_plans())
def test_tensor_graphs_match_torch(plan):
    check_tensor_plan(plan)


@pytest.mark.slow
@settings(max_examples=1200)
@given(tensor_plans())
def test_tensor_graphs_match_torch_many(plan):
    check_tensor_plan(plan)


# ---------------------------------------------------------------------- the scalar engine

VALUE_OPS = (
    "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "tanh", "sigmoid", "relu",
    "add_c", "radd_c", "sub_c", "rsub_c", "mul_c", "rmul_c", "div_c", "rdiv_c", "pow_c", "rpow_c", "wsum",
)  # fmt: skip


def run_value(op, xs, p, lib):
    """One scalar step; `lib` is tinygrad_edu's `weighted_sum` for Values, a torch sum for tensors."""
    a = xs[0]
    table = {
        "add": lambda: a + xs[1],
        "sub": lambda: a - xs[1],
        "mul": lambda: a * xs[1],
        "div": lambda: a / xs[1],
        "pow": lambda: a ** xs[1],
        "neg": lambda: -a,
        "exp": lambda: a.exp(),
        "log": lambda: a.log(),
        "tanh": lambda: a.tanh(),
        "sigmoid": lambda: a.sigmoid(),
        "relu": lambda: a.relu(),
        "add_c": lambda: a + p,
        "radd_c": lambda: p + a,
        "sub_c": lambda: a - p,
        "rsub_c": lambda: p - a,
        "mul_c": lambda: a * p,
        "rmul_c": lambda: p * a,
        "div_c": lambda: a / p,
        "rdiv_c": lambda: p / a,
        "pow_c": lambda: a**p,
        "rpow_c": lambda: p**a,
        "wsum": lambda: lib(xs, p),
    }
    return table[op]()


def _tg_wsum(xs, p):
    half = len(xs) // 2
    return tg.weighted_sum(xs[:half], xs[half : 2 * half], p)


def _torch_wsum(xs, p):
    half = len(xs) // 2
    total = sum(w * x for w, x in zip(xs[:half], xs[half : 2 * half]))
    return total + p


@st.composite
def value_plans(draw):
    n_leaves = draw(st.sampled_from((1, 2, 3, 4)))
    steps = [
        (draw(st.sampled_from(VALUE_OPS)), draw(st.lists(st.integers(0, 10_000), min_size=4, max_size=4)))
        for _ in range(draw(st.sampled_from(range(1, 21))))
    ]
    return n_leaves, steps, draw(st.integers(0, 2**31 - 1))


def check_value_plan(plan) -> None:
    n_leaves, steps, seed = plan
    rng = np.random.default_rng(seed)
    leaves = [float(v) for v in rng.uniform(-2, 2, size=n_leaves)]
    nodes = [Value(v) for v in leaves]
    program = []

    def emit(op, ids, p=None):
        nodes.append(run_value(op, [nodes[i] for i in ids], p, _tg_wsum))
        program.append((op, tuple(ids), p))
        return len(nodes) - 1

    def squash(i, limit):
        return i if abs(nodes[i].data) <= limit else emit("tanh", [i])

    def positive(i):
        return i if nodes[i].data > 0.05 else emit("add_c", [emit("mul", [i, i])], 0.5)

    def away(i):
        return i if abs(nodes[i].data) > 0.1 else emit("add_c", [emit("mul", [i, i])], 0.5)

    for op, picks in steps:
        n = len(nodes)
        a, b = squash(picks[0] % n, BIG), squash(picks[1] % n, BIG)
        c = float(rng.uniform(-2, 2))
        if op in ("add", "sub", "mul"):
            emit(op, [a, b])
        elif op == "div":
            emit(op, [a, away(b)])
        elif op == "pow":
            emit(op, [positive(a), squash(b, 3.0)])
        elif op == "log":
            emit(op, [positive(a)])
        elif op == "exp":
            emit(op, [squash(a, 5.0)])
        elif op in ("neg", "tanh", "sigmoid", "relu"):
            emit(op, [a])
        elif op in ("div_c",):
            emit(op, [a], c if abs(c) > 0.1 else 0.5)
        elif op == "rdiv_c":
            emit(op, [away(a)], c)
        elif op == "pow_c":
            e = float(rng.choice([2.0, 3.0, -1.0, -2.0, 0.5, 1.5, 0.0]))
            a = positive(a) if not e.is_integer() else away(a) if e < 0 else a
            emit(op, [a], e)
        elif op == "rpow_c":
            emit(op, [squash(a, 3.0)], float(rng.choice([0.5, 2.0, 3.0])))
        elif op == "wsum":
            ids = [p % n for p in picks]
            emit(op, [squash(i, BIG) for i in ids], c if rng.random() < 0.7 else None)
        else:
            emit(op, [a], c)

    tleaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in leaves]
    theirs = list(tleaves)
    for op, ids, p in program:
        theirs.append(run_value(op, [theirs[i] for i in ids], 0.0 if p is None and op == "wsum" else p, _torch_wsum))
    for i, (x, y) in enumerate(zip(nodes, theirs)):
        assert math.isclose(x.data, y.item(), rel_tol=RTOL, abs_tol=ATOL), f"value of node {i}: {x.data} vs {y.item()}"
    weights = rng.uniform(-1, 1, size=3)
    loss_ours = sum(float(w) * nodes[-1 - k] for k, w in enumerate(weights[: min(3, len(program))]))
    loss_theirs = sum(float(w) * theirs[-1 - k] for k, w in enumerate(weights[: min(3, len(program))]))
    loss_ours.backward()
    loss_theirs.backward()
    for k in range(n_leaves):
        expected = 0.0 if tleaves[k].grad is None else float(tleaves[k].grad)
        got = nodes[k].grad or 0.0
        assert math.isclose(got, expected, rel_tol=RTOL, abs_tol=ATOL), f"gradient of leaf {k}: {got} vs {expected}"


@settings(max_examples=200)
@given(value_plans())
def test_value_graphs_match_torch(plan):
    check_value_plan(plan)


@pytest.mark.slow
@settings(max_examples=1000)
@given(value_plans())
def test_value_graphs_match_torch_many(plan):
    check_value_plan(plan)
