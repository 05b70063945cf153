"""Memory soak, bounded: training steps leave no memory behind and create no reference cycles.

The full run (10,000 steps of each model, with the numbers) is `benchmarks/bench_memory.py`; this
test runs a few hundred steps. Two checks:

* After a warm-up, the traced Python heap (`tracemalloc` sees every Python allocation, NumPy's array
  buffers included) grows by less than 5% of what the model and data take. A graph that outlived its
  step, a growing cache or a history list would add the same bytes every step and fail this.
* With the cyclic collector switched off, `gc.collect()` afterwards finds nothing: each step's graph
  was freed by reference counting alone, so the engine never builds a cycle (a closure over its own
  node, a parent pointing back at its child). A control step that does make a cycle proves the
  measurement can see one.
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

from tinygrad_edu import Tensor, Value, nn, optim
from tinygrad_edu.train.datasets import make_moons


def digits_like_step(seed: int = 0):
    """The digits MLP (64-128-64-10, tensor engine) on random digits-shaped data, one step per call."""
    rng = np.random.default_rng(seed)
    X, y = rng.random((512, 64), dtype=np.float32), rng.integers(0, 10, 512)
    model = nn.Sequential(
        nn.Linear(64, 128, generator=seed),
        nn.Sigmoid(),
        nn.Linear(128, 64, generator=seed + 1),
        nn.Sigmoid(),
        nn.Linear(64, 10, generator=seed + 2),
    )
    loss_fn, opt = nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1)

    def step(i: int) -> float:
        idx = slice((i * 32) % 480, (i * 32) % 480 + 32)
        loss = loss_fn(model(Tensor(X[idx])), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def moons_step(seed: int = 0):
    """The scalar 2-16-16-1 moons MLP (Value engine, max-margin loss), 4 points per step."""
    X, y = make_moons(100, noise=0.1, generator=seed)
    y = np.where(np.asarray(y).reshape(len(X), -1)[:, -1] > 0, 1.0, -1.0)
    model = nn.Sequential(
        nn.Linear(2, 16, engine="value", generator=seed),
        nn.ReLU(),
        nn.Linear(16, 16, engine="value", generator=seed + 1),
        nn.ReLU(),
        nn.Linear(16, 1, engine="value", generator=seed + 2),
        engine="value",
    )
    opt = optim.SGD(model.parameters(), lr=0.05)

    def step(i: int) -> float:
        idx = [(4 * i + k) % len(X) for k in range(4)]
        scores = model([[float(v) for v in X[j]] for j in idx])
        loss = sum((1 - float(y[j]) * s[0]).relu() for j, s in zip(idx, scores)) * 0.25
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.data

    return step


def heap_growth(make, steps: int, warmup: int) -> tuple[int, int, list[float]]:
    """(heap after warm-up, growth from there to the end, losses) with the model inside the baseline.

    Each module keeps its last 16 call ranges (for `draw`) in a `deque(maxlen=16)`, which CPython
    stores in blocks of 64 slots: appending moves through a block and allocates the next one, a
    bounded sawtooth of a few KB. Measuring a multiple of 64 steps apart sees it at the same phase.
    """
    gc.collect()
    tracemalloc.start()
    try:
        step = make()
        losses = [step(i) for i in range(warmup)]
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        losses += [step(i) for i in range(warmup, steps)]
        gc.collect()
        return base, tracemalloc.get_traced_memory()[0] - base, losses
    finally:
        tracemalloc.stop()


def test_tensor_training_memory_stays_flat():
    base, growth, losses = heap_growth(digits_like_step, steps=64 + 320, warmup=64)
    assert losses[-1] < losses[0]  # it trained, so the steps did real work
    assert base > 100_000  # the baseline holds the data and weights (sanity check of the measurement)
    assert growth < 0.05 * base, f"heap grew {growth} bytes over 320 steps after warm-up (baseline {base})"


def test_value_training_memory_stays_flat():
    base, growth, losses = heap_growth(moons_step, steps=64 + 128, warmup=64)
    assert all(np.isfinite(losses))
    assert base > 10_000
    assert growth < 0.05 * base, f"heap grew {growth} bytes over 128 steps after warm-up (baseline {base})"


def test_the_heap_measurement_sees_a_leak():
    """Control: a step that keeps its loss graph alive is caught by the same threshold."""
    kept = []

    def leaky():
        step = digits_like_step()

        def leaky_step(i):
            kept.append(Tensor(np.ones((32, 128)), requires_grad=True).sigmoid().sum())  # a graph that survives
            return step(i)

        return leaky_step

    base, growth, _ = heap_growth(leaky, steps=64 + 320, warmup=64)
    assert growth >= 0.05 * base


def collected_after(steps, run) -> int:
    """How many objects the cyclic collector frees after `steps` calls of `run`, with it off meanwhile."""
    gc.collect()
    gc.disable()
    try:
        for i in range(steps):
            run(i)
        gc.set_debug(gc.DEBUG_SAVEALL)  # keep what it finds in gc.garbage so a failure can show it
        found = gc.collect()
        garbage = [type(o).__name__ for o in gc.garbage[:10]]
        return found, garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_training_steps_create_no_reference_cycles():
    tensor_step, value_step = digits_like_step(), moons_step()
    found, garbage = collected_after(20, tensor_step)
    assert found == 0, f"tensor engine left cycles: {garbage}"
    found, garbage = collected_after(20, value_step)
    assert found == 0, f"Value engine left cycles: {garbage}"


def test_bare_graphs_create_no_reference_cycles():
    def tensor_graph(i):
        x = Tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
        w = Tensor(np.ones((5, 4)), requires_grad=True)
        y = (x @ w.T).tanh().softmax(axis=1)
        z = (y * y + y[0]).log_softmax(axis=0).max(axis=1).mean()
        z.backward()

    def value_graph(i):
        a, b = Value(0.5), Value(-1.5)
        c = (a * b + a**2).tanh() / (b.exp() + 1) - a.sigmoid().log() + b.relu()
        c.backward()

    assert collected_after(50, tensor_graph)[0] == 0
    assert collected_after(50, value_graph)[0] == 0


def test_the_cycle_count_sees_a_cycle():
    """Control: a step that does make a cycle is counted, so the zeros above mean something."""

    def cyclic(i):
        node = {"x": Value(float(i))}
        node["self"] = node

    found, _ = collected_after(10, cyclic)
    assert found >= 10
