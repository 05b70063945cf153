"""`step.source`: the code that runs, readable (graph names, one statement per op, rules as comments,
three labelled blocks), within Python's parser limits; and the cache: what re-traces and what does not."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import CompileError, Tensor, Value, nn, optim


def _tensor_step() -> tuple[Any, Any, Any]:
    model = nn.Sequential(nn.Linear(4, 3, generator=0), nn.Sigmoid(), nn.Linear(3, 2, generator=1))
    opt = optim.SGD(model.parameters(), lr=0.1)

    def train_step(x: Any, y: Any) -> Any:
        opt.zero_grad()
        loss = tg.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, opt, train_step


def test_tensor_source_has_three_blocks_names_and_rules() -> None:
    _, _, train_step = _tensor_step()
    step = tg.compile(train_step)
    step(np.ones((5, 4), np.float32), np.zeros(5, np.int64))
    src = step.source
    assert src.index("# ---- forward") < src.index("# ---- backward") < src.index("# ---- update")
    assert "model_0_weight = params.model_0_weight.data" in src  # parameter names from the module
    # each op's own formula as NumPy calls, under its rule from ops.py's docstring, into preallocated buffers
    assert "# Sigmoid: dz/dx = z(1 - z)" in src and "g_linear *= sigmoid" in src
    assert "linear = np.matmul(x, model_0_weight.T, out=buf)" in src
    # handed over, so allocated at every replay as eager does: the .grad arrays
    assert "g_model_0_weight = np.matmul(g_linear.T, x)\n" in src
    assert "lr = group['lr']" in src and "model_0_weight -= d" in src
    assert "optimizer.step()" in src  # when momentum or weight decay are switched on after the trace
    compile(src, "<source>", "exec")  # it is the code that runs: valid Python


def test_scalar_source_reads_like_the_derivation() -> None:
    w1, w2, b = Value(0.1, name="w1"), Value(0.2, name="w2"), Value(0.5, name="b_h1")
    opt = optim.SGD([w1, w2, b], lr=0.5)

    def train_step(i: Any, target: Any) -> Any:
        opt.zero_grad()
        s_h1 = (w1 * i[0] + w2 * i[1] + b).sigmoid()
        s_h1.name = "a_h1"
        loss = (s_h1 - target) ** 2 * 0.5
        loss.backward()
        opt.step()
        return loss

    step = tg.compile(train_step)
    step([2.78, 2.55], 0.1)
    src = step.source
    assert "w1 = params.w1.data" in src and "b_h1 = params.b_h1.data" in src
    assert "sigmoid: d/da = s (1 - s)" in src  # the rule's comment, from Value.sigmoid
    assert "params.w1.grad = " in src and "optimizer.step()" in src
    assert src.index("# ---- forward") < src.index("# ---- backward") < src.index("# ---- update")


def test_a_long_chain_stays_within_the_parser_limits() -> None:
    """10^5 ops in one chain: folding cuts it into statements Python can parse and compile."""
    p = Value(1.0000001, name="p")

    def chain(x: Any) -> Any:
        y = x * p
        for _ in range(100_000):
            y = y * 1.0000001
        y.backward()
        return y

    step = tg.compile(chain, check=False)
    p.grad = None
    first = step(0.5)
    p.grad = None
    again = step(0.5)
    assert again.data == first.data and p.grad is not None
    depth = sys.getrecursionlimit()
    assert all(len(line) < 20_000 for line in step.source.splitlines()) and depth


def test_each_signature_traces_once_and_the_cache_is_bounded() -> None:
    _, _, train_step = _tensor_step()
    step = tg.compile(train_step, cache_size=2)
    for batch in (5, 5, 7, 7, 5):
        step(np.ones((batch, 4), np.float32), np.zeros(batch, np.int64))
    assert step.traces == 2
    step(np.ones((9, 4), np.float32), np.zeros(9, np.int64))  # a third shape evicts the oldest
    step(np.ones((5, 4), np.float32), np.zeros(5, np.int64))
    assert step.traces == 4


def test_a_new_parameter_array_re_traces() -> None:
    model, _, train_step = _tensor_step()
    step = tg.compile(train_step)
    x, y = np.ones((5, 4), np.float32), np.zeros(5, np.int64)
    step(x, y)
    step(x, y)
    model[0].weight.data = np.zeros((3, 4), np.float32)  # p.data = new array: the trace read the old one
    step(x, y)
    assert step.traces == 2
    assert not np.array_equal(model[0].weight.data, 0)  # and the new array was trained


def test_requires_grad_change_re_traces() -> None:
    model, _, train_step = _tensor_step()
    step = tg.compile(train_step)
    x, y = np.ones((5, 4), np.float32), np.zeros(5, np.int64)
    step(x, y)
    model[2].bias.requires_grad_(False)
    before = model[2].bias.data.copy()
    step(x, y)
    assert step.traces == 2 and np.array_equal(model[2].bias.data, before)


def test_decorator_forms_and_the_module_are_callable() -> None:
    import tinygrad_edu.compile

    @tinygrad_edu.compile
    def f(x: Any) -> Any:
        return x * 2.0

    @tg.compile(check=False)
    def g(x: Any) -> Any:
        return x * 3.0

    assert f(np.ones(2, np.float32)).data.tolist() == [2.0, 2.0]
    assert g(np.ones(2, np.float32)).data.tolist() == [3.0, 3.0]
    module = sys.modules["tinygrad_edu.compile"]
    assert module(lambda x: x * 4.0)(np.ones(1, np.float32)).data.tolist() == [4.0]  # the module itself is callable
    with pytest.raises(CompileError, match="not run yet"):
        tg.compile(lambda x: x).source


def test_arguments_become_inputs_of_the_step_engine() -> None:
    seen: list[Any] = []

    def f(a: Any, b: Any, c: Any) -> Any:
        seen.append((type(a), type(b), type(c)))
        return a

    tg.compile(f)(np.ones(2), 1.5, Tensor([1.0]))
    tg.compile(f)([1.0, 2.0], 1.5, Value(1.0))
    assert seen[0] == (Tensor, Tensor, Tensor)
    assert seen[1][0] is list and seen[1][1:] == (Value, Value)
    with pytest.raises(CompileError, match="mix"):
        tg.compile(f)(np.ones(2), [1.0], 2.0)
