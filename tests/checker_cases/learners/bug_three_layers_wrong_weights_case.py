# EXPECT: sent back through the weights of layer 0 instead of those of layer 2
"""Three layers: the middle layer's delta is sent back through the first layer's weights instead of the last's."""

import numpy as np

SIZES = [3, 3, 3, 2]
ACTIVATION = "sigmoid"
INPUTS = [[0.2, 0.4, 0.6], [0.9, -0.3, 0.1]]
TARGETS = [[0.3, 0.7], [0.6, 0.2]]


def s(z):
    return 1 / (1 + np.exp(-z))


def gradients(state, inputs, targets):
    W1, W2, W3 = state["0.weight"], state["2.weight"], state["4.weight"]
    a1 = s(inputs @ W1.T + state["0.bias"])
    a2 = s(a1 @ W2.T + state["2.bias"])
    a3 = s(a2 @ W3.T + state["4.bias"])
    d3 = (a3 - targets) * a3 * (1 - a3)
    d2 = (d3 @ W3) * a2 * (1 - a2)
    d1 = (d2 @ W1) * a1 * (1 - a1)
    return {
        "0.weight": d1.T @ inputs,
        "0.bias": d1.sum(0),
        "2.weight": d2.T @ a1,
        "2.bias": d2.sum(0),
        "4.weight": d3.T @ a2,
        "4.bias": d3.sum(0),
    }
