# EXPECT: ok
"""STATE written the way the tutorial stores it: W1 is (inputs, hidden), W2 is (hidden, outputs)."""

import numpy as np

SIZES = [2, 3, 1]
ACTIVATION = "sigmoid"
STATE = {
    "0.weight": np.array([[0.15, -0.25, 0.35], [0.45, 0.05, -0.3]]),
    "0.bias": np.array([0.1, -0.1, 0.2]),
    "2.weight": np.array([[0.4], [-0.6], [0.25]]),
    "2.bias": np.array([0.05]),
}
INPUTS = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
TARGETS = [[1.0], [1.0], [0.0], [0.0]]


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def gradients(state, inputs, targets):
    W1, b1, W2, b2 = state["0.weight"], state["0.bias"], state["2.weight"], state["2.bias"]
    hidden = sig(inputs @ W1 + b1)
    out = sig(hidden @ W2 + b2)
    d_out = (out - targets) * out * (1 - out)
    d_hidden = d_out @ W2.T * hidden * (1 - hidden)
    return {
        "0.weight": inputs.T @ d_hidden,
        "0.bias": d_hidden.sum(axis=0),
        "2.weight": hidden.T @ d_out,
        "2.bias": d_out.sum(axis=0),
    }
