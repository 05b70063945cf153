# EXIT 3: not declared, and under none of the
"""A softplus hidden layer and a linear output, with neither ACTIVATION nor LOSS declared."""

import numpy as np

SIZES = [2, 3, 2]
INPUTS = [[0.5, -1.0], [1.0, 0.5]]
TARGETS = [[0.3, 0.6], [0.1, 0.9]]


def gradients(state, inputs, targets):
    s = inputs @ state["0.weight"].T + state["0.bias"]
    h = np.log1p(np.exp(s))
    y = h @ state["2.weight"].T + state["2.bias"]
    dy = y - targets
    dh = dy @ state["2.weight"] * (1 / (1 + np.exp(-s)))
    return {"0.weight": dh.T @ inputs, "0.bias": dh.sum(0), "2.weight": dy.T @ h, "2.bias": dy.sum(0)}
