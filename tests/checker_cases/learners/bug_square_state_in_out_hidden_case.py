# EXPECT: the delta of layer 0 is missing the derivative of its Sigmoid
"""The same (in, out) square STATE, the hidden σ′ forgotten: reported in the reading where the output layer is right."""

import numpy as np

SIZES = [2, 2, 2]
ACTIVATION = "sigmoid"
STATE = {
    "0.weight": np.array([[0.15, 0.25], [0.20, 0.30]]),  # W[i][j]: input i -> hidden j
    "0.bias": np.array([0.35, 0.35]),
    "2.weight": np.array([[0.40, 0.50], [0.45, 0.55]]),
    "2.bias": np.array([0.60, 0.60]),
}
INPUTS = [0.05, 0.10]
TARGETS = [0.01, 0.99]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def gradients(state, x, t):
    h = sigmoid(x @ state["0.weight"] + state["0.bias"])
    o = sigmoid(h @ state["2.weight"] + state["2.bias"])
    d_o = (o - t) * o * (1 - o)
    d_h = state["2.weight"] @ d_o
    return {"0.weight": np.outer(x, d_h), "0.bias": d_h, "2.weight": np.outer(h, d_o), "2.bias": d_o}
