"""A compiled tensor step writes into preallocated buffers: it allocates only what it hands over (the
`.grad` arrays and the returned values, which a user may keep), reuses buffers once their values are
dead, and still leaves exactly what the eager step leaves, also when the optimizer's settings change."""

from __future__ import annotations

import re
import tracemalloc
from typing import Any

import numpy as np
import pytest
from test_compile_replay import _equal, _state

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.errors import GraphError


def _mlp(batch: int, seed: int = 0) -> tuple[Any, Any, Any, list[tuple[np.ndarray, np.ndarray]]]:
    """The digits benchmark's network (64-128-64-10, sigmoid, cross-entropy, SGD) on random data."""
    model = nn.Sequential(
        nn.Linear(64, 128, generator=seed), nn.Sigmoid(), nn.Linear(128, 64, generator=seed + 1), nn.Sigmoid(),
        nn.Linear(64, 10, generator=seed + 2),
    )  # fmt: skip
    opt = optim.SGD(model.parameters(), lr=0.1)

    def train_step(x: Any, y: Any) -> Any:
        opt.zero_grad()
        loss = tg.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    rng = np.random.default_rng(seed)
    batches = [(rng.random((batch, 64), dtype=np.float32), rng.integers(0, 10, batch)) for _ in range(6)]
    return model, opt, train_step, batches


@pytest.mark.parametrize("batch", [32, 1024])
def test_a_replay_allocates_only_what_it_hands_over(batch: int) -> None:
    """tracemalloc over one replay: what stays allocated is the new `.grad` arrays and the loss, nothing else
    (no buffer is made per call), and at its peak the replay holds no more than that plus the two rows it
    picks by label (`shifted[rows, y]`), which NumPy's fancy indexing always copies."""
    model, _, train_step, batches = _mlp(batch)
    step = tg.compile(train_step)
    for x, y in batches[:3]:  # the trace, the checked call, a replay
        step(x, y)
    old = [p.grad for p in model.parameters()]  # kept, so that their release does not hide new allocations
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        loss = step(*batches[3])
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    handed = sum(p.grad.nbytes for p in model.parameters()) + loss.data.nbytes
    headers = 4096  # array and Tensor objects: a few hundred bytes each
    assert all(p.grad is not g for p, g in zip(model.parameters(), old))  # fresh .grad arrays, as eager gives
    assert handed <= after - before < handed + headers
    assert peak - before < handed + 2 * batch * 4 + headers


def test_values_a_user_keeps_survive_the_next_replay() -> None:
    """The loss and the `.grad` arrays of one replay are the user's: the next replay writes none of them."""
    model, _, train_step, batches = _mlp(32)
    step = tg.compile(train_step)
    step(*batches[0])
    step(*batches[1])
    loss = step(*batches[2])
    grads = [p.grad for p in model.parameters()]
    copies = [np.array(g, copy=True) for g in [loss.data, *grads]]
    step(*batches[3])
    step(*batches[4])
    assert all(np.array_equal(a, b) for a, b in zip([loss.data, *grads], copies, strict=True))


def test_buffers_are_reused_once_their_values_are_dead() -> None:
    _, _, train_step, batches = _mlp(32)
    step = tg.compile(train_step)
    step(*batches[0])
    buffers = re.findall(r"out=(buf\w*)\)", step.source)
    assert len(buffers) > len(set(buffers)) > 0  # more writes into buffers than buffers
    # (x itself, or its column-major copy where that is faster and rounds alike: layouts.py)
    assert re.search(r"linear = np\.matmul\(x(_cols)?, model_0_weight\.T, out=buf\)", step.source)


