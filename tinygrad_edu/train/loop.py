"""Keras-style training for both engines: `fit`, `predict`, `evaluate`, and the `History` they keep.

`fit` is the loop every example would otherwise write by hand, one mini-batch at a time:

    optimizer.zero_grad()                 # forget the last batch's gradients
    loss = loss_fn(model(x), y)           # forward pass
    loss.backward()                       # dloss/dparam for every parameter
    optimizer.step()                      # param -= lr * grad (or Adam's rule)

On the tensor engine a batch is one `(batch, features)` Tensor. On the scalar engine a model takes
one sample (a list of floats) and returns a list of `Value`s, so a batch is a Python loop over its
samples, and the loss gets the list of their outputs (the `nn` losses take a batch as a list of
samples and reduce it exactly as they reduce a Tensor batch, so both engines compute the same loss
and gradients). With `batch_size=1`, the scalar default, this is the article's Level 1:
per-sample stochastic gradient descent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, ShapeError
from ..graph import gc_paused, no_grad
from ..nn import engine_of
from ..nn import max_margin_loss as max_margin_loss  # its import path from before nn had it
from ..retention import keep_graph
from ..rng import Seed, as_generator
from ..tensor import Tensor
from ..value import Value
from .compiled import compiled_batches
from .metrics import Metric, named_metrics
from .progress import progress_bar


@dataclass
class History:
    """What `fit` measured, one entry per epoch, like Keras's `History`.

    `history["loss"][k]` is the training loss of epoch `k + 1`: the mean of its batch losses,
    weighted by batch size and measured before each batch's update, as Keras reports it (with a
    "mean" reduction, the mean loss per sample). Each metric is computed over the epoch's outputs.
    """

    epoch: list[int] = field(default_factory=list)
    history: dict[str, list[float]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> list[float]:
        return self.history[name]

    @property
    def loss(self) -> list[float]:
        return self.history.get("loss", [])

    def final(self) -> dict[str, float]:
        """The last epoch's loss and metrics."""
        return {name: values[-1] for name, values in self.history.items() if values}

    def _append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for name, value in logs.items():
            self.history.setdefault(name, []).append(value)


# ---------------------------------------------------------------------- the training loop


def fit(
    model: Any,
    loss_fn: Callable[[Any, Any], Any],
    optimizer: Any,
    X: Any,
    Y: Any,
    epochs: int = 1,
    batch_size: int | None = None,
    metrics: Sequence[str | Metric] = ("accuracy",),
    progress: bool = True,
    shuffle: bool = True,
    generator: Seed = None,
    compile: bool = False,  # noqa: A002 (the option's natural name, as torch.compile's)
) -> History:
    """Train `model` on `(X, Y)` for `epochs` passes and return the per-epoch `History`.

    `X` is `(samples, features)`; `Y` is `(samples, outputs)` targets (one-hot rows, or regression
    values) or `(samples,)` integer class labels for `CrossEntropyLoss`. `batch_size=None` means the
    engine's natural choice: the whole data set in one batch on the tensor engine (Level 3's full
    batch), one sample at a time on the scalar engine (Level 1). `shuffle` reorders the samples
    every epoch, drawn from `generator` (a seed makes the run reproducible). `metrics` are names
    (`"accuracy"`) or functions `(outputs, targets) -> float` on NumPy arrays. `compile=True` runs
    each step through `tinygrad_edu.compile` (the same numbers, bit for bit; see docs/compile.md).
    """
    engine = engine_of(model)
    X, Y = _check_data(X, Y, "fit")
    n = len(X)
    if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool):
        raise ArgumentTypeError(f"fit: epochs must be a whole number, got {epochs!r}")
    if epochs < 0:
        raise ArgumentError(f"fit: epochs must be >= 0, got {epochs}")
    batch_size = _batch_size(batch_size, n, engine, "fit")
    measured = named_metrics(metrics)
    rng = as_generator(generator) if shuffle and batch_size < n else None
    step = _value_batch if engine == "value" else _tensor_batch
    dtype = _param_dtype(model)
    compiled = compiled_batches(model, loss_fn, optimizer, engine, dtype) if compile else None

    history = History()
    bar = progress_bar(epochs, enabled=progress)
    model.train()
    try:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n) if rng is not None else np.arange(n)
            total = 0.0
            outputs = []
            for start in range(0, n, batch_size):
                index = order[start : start + batch_size]
                if compiled is not None:
                    loss, out = compiled(X[index], Y[index])
                else:
                    with gc_paused():
                        optimizer.zero_grad()
                        loss, out = step(model, loss_fn, X[index], Y[index], dtype)
                        loss.backward()
                        optimizer.step()
                total += _scalar(loss) * len(index)
                outputs.append(out)
            logs = {"loss": total / n}
            if measured:
                seen_outputs, seen_targets = np.concatenate(outputs), Y[order]
                logs.update({name: float(fn(seen_outputs, seen_targets)) for name, fn in measured})
            history._append(epoch, logs)
            bar.update(epoch, logs)
    finally:
        bar.close()
    return history


def _tensor_batch(model: Any, loss_fn: Callable, x: np.ndarray, y: np.ndarray, dtype: Any) -> tuple[Any, np.ndarray]:
    """One forward pass of a `(batch, features)` Tensor: the loss node and the outputs as an array."""
    out = model(Tensor(x.astype(dtype, copy=False)))
    target = Tensor(y if np.issubdtype(y.dtype, np.integer) else y.astype(dtype, copy=False))
    return loss_fn(out, target), _to_numpy(out)


