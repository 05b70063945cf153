# EXPECT: the clipping always rescales the gradient
"""Gradient-norm clipping written without the `if norm > max_norm` test."""

import numpy as np

SIZES = [2, 3, 2]
ACTIVATION = "sigmoid"
LR = 0.5
CLIP = 5.0
INPUTS = [[0.5, 0.5], [1.0, -1.0]]
TARGETS = [[0.9, 0.1], [0.1, 0.9]]


def compute_grads(s, x, t):
    a1 = 1 / (1 + np.exp(-(x @ s["0.weight"].T + s["0.bias"])))
    a2 = 1 / (1 + np.exp(-(a1 @ s["2.weight"].T + s["2.bias"])))
    e2 = (a2 - t) * a2 * (1 - a2)
    e1 = e2 @ s["2.weight"] * a1 * (1 - a1)
    return {"0.weight": e1.T @ x, "0.bias": e1.sum(0), "2.weight": e2.T @ a1, "2.bias": e2.sum(0)}


def step(state, inputs, targets, lr):
    g = compute_grads(state, inputs, targets)
    norm = np.sqrt(sum(np.sum(v**2) for v in g.values()))
    g = {k: v * (CLIP / norm) for k, v in g.items()}
    return {k: state[k] - lr * g[k] for k in state}
