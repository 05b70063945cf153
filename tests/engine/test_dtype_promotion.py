"""dtype promotion follows PyTorch exactly (issue 24 item 3), checked against torch over the whole grid: every binary
op (+ - * / **, comparisons) x operand kinds (Python bool/int/float, NumPy scalars and 0-d arrays of float16/32/64
and int32/64, Tensors with axes and 0-d Tensors of those dtypes) on either side."""

from __future__ import annotations

import operator

import numpy as np
import pytest

from tinygrad_edu import Tensor

DTYPES = [np.float16, np.float32, np.float64, np.int32, np.int64]
OPS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
    "<": operator.lt,
    "==": operator.eq,
}


def values(dtype):
    return np.array([1.5, 2.0, 3.0]).astype(dtype)


def operands():
    """(name, our operand, how torch gets it); a NumPy scalar goes to torch as is (torch reads it as a number)."""
    found = [("True", True), ("2", 2), ("2.5", 2.5)]
    for dtype in DTYPES:
        name = np.dtype(dtype).name
        found += [
            (f"np.{name}(2)", dtype(2)),
            (f"0-d array {name}", np.array(2, dtype=dtype)),
            (f"Tensor {name}", Tensor(values(dtype))),
            (f"0-d Tensor {name}", Tensor(np.array(2, dtype=dtype))),
        ]
    return found


def to_torch(torch, x):
    if isinstance(x, Tensor):
        return torch.from_numpy(x.data.copy())
    if isinstance(x, np.ndarray):
        return torch.from_numpy(x.copy())  # a 0-d array is a 0-d tensor
    return x


def pairs():
    items = operands()
    return [(a, b) for a in items for b in items if isinstance(a[1], Tensor) or isinstance(b[1], Tensor)]


TOLERANCE = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-12}


@pytest.mark.parametrize("symbol", sorted(OPS))
def test_every_operand_pair_gets_pytorchs_dtype_and_values(symbol):
    torch = pytest.importorskip("torch")
    fn = OPS[symbol]
    wrong, compared = [], 0
    for (name_a, a), (name_b, b) in pairs():
        try:
            expected = fn(to_torch(torch, a), to_torch(torch, b))
        except (RuntimeError, TypeError):
            continue  # PyTorch has no answer (e.g. an op missing for float16 on this CPU)
        got = fn(a, b)
        compared += 1
        want = expected.numpy()
        if got.dtype != want.dtype or got.shape != want.shape:
            wrong.append(f"{name_a} {symbol} {name_b}: ours {got.dtype}{got.shape}, PyTorch {want.dtype}{want.shape}")
            continue
        tol = TOLERANCE.get(want.dtype.name, 0)
        if not np.allclose(got.data.astype(np.float64), want.astype(np.float64), rtol=tol, atol=0):
            wrong.append(f"{name_a} {symbol} {name_b}: ours {got.data}, PyTorch {want}")
    assert compared > 300
    assert not wrong, f"{len(wrong)} of {compared} differ from PyTorch:\n" + "\n".join(wrong[:40])


def test_the_issues_examples():
    f32, i64 = Tensor(np.ones(2, np.float32)), Tensor(np.ones(2, np.int64))
    assert (f32 * np.float64(2.0)).dtype == np.float32  # a scalar does not promote
    assert (f32 * np.array(2.0)).dtype == np.float32  # nor does a 0-d array
    assert (f32 * i64).dtype == np.float32  # an integer tensor meets a float one: the float
    assert (i64 * 0.5).dtype == np.float32  # a Python float is the default float32
    assert (f32 * Tensor(np.ones(2))).dtype == np.float64  # two tensors with axes: the wider
    assert (i64 / i64).dtype == np.float32  # true division of integers: the default float


def test_gradients_come_back_in_each_inputs_dtype():
    torch = pytest.importorskip("torch")
    x = Tensor(np.array([1.5, -2.0], np.float32), requires_grad=True)
    s = Tensor(np.array(3.0), requires_grad=True)  # a 0-d float64 tensor: the result stays float32
    out = x * s
    assert out.dtype == np.float32
    out.sum().backward()
    tx = torch.tensor([1.5, -2.0], requires_grad=True)
    ts = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    (tx * ts).sum().backward()
    assert x.grad.dtype == np.float32 and s.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, tx.grad.numpy())
    np.testing.assert_allclose(s.grad, ts.grad.numpy())


def test_comparisons_happen_in_the_promoted_dtype():
    """0.1 is rounded to float32 first, as PyTorch does: a float32 0.1 equals np.float64(0.1)."""
    t = Tensor(np.array([0.1], np.float32))
    assert bool((t == np.float64(0.1)).data[0])
    assert bool((t == 0.1).data[0])


def test_result_dtype_of_unknown_operands_is_none():
    from tinygrad_edu.promotion import result_dtype

    assert result_dtype(Tensor([1.0]), "text") is None
