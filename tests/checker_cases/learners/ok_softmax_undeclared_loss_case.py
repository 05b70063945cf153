# EXPECT: the numbers fit loss cross-entropy
"""Softmax with cross-entropy and one-hot targets; the file never says LOSS (the checker must find it)."""

import numpy as np

SIZES = [2, 3, 3]
ACTIVATION = "relu"
INPUTS = [[1.0, 2.0], [0.5, -1.0], [-1.5, 0.5]]
TARGETS = [[1, 0, 0], [0, 0, 1], [0, 1, 0]]


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def gradients(state, inputs, targets):
    s1 = inputs @ state["0.weight"].T + state["0.bias"]
    h = np.maximum(s1, 0)
    probs = softmax(h @ state["2.weight"].T + state["2.bias"])
    d2 = probs - targets
    d1 = (d2 @ state["2.weight"]) * (s1 > 0)
    return {"0.weight": d1.T @ inputs, "0.bias": d1.sum(0), "2.weight": d2.T @ h, "2.bias": d2.sum(0)}
