"""What autodiff saw at each layer: a Linear's input and output, the activation after it, and their gradients.

`record(model)` wraps the `forward` of every `Linear` and every known activation (Sigmoid, Tanh,
ReLU) for one call, at instance level, so it works for any Module, not only `Sequential`: an
activation is paired with the Linear whose output it received. After `backward()`, `layers()`
reads the numbers as 2-D arrays (batch, features); one sample is a batch of one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..nn.engines import engine_of

ACTIVATIONS = ("Sigmoid", "Tanh", "ReLU")


@dataclass
class LayerTrace:
    """One Linear layer: input x, output s (the weighted sum), and the activation a = f(s) after it, if any."""

    prefix: str  # the Linear's module name, e.g. "0" (its parameters are "0.weight", "0.bias")
    x: np.ndarray  # (batch, in)
    s: np.ndarray  # (batch, out)
    ds: np.ndarray  # ∂E/∂s = δ
    kind: str | None = None  # "Sigmoid", "Tanh", "ReLU" or None
    a: np.ndarray | None = None
    da: np.ndarray | None = None  # ∂E/∂a

    def derivative(self, kind: str | None = None, of: str = "a") -> np.ndarray | None:
        """f'(s) from the activation's output a: a(1 − a), 1 − a², [a > 0]; `of="s"` plugs in s instead (a bug)."""
        kind = kind or self.kind
        v = self.a if of == "a" else self.s
        if v is None or kind is None:
            return None
        if kind == "Sigmoid":
            return v * (1.0 - v)
        if kind == "Tanh":
            return 1.0 - v * v
        return (v > 0).astype(np.float64)


FORMULA = {"Sigmoid": "a(1 − a)", "Tanh": "1 − a²", "ReLU": "1 where a > 0, else 0"}


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any, Any]] = []  # (module name, kind, input, output)


@contextmanager
def record(model: Any) -> Iterator[Recorder]:
    """Wrap every Linear and known activation of `model` for the duration of the block."""
    recorder = Recorder()
    wrapped = []
    for name, module in model.named_modules():
        kind = type(module).__name__
        if kind not in ("Linear", *ACTIVATIONS):
            continue

        def forward(x: Any, _m: Any = module, _name: str = name, _kind: str = kind) -> Any:
            out = type(_m).forward(_m, x)
            recorder.calls.append((_name, _kind, x, out))
            return out

        object.__setattr__(module, "forward", forward)
        wrapped.append(module)
    try:
        yield recorder
    finally:
        for module in wrapped:
            module.__dict__.pop("forward", None)


def layers(recorder: Recorder) -> list[LayerTrace]:
    """The Linear layers in call order, each with the activation that consumed its output."""
    out: list[LayerTrace] = []
    by_output: dict[int, LayerTrace] = {}
    for name, kind, x, y in recorder.calls:
        if kind == "Linear":
            layer = LayerTrace(name, _values(x), _values(y), _grads(y))
            out.append(layer)
            by_output[id(y)] = layer
        elif id(x) in by_output:
            layer = by_output[id(x)]
            layer.kind, layer.a, layer.da = kind, _values(y), _grads(y)
    return out


def _values(x: Any) -> np.ndarray:
    return _as2d(_walk(x, "data"))


def _grads(x: Any) -> np.ndarray:
    return _as2d(_walk(x, "grad"))


def _walk(x: Any, attr: str) -> np.ndarray:
    if engine_of(x, None) == "tensor":
        v = getattr(x, attr)
        return np.zeros(x.data.shape) if v is None else np.array(v, dtype=np.float64)
    if isinstance(x, (list, tuple)):
        return np.array([_walk(v, attr) for v in x], dtype=np.float64)
    if hasattr(x, attr):  # a Value
        v = getattr(x, attr)
        return np.array(0.0 if v is None else v, dtype=np.float64)
    return np.array(x, dtype=np.float64)  # a raw input (list or array of numbers)


def _as2d(a: np.ndarray) -> np.ndarray:
    return a.reshape(1, -1) if a.ndim <= 1 else a.reshape(a.shape[0], -1)
