"""One small program per op of the tensor engine (`ops.TABLE`), on two (3, 4) inputs x and y.

Shared by the tests that must reach every op: compile's bit-for-bit check and the leaf-gradient
ownership check. A new op gets a line here (test_compile_every_op fails until it does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_edu as tg

Fn = Callable[[Any, Any], Any]

TENSOR_OPS: dict[str, Fn] = {
    "Add": lambda x, y: x + y,
    "Sub": lambda x, y: x - y,
    "Mul": lambda x, y: x * y,
    "Div": lambda x, y: x / (y * y + 1.0),
    "Pow": lambda x, y: (x * x + 1.0) ** y,
    "Maximum": lambda x, y: x.maximum(y),
    "Neg": lambda x, y: -x,
    "Exp": lambda x, y: x.exp(),
    "Log": lambda x, y: (x * x + 0.5).log(),
    "Tanh": lambda x, y: x.tanh(),
    "Sigmoid": lambda x, y: x.sigmoid(),
    "Relu": lambda x, y: x.relu(),
    "Abs": lambda x, y: x.abs(),
    "Clip": lambda x, y: x.clip(-0.5, 0.5),
    "MatMul": lambda x, y: x @ y.T,
    "Linear": lambda x, y: tg.linear(x, y, y[:, 0]),
    "Sum": lambda x, y: x.sum(axis=1),
    "Mean": lambda x, y: x.mean(axis=0, keepdims=True),
    "Max": lambda x, y: x.max(axis=1),
    "Expand": lambda x, y: x.sum(axis=0, keepdims=True).expand(3, 4),
    "Reshape": lambda x, y: x.reshape(4, 3),
    "Permute": lambda x, y: x.permute(1, 0),
    "Index": lambda x, y: x[1:, ::2],
    "Scatter": lambda x, y: x._scatter((5, 4), (slice(1, 4),)),
    "Concatenate": lambda x, y: tg.concatenate([x, y], axis=0),
    "Softmax": lambda x, y: x.softmax(axis=1),
    "LogSoftmax": lambda x, y: x.log_softmax(axis=0),
    "CrossEntropy": lambda x, y: tg.cross_entropy(x, np.array([0, 3, 1])),
}
