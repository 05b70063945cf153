"""The textbook delta rule, written by hand: a correct manual backprop to check autodiff against.

For a stack of layers `s = a_prev Wᵀ + b, a = σ(s)` (weight `(out, in)`, as in PyTorch) and the
article's error `E = ½ Σ (target − a_L)²`:

    δ_L = (a_L − target) · a_L (1 − a_L)                  output layer
    δ_l = (δ_{l+1} W_{l+1}) · a_l (1 − a_l)                 every layer below it
    ∂E/∂W_l = δ_lᵀ a_{l−1},   ∂E/∂b_l = Σ_batch δ_l          (a_0 = the input)

This is the article's section I generalised to any depth and to a batch (rows of `x`), in NumPy
float64. It shares no code with the autograd engines, so agreement is evidence, not a tautology.
State dicts use `nn.Sequential(Linear, Sigmoid, Linear, Sigmoid, ...)` names: `0.weight`, `0.bias`,
`2.weight`, ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ShapeError

Layer = tuple[np.ndarray, np.ndarray]  # (weight (out, in), bias (out,))


@dataclass
class Backprop:
    """Everything the delta rule computes, per layer (index 0 = first hidden layer).

    `s`, `a`, `delta`: arrays of shape (batch, out) (or (out,) for one example);
    `grads`: (∂E/∂W, ∂E/∂b) per layer; `loss`: E.
    """

    s: list[np.ndarray]
    a: list[np.ndarray]
    delta: list[np.ndarray]
    grads: list[Layer]
    loss: float


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^-x), without overflow for large negative x."""
    return np.exp(-np.logaddexp(0.0, -x))


def backprop(layers: Sequence[Layer], x: np.ndarray, target: np.ndarray) -> Backprop:
    """Forward and backward pass of the delta rule for sigmoid layers and E = ½ Σ (target − a_L)²."""
    a_prev = np.asarray(x, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    one = a_prev.ndim == 1
    if one:
        a_prev, target = a_prev[None, :], target[None, :]
    layers = [(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)) for w, b in layers]
    _check_shapes(layers, a_prev.shape[1], target.shape[1])
    inputs, s_list, a_list = [], [], []
    for w, b in layers:  # forward: keep each layer's input, weighted sum and activation
        inputs.append(a_prev)
        s = a_prev @ w.T + b
        a_prev = sigmoid(s)
        s_list.append(s)
        a_list.append(a_prev)
    out = a_list[-1]
    loss = 0.5 * float(np.sum((target - out) ** 2))
    deltas: list[np.ndarray] = [np.empty(0)] * len(layers)
    grads: list[Layer] = [(np.empty(0), np.empty(0))] * len(layers)
    delta = (out - target) * out * (1.0 - out)  # δ_L = ∂E/∂a_L · σ'(s_L)
    for k in reversed(range(len(layers))):
        deltas[k] = delta
        grads[k] = (delta.T @ inputs[k], delta.sum(axis=0))
        if k:  # send δ back through W_k, then through the sigmoid below it
            a = a_list[k - 1]
            delta = (delta @ layers[k][0]) * a * (1.0 - a)
    if one:
        s_list, a_list, deltas = [v[0] for v in s_list], [v[0] for v in a_list], [v[0] for v in deltas]
    return Backprop(s_list, a_list, deltas, grads, loss)


def layers_from_state(state: Mapping[str, np.ndarray]) -> list[Layer]:
    """The (weight, bias) pairs of a Sequential state dict, input layer first (`0.weight`, `2.weight`, ...)."""
    prefixes = sorted({key.rsplit(".", 1)[0] for key in state if key.endswith(".weight")}, key=_prefix_order)
    missing = [f"{p}.bias" for p in prefixes if f"{p}.bias" not in state]
    if not prefixes or missing:
        raise ShapeError(
            f"reference: expected `<k>.weight` and `<k>.bias` for each Linear layer, got keys {sorted(state)}; "
            "the delta rule needs a bias for every layer (build Linear with bias=True)"
        )
    return [(np.asarray(state[f"{p}.weight"]), np.asarray(state[f"{p}.bias"])) for p in prefixes]


def gradients(state: Mapping[str, np.ndarray], inputs: np.ndarray, targets: np.ndarray) -> dict[str, np.ndarray]:
    """∂E/∂(each parameter) by the delta rule, keyed like `state` — a ready `manual` for `compare_gradients`."""
    prefixes = sorted({key.rsplit(".", 1)[0] for key in state if key.endswith(".weight")}, key=_prefix_order)
    result = backprop(layers_from_state(state), inputs, targets)
    out: dict[str, np.ndarray] = {}
    for prefix, (dw, db) in zip(prefixes, result.grads):
        out[f"{prefix}.weight"], out[f"{prefix}.bias"] = dw, db
    return out


def _prefix_order(prefix: str) -> tuple[int, str]:
    head = prefix.split(".")[-1]
    return (int(head), prefix) if head.isdigit() else (0, prefix)


def _check_shapes(layers: list[Layer], n_in: int, n_out: int) -> None:
    width = n_in
    for k, (w, b) in enumerate(layers):
        if w.ndim != 2 or w.shape[1] != width or b.shape != (w.shape[0],):
            raise ShapeError(
                f"reference: layer {k} has weight {w.shape} and bias {b.shape} but receives {width} inputs; "
                f"expected weight ({w.shape[0] if w.ndim == 2 else '?'}, {width}) (out, in) and bias (out,)"
            )
        width = w.shape[0]
    if width != n_out:
        raise ShapeError(f"reference: the last layer has {width} outputs but the target has {n_out} values")
