"""Deep and wide graphs: backward walks them without recursion, gets the closed form, and `del` frees them.

Two shapes of graph:

* chains, y_{k+1} = c y_k (+ a constant), where dy_n/dy_0 = c^n, and a chain of mixed ops
  (y_{k+1} = tanh(0.9 y_k + 0.2)) checked against the same recurrence run by hand on floats;
* a W-wide, D-deep DAG where node j of each layer combines nodes j and j+1 (mod W) of the layer
  before, y'_j = u y_j + v y_{j+1}. With a loss L = Σ_j w_j y_j at the end, the gradient flows
  back through the transposed map, g_j <- u g_j + v g_{j-1}, D times, which NumPy computes
  independently of the engines in a few vectorised lines.

"Freed" is checked with tracemalloc: after `del`, the traced heap is back within a small margin
of where it started (the graph held hundreds of MB for the big cases). CPython frees a long chain
of nested objects without recursing deeply (the "trashcan" in tuple deallocation), so a million
nested parents must not crash on `del` either.
"""

from __future__ import annotations

import gc
import math
import sys
import tracemalloc

import numpy as np
import pytest

from tinygrad_edu import Tensor, Value, concatenate, weighted_sum


@pytest.fixture
def low_recursion_limit():
    """Any recursive walk over these graphs would hit this limit long before the end."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(old)


class HeapWatch:
    """Traced heap at the start, at its peak, and after the test's `del`."""

    def __enter__(self):
        gc.collect()
        tracemalloc.start()
        self.start = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc):
        gc.collect()
        self.end, self.peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    def assert_freed(self, graph_bytes_at_least: int):
        assert self.peak - self.start > graph_bytes_at_least  # the graph really was that big
        assert self.end - self.start < 0.01 * (self.peak - self.start) + 64_000, (
            f"{self.end - self.start} bytes still held after del (peak {self.peak - self.start})"
        )


# ---------------------------------------------------------------------- chains


def value_chain(n: int, c: float) -> None:
    with HeapWatch() as heap:
        x = Value(0.5)
        y = x
        for k in range(n):
            y = y * c if k % 2 == 0 else y + 0.25
        y.backward()
        grad, out = x.grad, y.data
        del y
    # n/2 multiplications by c and n/2 additions of 0.25: y = c^(n/2) x + 0.25 Σ_{k<n/2} c^k
    half = n // 2
    assert math.isclose(grad, c**half, rel_tol=1e-9)
    assert math.isclose(out, c**half * 0.5 + 0.25 * (c**half - 1) / (c - 1), rel_tol=1e-9)
    heap.assert_freed(graph_bytes_at_least=100 * n)


def test_value_chain_of_200_000_nodes(low_recursion_limit):
    value_chain(200_000, 1.000005)


@pytest.mark.slow
def test_value_chain_of_a_million_nodes(low_recursion_limit):
    value_chain(1_000_000, 1.000001)


def test_deep_mixed_chain_matches_a_hand_run_recurrence(low_recursion_limit):
    """3,000 nodes of mixed ops, deeper than any recursive walk gets; compare with a hand-run recurrence."""
    n = 1_000  # the slope shrinks ~0.6x per step, so it stays far above float64's underflow
    x = Value(0.3)
    y = x
    expected, slope = 0.3, 1.0
    for _ in range(n):
        y = (y * 0.9 + 0.2).tanh()
        nxt = math.tanh(expected * 0.9 + 0.2)
        slope *= 0.9 * (1 - nxt * nxt)
        expected = nxt
    y.backward()
    assert y.data == pytest.approx(expected, rel=1e-12)
    assert 0 < x.grad == pytest.approx(slope, rel=1e-9)


def tensor_chain(n: int, c: float) -> None:
    x0 = np.array([0.5, -1.0, 2.0])
    with HeapWatch() as heap:
        x = Tensor(x0, requires_grad=True)
        y = x
        for _ in range(n):
            y = y * c + 0.125
        y.sum().backward()
        grad, out = x.grad.copy(), y.data.copy()
        del x, y
    np.testing.assert_allclose(grad, np.full(3, c**n), rtol=1e-9)
    np.testing.assert_allclose(out, c**n * x0 + 0.125 * (c**n - 1) / (c - 1), rtol=1e-9)
    heap.assert_freed(graph_bytes_at_least=200 * n)


def test_tensor_chain_of_100_000_ops(low_recursion_limit):
    tensor_chain(50_000, 1.00001)  # two ops per step: 100,000 nodes


@pytest.mark.slow
def test_tensor_chain_of_a_million_ops(low_recursion_limit):
    tensor_chain(500_000, 1.000001)


# ---------------------------------------------------------------------- wide DAGs

U, V = 0.6, 0.5  # y'_j = U y_j + V y_{j+1}: each column gets (U + V) = 1.1 times bigger per layer


def dag_reference(x: np.ndarray, w: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """The last layer's values and dL/dx for L = Σ w_j y_j, computed with NumPy."""
    y = x.copy()
    for _ in range(depth):
        y = U * y + V * np.roll(y, -1)
    g = w.copy()
    for _ in range(depth):
        g = U * g + V * np.roll(g, 1)  # the transpose of the forward map
    return y, g


def value_dag(width: int, depth: int, fused: bool) -> None:
    rng = np.random.default_rng(width + depth)
    x0, w = rng.uniform(-1, 1, width), rng.uniform(-1, 1, width)
    with HeapWatch() as heap:
        xs = [Value(float(v)) for v in x0]
        layer = xs
        for _ in range(depth):
            nxt = []
            for j in range(width):
                a, b = layer[j], layer[(j + 1) % width]
                # fused: one weighted_sum node per element (Values as weights, numbers as inputs)
                nxt.append(weighted_sum([a, b], [U, V]) if fused else a * U + b * V)
            layer = nxt
        loss = weighted_sum(layer, [float(v) for v in w])
        loss.backward()
        out = np.array([v.data for v in layer])
        grad = np.array([v.grad for v in xs])
        del xs, layer, nxt, loss, a, b
    y_ref, g_ref = dag_reference(x0, w, depth)
    np.testing.assert_allclose(out, y_ref, rtol=1e-9)
    np.testing.assert_allclose(grad, g_ref, rtol=1e-9)
    heap.assert_freed(graph_bytes_at_least=100 * width * depth)


def test_value_dag_200_wide_200_deep(low_recursion_limit):
    value_dag(200, 200, fused=False)  # 3 nodes per element: 120,000 nodes


@pytest.mark.slow
def test_value_dag_1000_wide_1000_deep(low_recursion_limit):
    value_dag(1000, 1000, fused=True)  # one node per element: 1,000,000 nodes, 2,000,000 edges


def test_tensor_dag_1000_wide_1000_deep(low_recursion_limit):
    """The same DAG with each layer one tensor: rolled copies via slicing and concatenate."""
    rng = np.random.default_rng(7)
    x0, w = rng.uniform(-1, 1, 1000), rng.uniform(-1, 1, 1000)
    with HeapWatch() as heap:
        x = Tensor(x0, requires_grad=True)
        y = x
        for _ in range(1000):
            y = y * U + concatenate([y[1:], y[:1]]) * V
        (y * w).sum().backward()
        out, grad = y.data.copy(), x.grad.copy()
        del x, y
    y_ref, g_ref = dag_reference(x0, w, 1000)
    np.testing.assert_allclose(out, y_ref, rtol=1e-9)
    np.testing.assert_allclose(grad, g_ref, rtol=1e-9)
    heap.assert_freed(graph_bytes_at_least=1_000_000)
