# EXPECT: ok
"""Exponential decay kept by the file itself with an epoch counter that starts at 1, declared as a function of k."""

import numpy as np

SIZES = [3, 2, 2]
ACTIVATION = "sigmoid"
INPUTS = [[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]]
TARGETS = [[1.0, 0.0], [0.0, 1.0]]


def LR_SCHEDULE(k):  # noqa: N802 (the checker's setting name)
    return 0.8 * 0.5**k


epoch = 0


def grads_of(p, X, T):
    a1 = 1 / (1 + np.exp(-(X @ p["0.weight"].T + p["0.bias"])))
    a2 = 1 / (1 + np.exp(-(a1 @ p["2.weight"].T + p["2.bias"])))
    d2 = (a2 - T) * a2 * (1 - a2)
    d1 = (d2 @ p["2.weight"]) * a1 * (1 - a1)
    return {"0.weight": d1.T @ X, "0.bias": d1.sum(0), "2.weight": d2.T @ a1, "2.bias": d2.sum(0)}


def step(state, inputs, targets, lr):
    global epoch
    epoch += 1
    rate = 0.8 * 0.5 ** (epoch - 1)  # epoch 1 uses the initial rate
    g = grads_of(state, inputs, targets)
    return {k: state[k] - rate * g[k] for k in state}
