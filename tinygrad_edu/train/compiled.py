"""`fit(..., compile=True)`: the same training loop, each batch's step compiled (`tinygrad_edu.compile`).

The step a compiled `fit` traces is the one `fit` runs eagerly: zero the gradients, forward, loss,
backward, update; it returns the loss and the outputs (for the metrics), which are read here, outside
the step, as a compiled step requires. The first batch of each shape is traced, every later one replays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..compile import compile as compile_step
from ..value import Value


def compiled_batches(
    model: Any, loss_fn: Callable[[Any, Any], Any], optimizer: Any, engine: str, dtype: Any
) -> Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]:
    """A function `(x, y) -> (loss, outputs)` that trains on one batch with a compiled step."""
    if engine == "value":

        def value_step(rows: Any, targets: Any) -> Any:
            optimizer.zero_grad()
            outputs = [_as_list(model(row)) for row in rows]
            loss = loss_fn(outputs, targets)
            loss.backward()
            optimizer.step()
            return loss, outputs

        compiled = compile_step(value_step)

        def run_values(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
            targets = [t.tolist() if np.ndim(t) else t.item() for t in y]
            loss, outputs = compiled(x.astype(float).tolist(), targets)
            return loss.data, np.array([[v.data for v in out] for out in outputs])

        return run_values

    def tensor_step(x: Any, target: Any) -> Any:
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, target)
        loss.backward()
        optimizer.step()
        return loss, out

    compiled = compile_step(tensor_step)

    def run_tensors(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        target = y if np.issubdtype(y.dtype, np.integer) else y.astype(dtype, copy=False)
        loss, out = compiled(np.ascontiguousarray(x.astype(dtype, copy=False)), np.ascontiguousarray(target))
        data = np.asarray(out.data)
        return float(loss.data), data.reshape(len(data), -1) if data.ndim != 2 else data

    return run_tensors


def _as_list(out: Any) -> list[Value]:
    return [out] if isinstance(out, Value) else list(out)
