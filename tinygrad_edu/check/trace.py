"""What autodiff saw at each layer, and which parameter of the model plays which part in it.

`owners(model)` maps every state-dict key to the module that holds it, by walking the model
(`named_modules`, each one's `state_dict`), never by reading the key's spelling. `record(model)`
wraps, for one call, the `forward` of every module that holds parameters (a layer) and of every
activation module (`nn.Sigmoid`, `nn.Tanh`, `nn.ReLU`), at instance level, so it works for any
Module, not only `Sequential`: an activation is paired with the layer whose output it received.
After `backward()`, `layers()` reads the numbers as 2-D arrays (batch, features), one sample being
a batch of one, and gives each layer's parameters their part in s = x Wᵀ + b from their shapes
against the recorded call: W is the (out, in) one, b the (out,) one, whatever their attribute names.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..nn import ReLU, Sigmoid, Tanh
from ..nn.engines import engine_of

ACTIVATIONS = {Sigmoid: "Sigmoid", Tanh: "Tanh", ReLU: "ReLU"}


@dataclass
class LayerTrace:
    """One layer s = x Wᵀ + b: input x, output s (the weighted sum), and the activation a = f(s) after it, if any."""

    prefix: str  # the layer's module name, e.g. "0" or "hidden"
    x: np.ndarray  # (batch, in)
    s: np.ndarray  # (batch, out)
    ds: np.ndarray  # ∂E/∂s = δ
    kind: str | None = None  # "Sigmoid", "Tanh", "ReLU" or None
    a: np.ndarray | None = None
    da: np.ndarray | None = None  # ∂E/∂a
    params: dict[str, str] = field(default_factory=dict)  # "weight"/"bias" -> its state-dict key
    module: str = "Linear"  # the layer's class

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


def owners(model: Any) -> dict[str, tuple[str, str]]:
    """State-dict key -> (the module holding it, its name there): `"0.weight"` -> `("0", "weight")`.

    The deepest module wins: `named_modules` lists a module before the ones inside it. (A module
    may pack what it holds into other keys, as the article's `Layer` packs its neurons' weights.)
    """
    keys = set(model.state_dict())
    found: dict[str, tuple[str, str]] = {}
    for name, module in model.named_modules():
        for key in module.state_dict():
            full = f"{name}.{key}" if name else key
            if full in keys:
                found[full] = (name, key)
    return found


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any, Any]] = []  # (module name, kind, input, output)
        self.classes: dict[str, str] = {}  # module name -> its class name ("Linear"), for the messages


@contextmanager
def record(model: Any) -> Iterator[Recorder]:
    """Wrap every module that holds parameters, and every activation module, for the duration of the block."""
    recorder = Recorder()
    holders = {module for module, _ in owners(model).values()}
    wrapped = []
    for name, module in model.named_modules():
        kind = next((k for t, k in ACTIVATIONS.items() if isinstance(module, t)), "layer" if name in holders else None)
        if kind is None:
            continue

        def forward(x: Any, _m: Any = module, _name: str = name, _kind: str = kind) -> Any:
            out = type(_m).forward(_m, x)
            recorder.calls.append((_name, _kind, x, out))
            return out

        object.__setattr__(module, "forward", forward)
        recorder.classes[name] = type(module).__name__
        wrapped.append(module)
    try:
        yield recorder
    finally:
        for module in wrapped:
            module.__dict__.pop("forward", None)


def layers(recorder: Recorder, owned: Mapping[str, tuple[str, str]], state: Mapping[str, Any]) -> list[LayerTrace]:
    """The layers in call order, each with its weight and bias keys and the activation that consumed its output.

    A module whose parameters are not exactly one (out, in) weight and at most one (out,) bias for
    the call it made is not a layer in this sense, and is left out.
    """
    out: list[LayerTrace] = []
    by_output: dict[int, LayerTrace] = {}
    for name, kind, x, y in recorder.calls:
        if kind == "layer":
            layer = LayerTrace(name, _values(x), _values(y), _grads(y), module=recorder.classes[name])
            layer.params = _parts(name, layer, owned, state)
            if layer.params:
                out.append(layer)
                by_output[id(y)] = layer
        elif id(x) in by_output:
            layer = by_output[id(x)]
            layer.kind, layer.a, layer.da = kind, _values(y), _grads(y)
    return out


def _parts(
    name: str, layer: LayerTrace, owned: Mapping[str, tuple[str, str]], state: Mapping[str, Any]
) -> dict[str, str]:
    """{"weight": key, "bias": key} for the module's own parameters, told apart by shape; {} if they do not fit.

    The call must also have computed s = x Wᵀ + b with them (a module that applies its activation
    itself, like the article's `Layer`, returns f(s) and is not read as a layer).
    """
    n_out, n_in = layer.s.shape[1], layer.x.shape[1]
    own = [key for key, (module, _) in owned.items() if module == name]
    weights = [k for k in own if np.shape(state[k]) == (n_out, n_in)]
    biases = [k for k in own if np.shape(state[k]) == (n_out,) and k not in weights]
    if len(weights) != 1 or len(biases) > 1 or len(weights) + len(biases) != len(own):
        return {}
    s = layer.x @ np.asarray(state[weights[0]], np.float64).T + (np.asarray(state[biases[0]]) if biases else 0.0)
    if not np.allclose(layer.s, s, rtol=1e-2, atol=1e-3 * max(1.0, float(np.max(np.abs(s), initial=0.0)))):
        return {}
    return {"weight": weights[0], **({"bias": biases[0]} if biases else {})}


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
