# EXPECT: each call making one update per minibatch of 2 rows of INPUTS
"""One epoch of minibatch SGD per step() call: batches of 2, an update after each."""
import numpy as np

SIZES = [2, 3, 2]
ACTIVATION = "sigmoid"
LR = 0.5
INPUTS = [[0.1, 0.2], [0.3, -0.4], [0.5, 0.6], [-0.7, 0.8]]
TARGETS = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.2, 0.8]]


def sig(z):
    return 1 / (1 + np.exp(-z))


def step(state, inputs, targets, lr):
    p = {k: v.copy() for k, v in state.items()}
    for i in range(0, len(inputs), 2):
        X, T = inputs[i:i + 2], targets[i:i + 2]
        h = sig(X @ p["0.weight"].T + p["0.bias"])
        y = sig(h @ p["2.weight"].T + p["2.bias"])
        dy = (y - T) * y * (1 - y)
        dh = dy @ p["2.weight"] * h * (1 - h)
        g = {"0.weight": dh.T @ X, "0.bias": dh.sum(0), "2.weight": dy.T @ h, "2.bias": dy.sum(0)}
        for k in p:
            p[k] = p[k] - lr * g[k]
    return p
