# EXPECT: in Kingma and Ba's efficient form
"""The efficient form, declared as plain adam: the paper's Adam too, so it passes, said."""

import numpy as np

SIZES = [3, 4, 2]
ACTIVATION = "sigmoid"
INPUTS = [[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [0.2, 0.9, 0.1]]
TARGETS = [[0.2, 0.8], [0.7, 0.1], [0.4, 0.6]]
LR = 0.01
OPTIMIZER = {"name": "adam"}
memory = {"m": {}, "v": {}, "t": 0, "calls": 0, "previous": {}, "sum": {}, "buf": {}}


def gradients(state, x, t):
    X, T = np.atleast_2d(x), np.atleast_2d(t)
    a = [X]
    for k in ("0", "2"):
        a.append(1 / (1 + np.exp(-(a[-1] @ state[k + ".weight"].T + state[k + ".bias"]))))
    delta = (a[-1] - T) * a[-1] * (1 - a[-1])
    g = {}
    for i, k in reversed(list(enumerate(("0", "2")))):
        g[k + ".weight"], g[k + ".bias"] = delta.T @ a[i], delta.sum(axis=0)
        if i:
            delta = (delta @ state[k + ".weight"]) * a[i] * (1 - a[i])
    return g


def step(state, x, t, lr):
    g = gradients(state, x, t)
    memory["calls"] += 1
    b1, b2, eps = 0.9, 0.999, 1e-8
    memory["t"] += 1
    t = memory["t"]
    alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
    new = {}
    for k, w in state.items():
        m = memory["m"][k] = b1 * memory["m"].get(k, 0) + (1 - b1) * g[k]
        v = memory["v"][k] = b2 * memory["v"].get(k, 0) + (1 - b2) * g[k] ** 2
        new[k] = w - alpha * m / (np.sqrt(v) + eps)
    return new
