"""What `fit` and `evaluate` measure besides the loss: `accuracy`, and metrics given by name.

A metric is a function `(outputs, targets) -> float` on NumPy arrays, so any scikit-learn metric
that takes those works too; "accuracy" (or Keras's "acc") names the one below.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..errors import ArgumentError, ShapeError

Metric = Callable[[np.ndarray, np.ndarray], float]


def accuracy(outputs: Any, targets: Any) -> float:
    """The fraction of samples whose predicted class is the target class.

    The predicted class is the largest output (`argmax`) when there are several outputs. A single
    output is a yes/no score: targets in {-1, +1} (a max-margin score) are predicted by its sign,
    targets in {0, 1} (a probability) by `output > 0.5`. Targets may be class labels `(samples,)`
    or one-hot rows `(samples, classes)`.
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    targets = np.asarray(targets)
    n = len(outputs)
    if len(targets) != n:
        raise ShapeError(f"accuracy: {n} outputs but {len(targets)} targets")
    if n == 0:
        return math.nan
    outputs = outputs.reshape(n, -1)
    if outputs.shape[1] > 1:
        predicted = outputs.argmax(axis=1)
        labels = targets.argmax(axis=1) if targets.ndim == 2 and targets.shape[1] > 1 else targets.reshape(n)
    else:
        labels = targets.reshape(n)
        signed = bool(np.any(labels < 0))  # -1/+1 labels: a score whose sign is the class
        above = outputs[:, 0] > (0.0 if signed else 0.5)
        predicted = np.where(above, 1, -1 if signed else 0)
    return float(np.mean(predicted == labels))


def named_metrics(metrics: Iterable[str | Metric] | None) -> list[tuple[str, Metric]]:
    """(name, function) for each metric: a name ("accuracy", "acc") looked up, a function named after itself."""
    known: dict[str, Metric] = {"accuracy": accuracy, "acc": accuracy}
    named = []
    for metric in metrics or ():
        if isinstance(metric, str):
            if metric not in known:
                raise ArgumentError(f"unknown metric {metric!r}; use 'accuracy' or pass a function (outputs, targets)")
            named.append(("accuracy" if metric == "acc" else metric, known[metric]))
        else:
            named.append((getattr(metric, "__name__", "metric"), metric))
    return named