def _settings_run(change: Any, traces: int = 1) -> None:
    """Train an eager and a compiled copy; from step 3, `change(opt)` on both; compare after every step."""

    def build() -> tuple[Any, Any, Any]:
        model, opt, train_step, _ = _mlp(16, seed=3)
        return model, opt, train_step

    (model_e, opt_e, step_e), (model_c, opt_c, step_c) = build(), build()
    _, _, _, batches = _mlp(16, seed=3)
    compiled = tg.compile(step_c)
    for k, (x, y) in enumerate(batches):
        if k == 3:
            change(opt_e)
            change(opt_c)
        loss_e, loss_c = step_e(Tensor(x), y), compiled(x, y)
        assert _equal(np.asarray(loss_e.data), np.asarray(loss_c.data)), f"loss differs at step {k}"
        for i, (a, b) in enumerate(zip(_state(model_e, opt_e), _state(model_c, opt_c), strict=True)):
            assert _equal(a, b), f"state item {i} differs after step {k}"
    assert compiled.traces == traces


def test_a_learning_rate_schedule_is_read_at_every_replay() -> None:
    _settings_run(lambda opt: opt.param_groups[0].update(lr=0.03))


def test_a_numpy_learning_rate_set_after_the_trace_is_used_as_eager_uses_it() -> None:
    """np.float64(0.03) * a float32 gradient is float64 in NumPy (a NumPy scalar keeps its dtype), unlike a
    Python float: the written-out update checks the learning rate's type and leaves that case to step()."""
    _settings_run(lambda opt: opt.param_groups[0].update(lr=np.float64(0.03)))


@pytest.mark.parametrize("setting", [{"momentum": 0.9}, {"weight_decay": 1e-2}])
def test_switching_a_branch_of_the_rule_on_after_the_trace_runs_the_optimizers_own_step(setting: dict) -> None:
    """The update was written for momentum = weight decay = 0; with either switched on, the code's check
    sends the update to `optimizer.step()`, which takes the other branch, as the eager step does. (Momentum's
    first step makes its buffers, and a step with buffers traces again: the guard holds which exist.)"""
    _settings_run(lambda opt: opt.param_groups[0].update(setting), traces=2 if "momentum" in setting else 1)


def test_adam_is_written_as_its_own_step() -> None:
    """Adam reads its state (moments, step count): its update stays one call of `optimizer.step()`."""
    model = nn.Sequential(nn.Linear(3, 2, generator=0))
    opt = optim.Adam(model.parameters(), lr=0.1)

    def train_step(x: Any) -> Any:
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    step = tg.compile(train_step)
    step(np.ones((4, 3), np.float32))
    assert "    optimizer.step()  # Adam" in step.source


def test_a_graph_from_before_a_replay_sees_the_parameters_written_in_place() -> None:
    """The written-out update notes its in-place writes (version counters), as `optimizer.step()` does: a
    graph built before a replay and differentiated after it raises instead of mixing old and new weights."""
    model, _, train_step, batches = _mlp(8)
    step = tg.compile(train_step)
    step(*batches[0])
    step(*batches[1])
    before = tg.cross_entropy(model(Tensor(batches[2][0])), batches[2][1])  # an eager graph on the weights now
    step(*batches[3])  # a replay: SGD writes every weight in place
    noted = "note_writes(versions)  # the in-place writes above, noted as step() notes them (params.model_0_weight, "
    assert noted in step.source
    with pytest.raises(GraphError, match="modified by an in-place operation"):
        before.backward()


def test_a_replay_counts_each_parameters_writes_as_the_eager_step_does() -> None:
    """`version(p)` (PyTorch's `p._version`) after replays equals what the same eager steps leave."""
    from tinygrad_edu.versions import version

    model, _, train_step, batches = _mlp(8)
    eager_model, _, eager_step, _ = _mlp(8)
    step = tg.compile(train_step)
    start = [version(p) for p in model.parameters()]
    for x, y in batches:
        step(x, y)
        eager_step(Tensor(x), y)
    compiled = [version(p) for p in model.parameters()]
    assert compiled == [version(p) for p in eager_model.parameters()] == [v + len(batches) for v in start]
