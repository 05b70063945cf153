# EXPECT: missing the derivative
"""Binary cross-entropy (never declared) on a sigmoid output; the hidden layer's tanh′ is forgotten."""

import numpy as np

SIZES = [2, 3, 1]
ACTIVATION = ["tanh", "sigmoid"]
INPUTS = [[0.5, -0.5], [1.0, 1.0], [-1.0, 0.25]]
TARGETS = [[1.0], [0.0], [1.0]]


def gradients(state, inputs, targets):
    h = np.tanh(inputs @ state["0.weight"].T + state["0.bias"])
    p = 1 / (1 + np.exp(-(h @ state["2.weight"].T + state["2.bias"])))
    dz = p - targets
    dh = dz @ state["2.weight"]
    return {"0.weight": dh.T @ inputs, "0.bias": dh.sum(0), "2.weight": dz.T @ h, "2.bias": dz.sum(0)}
