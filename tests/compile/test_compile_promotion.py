"""A compiled step whose ops mix dtypes replays PyTorch's type promotion exactly as eager does.

`Tensor`'s binary ops cast their operands first when the dtypes differ (`promotion.py`); the trace must
write that cast down too (it once passed `cast=` on to the op and failed on its first replay).
"""

from __future__ import annotations

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor


def train(compiled: bool) -> list[tuple[np.ndarray, ...]]:
    w = Tensor(np.linspace(0.1, 1, 3).astype(np.float32), requires_grad=True)
    v = Tensor(np.linspace(0.3, 2, 3).astype(np.float64), requires_grad=True)
    opt = tg.optim.SGD([w, v], lr=0.1, momentum=0.9)

    def step(x):
        opt.zero_grad()
        loss = (w * x).sum() + (w * v).sum() * 0.5 - (x / 2).sum()  # int64 with float32, float32 with float64
        loss.backward()
        opt.step()
        return loss

    run = tg.compile(step) if compiled else step
    seen = []
    for i in range(5):
        x = np.arange(3, dtype=np.int64) + i
        loss = run(Tensor(x))  # (an int64 *array* argument is refused here: NumPy would compute x / 2 in float64)
        seen.append((loss.data.copy(), w.data.copy(), v.data.copy(), w.grad.copy(), v.grad.copy()))
    return seen


def test_mixed_dtypes_replay_bit_for_bit():
    eager, compiled = train(False), train(True)
    for a, b in zip(eager, compiled, strict=True):
        for x, y in zip(a, b, strict=True):
            assert x.dtype == y.dtype
            assert np.array_equal(x, y)
    assert eager[-1][1].dtype == np.float32 and eager[-1][2].dtype == np.float64  # each parameter keeps its dtype
    assert eager[-1][0].dtype == np.float64  # float32 with float64 tensors gives float64, as in PyTorch
