"""The learner's model read as plain numbers, for the live page and the recording: layers, weights, gradients.

A model made of dense layers in a chain (`nn.Sequential` of `Linear` and activations, or the article's
`Network` of `Layer`s) is read as a list of `Dense` layers. From it come the picture the page draws
(each weight with its gradient) and the decision boundary: the layers run again in NumPy on a grid of
points, `a = act(x Wᵀ + b)` layer by layer, on either engine, so drawing never builds a graph and never
touches the engine's state. Any other model still gets its boundary, from `predict` (the engine's own
forward pass, with no graph built).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..nn import Identity, Layer, Linear, Network, ReLU, Sigmoid, Tanh
from ..nn.module import ModuleList
from ..tensor import Tensor

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": lambda s: 1.0 / (1.0 + np.exp(-np.clip(s, -500, 500))),
    "relu": lambda s: np.maximum(s, 0.0),
    "tanh": np.tanh,
}
_ACTIVATION_NAMES = {Sigmoid: "sigmoid", ReLU: "relu", Tanh: "tanh"}
GRID = 40  # cells per side of the decision-boundary heat map
DIGITS = 4  # significant digits of the numbers sent to the page


@dataclass
class Dense:
    """One layer `a = act(x Wᵀ + b)`: where its weight and bias live in the model, and its activation."""

    name: str
    weight: Any  # a Tensor (out, in), or rows of Values
    bias: Any  # a Tensor (out,), a list of Values, or None
    activation: str | None

    @property
    def shape(self) -> tuple[int, int]:
        return _array(self.weight, "data").shape


def dense_layers(model: Any) -> list[Dense] | None:
    """The model's chain of dense layers, or None when it is something else (then only its boundary is drawn)."""
    layers: list[Dense] = []
    if not _walk(model, "", layers):
        return None
    return layers or None


def _walk(module: Any, name: str, layers: list[Dense]) -> bool:
    if isinstance(module, Linear):
        layers.append(Dense(name or "linear", module.weight, module.bias, None))
    elif isinstance(module, Layer):
        neurons = list(module.neurons)
        layers.append(Dense(name or "layer", [n.weights for n in neurons], [n.bias for n in neurons], "sigmoid"))
    elif isinstance(module, Network):
        return all(_walk(layer, f"{name}.{k}".lstrip("."), layers) for k, layer in enumerate(module.layers))
    elif isinstance(module, Identity):
        pass
    elif type(module) in _ACTIVATION_NAMES:
        if not layers or layers[-1].activation is not None:
            return False  # an activation before any layer, or two in a row: not a chain this page can draw
        layers[-1].activation = _ACTIVATION_NAMES[type(module)]
    elif isinstance(module, ModuleList):  # Sequential included
        return all(_walk(child, f"{name}.{key}".lstrip("."), layers) for key, child in module.named_children())
    else:
        return False
    return True


def _array(param: Any, field: str) -> np.ndarray:
    """A parameter's `data` or `grad` as a float64 array (a missing gradient reads as zeros)."""
    if param is None:
        return np.zeros(0)
    if isinstance(param, Tensor):
        value = getattr(param, field)
        return np.zeros(param.shape) if value is None else np.asarray(value, dtype=np.float64)
    if isinstance(param, list):
        return np.array([_array(item, field) for item in param], dtype=np.float64)
    value = getattr(param, field)
    return np.float64(0.0 if value is None else value)


def forward_numpy(layers: list[Dense], X: np.ndarray) -> np.ndarray:
    """The model's outputs for the rows of `X`, computed in NumPy from the current weights."""
    a = np.asarray(X, dtype=np.float64)
    for layer in layers:
        a = a @ _array(layer.weight, "data").T
        if layer.bias is not None:
            a = a + _array(layer.bias, "data")
        if layer.activation is not None:
            a = ACTIVATIONS[layer.activation](a)
    return a


# ---------------------------------------------------------------------- what the page receives


def rounded(array: np.ndarray) -> Any:
    """Nested lists of floats with `DIGITS` significant digits: short JSON, and as exact as a picture needs."""
    if not array.size:
        return []
    return np.vectorize(lambda v: float(f"{v:.{DIGITS}g}") if math.isfinite(v) else None, otypes=[object])(
        array
    ).tolist()


def network_frame(layers: list[Dense] | None) -> list[dict[str, Any]] | None:
    """Each layer's weights and gradients (`w`, `gw`: out x in; `b`, `gb`: out) and its activation, as plain lists."""
    if layers is None:
        return None
    frame = []
    for layer in layers:
        frame.append(
            {
                "name": layer.name,
                "act": layer.activation,
                "w": rounded(_array(layer.weight, "data")),
                "gw": rounded(_array(layer.weight, "grad")),
                "b": rounded(_array(layer.bias, "data")),
                "gb": rounded(_array(layer.bias, "grad")),
            }
        )
    return frame


def extent(X: np.ndarray, margin: float = 0.15) -> list[float]:
    """The plot's [xmin, xmax, ymin, ymax]: the data with a margin on each side (clicks outside it are refused)."""
    low, high = X.min(axis=0), X.max(axis=0)
    pad = np.maximum((high - low) * margin, 0.5)
    return [float(low[0] - pad[0]), float(high[0] + pad[0]), float(low[1] - pad[1]), float(high[1] + pad[1])]


def grid_points(box: list[float], n: int = GRID) -> np.ndarray:
    """The centres of an n x n grid over `box`, row by row from the top (the largest y) down, as an image is."""
    xs = box[0] + (np.arange(n) + 0.5) * (box[1] - box[0]) / n
    ys = box[3] - (np.arange(n) + 0.5) * (box[3] - box[2]) / n
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def classify(outputs: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(class, confidence in [0, 1]) per row of outputs: one output is its side of `threshold`
    (0 for a sign, 0.5 for a sigmoid); several, the argmax, confident by how far it leads the runner-up."""
    outputs = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    if outputs.shape[1] == 1:
        distance = np.abs(outputs[:, 0] - threshold)
        steep = 4.0 if threshold == 0.5 else 2.0  # a sigmoid's output is at most 0.5 away from its threshold
        return (outputs[:, 0] > threshold).astype(np.int64), np.tanh(distance * steep)
    top = np.sort(outputs, axis=1)
    if threshold != 0.5:  # raw scores: compare their softmax probabilities
        e = np.exp(outputs - top[:, -1:])
        top = np.sort(e / e.sum(axis=1, keepdims=True), axis=1)
    return outputs.argmax(axis=1), np.clip(top[:, -1] - top[:, -2], 0, 1)


def boundary_frame(outputs: np.ndarray, threshold: float, n_classes: int) -> str:
    """The heat map as base64, one byte per cell: `class * L + round(confidence * (L - 1))`, L = 256 // classes."""
    cls, confidence = classify(outputs, threshold)
    levels = 256 // max(n_classes, 2)
    cells = np.minimum(cls, max(n_classes, 2) - 1) * levels + np.round(confidence * (levels - 1))
    return base64.b64encode(cells.astype(np.uint8).tobytes()).decode("ascii")