def _value_batch(model: Any, loss_fn: Callable, x: np.ndarray, y: np.ndarray, dtype: Any) -> tuple[Any, np.ndarray]:
    """One sample at a time through a scalar model; the loss gets the batch as lists of samples."""
    outputs = [_as_list(model([float(v) for v in row])) for row in x]
    targets = [_value_target(target) for target in y]
    return loss_fn(outputs, targets), np.array([[v.data for v in out] for out in outputs])


def step_graph(model: Any, loss_fn: Callable, X: Any, Y: Any) -> Any:
    """One forward and backward pass on `(X, Y)`, with no update: the graph of a training step.

    Returns the loss node, with every gradient filled in, ready for `viz.draw` / `viz.render`:
    backward runs under `keep_graph()`, so the tensor engine keeps the graph it would release.
    """
    X, Y = _check_data(X, Y, "step_graph")
    batch = _value_batch if engine_of(model) == "value" else _tensor_batch
    model.zero_grad()
    loss, _ = batch(model, loss_fn, X, Y, _param_dtype(model))
    with keep_graph():
        loss.backward()
    return loss


# ---------------------------------------------------------------------- inference


def predict(model: Any, X: Any, batch_size: int | None = None) -> np.ndarray:
    """The model's outputs for every row of `X`, as a `(samples, outputs)` NumPy array (no graph is built)."""
    X = _as_array(X, "predict", "X")
    if X.ndim != 2:
        raise ShapeError(f"predict: X must be (samples, features), got shape {X.shape}")
    engine = engine_of(model)
    with no_grad():
        if engine == "value":
            return np.array([[v.data for v in _as_list(model([float(v) for v in row]))] for row in X]).reshape(
                len(X), -1
            )
        dtype = _param_dtype(model)
        size = _batch_size(batch_size, len(X), engine, "predict")
        chunks = [_to_numpy(model(Tensor(X[i : i + size].astype(dtype, copy=False)))) for i in range(0, len(X), size)]
        return np.concatenate(chunks) if chunks else np.zeros((0, 0))


def evaluate(
    model: Any,
    loss_fn: Callable[[Any, Any], Any] | None,
    X: Any,
    Y: Any,
    metrics: Sequence[str | Metric] = ("accuracy",),
    batch_size: int | None = None,
) -> dict[str, float]:
    """The loss (when `loss_fn` is given) and metrics of the model as it is now, with no graph built.

    The loss is `fit`'s: the mean of the batch losses weighted by batch size; `batch_size=None`
    makes the whole data set one batch (on either engine). Pass `fit`'s batch size to get numbers
    comparable with its `History` when the loss sums rather than averages (`reduction="sum"`).
    """
    engine = engine_of(model)
    X, Y = _check_data(X, Y, "evaluate")
    dtype = _param_dtype(model)
    n = len(X)
    size = n if batch_size is None else _batch_size(batch_size, n, engine, "evaluate")
    logs: dict[str, float] = {}
    with no_grad():
        if loss_fn is not None:
            step = _value_batch if engine == "value" else _tensor_batch
            total, chunks = 0.0, []
            for start in range(0, n, size):
                loss, out = step(model, loss_fn, X[start : start + size], Y[start : start + size], dtype)
                total += _scalar(loss) * len(out)
                chunks.append(out)
            logs["loss"] = total / n
            outputs = np.concatenate(chunks)
        else:
            outputs = predict(model, X)
    for name, fn in named_metrics(metrics):
        logs[name] = float(fn(outputs, Y))
    return logs


# ---------------------------------------------------------------------- helpers


def _param_dtype(model: Any) -> Any:
    p = next(iter(model.parameters()), None)
    if p is None:
        raise ArgumentError(f"{type(model).__name__} has no parameters, so there is nothing to train or evaluate")
    return p.data.dtype if isinstance(p, Tensor) else np.float64


def _check_data(X: Any, Y: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    X = _as_array(X, where, "X")
    Y = _as_array(Y, where, "Y")
    if X.ndim != 2:
        raise ShapeError(f"{where}: X must be (samples, features), got shape {X.shape}")
    if len(X) != len(Y):
        raise ShapeError(f"{where}: X has {len(X)} samples but Y has {len(Y)}; they must pair up row by row")
    if len(X) == 0:
        raise ShapeError(f"{where}: X and Y are empty; there is nothing to train on")
    return X, Y


def _as_array(data: Any, where: str, name: str) -> np.ndarray:
    if isinstance(data, Tensor):
        return data.data
    array = np.asarray(data)
    if array.dtype == object:
        raise ArgumentTypeError(f"{where}: {name} must be numbers (a NumPy array, a Tensor or nested lists)")
    return array


def _batch_size(batch_size: int | None, n: int, engine: str, where: str) -> int:
    if batch_size is None:
        return 1 if engine == "value" else n
    if batch_size < 1:
        raise ArgumentError(f"{where}: batch_size must be >= 1 (or None for the engine's default), got {batch_size}")
    return min(int(batch_size), n)


def _as_list(out: Any) -> list[Value]:
    """A scalar model may return one Value (micrograd's MLP does) or a list of them."""
    return [out] if isinstance(out, Value) else list(out)


def _value_target(target: np.ndarray) -> Any:
    """One sample's target for a scalar loss: a list of floats for a row, an int for a class label."""
    if np.ndim(target) == 0:
        return int(target) if np.issubdtype(np.asarray(target).dtype, np.integer) else float(target)
    return [float(t) for t in target]


def _to_numpy(out: Any) -> np.ndarray:
    data = out.data if isinstance(out, Tensor) else np.asarray(out)
    return data.reshape(len(data), -1) if data.ndim != 2 else data


def _scalar(loss: Any) -> float:
    if isinstance(loss, Value):
        return loss.data
    if isinstance(loss, Tensor):
        return float(loss.item())
    return float(loss)
