# EXPECT: left out of the gradient
"""An off-by-one minibatch slice drops a sample of each batch."""

import numpy as np

SIZES = [2, 3, 2]
ACTIVATION = "sigmoid"
INPUTS = [[0.3, -0.2], [0.9, 0.4], [-0.5, 0.8], [0.1, 0.1]]
TARGETS = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
BATCH = 2


def one_batch(state, X, T):
    h = 1 / (1 + np.exp(-(X @ state["0.weight"].T + state["0.bias"])))
    o = 1 / (1 + np.exp(-(h @ state["2.weight"].T + state["2.bias"])))
    d_o = (o - T) * o * (1 - o)
    d_h = (d_o @ state["2.weight"]) * h * (1 - h)
    return {"0.weight": d_h.T @ X, "0.bias": d_h.sum(0), "2.weight": d_o.T @ h, "2.bias": d_o.sum(0)}


def gradients(state, x, t):
    total = {k: np.zeros_like(v) for k, v in state.items()}
    for start in range(0, len(x), BATCH):
        part = one_batch(state, x[start:start + BATCH - 1], t[start:start + BATCH - 1])
        for k in total:
            total[k] += part[k]
    return total
