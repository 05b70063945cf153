# EXPECT: an off-by-one minibatch slice
"""Minibatch SGD inside step(), each slice written X[i:i + B - 1]: the last row of every minibatch is lost."""

import numpy as np

SIZES = [2, 3, 2]
ACTIVATION = "sigmoid"
LOSS = "half-sum"
LR = 0.5
INPUTS = [[0.1, 0.2], [0.3, -0.4], [0.5, 0.6], [-0.7, 0.8], [0.2, 0.1], [0.9, -0.3]]
TARGETS = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.2, 0.8], [0.3, 0.3], [0.6, 0.1]]


def sig(z):
    return 1 / (1 + np.exp(-z))


def step(state, inputs, targets, lr):
    p = {k: v.copy() for k, v in state.items()}
    B = 3
    for i in range(0, len(inputs), B):
        X, T = inputs[i:i + B - 1], targets[i:i + B - 1]
        h = sig(X @ p["0.weight"].T + p["0.bias"])
        y = sig(h @ p["2.weight"].T + p["2.bias"])
        dy = (y - T) * y * (1 - y)
        dh = dy @ p["2.weight"] * h * (1 - h)
        g = {"0.weight": dh.T @ X, "0.bias": dh.sum(0), "2.weight": dy.T @ h, "2.bias": dy.sum(0)}
        for k in p:
            p[k] = p[k] - lr * g[k]
    return p
