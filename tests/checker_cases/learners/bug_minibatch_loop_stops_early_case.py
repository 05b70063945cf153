# EXPECT: left out of the gradient
"""Minibatches of 2 over 6 samples, but the loop's range stops one sample short."""

import numpy as np

SIZES = [2, 3, 2]
ACTIVATION = "tanh"
INPUTS = [[0.1, 0.2], [0.3, -0.4], [0.5, 0.6], [-0.7, 0.8], [0.9, -0.1], [0.2, 0.2]]
TARGETS = [[0.0, 0.1], [0.2, 0.3], [-0.4, 0.5], [0.6, -0.7], [0.1, 0.0], [0.3, 0.3]]
BATCH = 2


def gradients(state, inputs, targets):
    total = {k: np.zeros_like(v) for k, v in state.items()}
    for start in range(0, len(inputs) - 1, BATCH):
        X = inputs[start : start + BATCH - 1]
        T = targets[start : start + BATCH - 1]
        h = np.tanh(X @ state["0.weight"].T + state["0.bias"])
        y = np.tanh(h @ state["2.weight"].T + state["2.bias"])
        dy = (y - T) * (1 - y**2)
        dh = dy @ state["2.weight"] * (1 - h**2)
        total["0.weight"] += dh.T @ X
        total["0.bias"] += dh.sum(0)
        total["2.weight"] += dy.T @ h
        total["2.bias"] += dy.sum(0)
    return total
