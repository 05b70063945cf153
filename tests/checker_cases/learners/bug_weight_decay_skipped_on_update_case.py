# EXPECT: weight decay
"""OPTIMIZER asks for weight decay; the step applies plain SGD."""

import numpy as np

SIZES = [2, 3, 2]
ACTIVATION = ["relu", "identity"]
LR = 0.1
OPTIMIZER = {"name": "sgd", "weight_decay": 0.05}
INPUTS = [[1.0, 0.5], [0.2, 0.8]]
TARGETS = [[0.4, -0.2], [0.1, 0.3]]


def step(state, inputs, targets, lr):
    z = inputs @ state["0.weight"].T + state["0.bias"]
    h = np.maximum(z, 0)
    y = h @ state["2.weight"].T + state["2.bias"]
    dy = y - targets
    dh = dy @ state["2.weight"] * (z > 0)
    g = {"0.weight": dh.T @ inputs, "0.bias": dh.sum(0), "2.weight": dy.T @ h, "2.bias": dy.sum(0)}
    return {k: state[k] - lr * g[k] for k in state}
