# EXPECT: the bias gradient is averaged over the batch (divided by N = 4) where the weights' is summed
"""Weights' gradients summed over the batch, the biases' averaged with np.mean."""

import numpy as np

SIZES = [3, 2, 2]
ACTIVATION = "tanh"
INPUTS = [[0.2, -0.1, 0.4], [0.7, 0.3, -0.2], [-0.5, 0.6, 0.1], [0.0, 0.9, -0.8]]
TARGETS = [[0.3, -0.3], [0.1, 0.5], [-0.2, 0.0], [0.4, 0.4]]


def gradients(state, inputs, targets):
    hidden = np.tanh(inputs @ state["0.weight"].T + state["0.bias"])
    output = np.tanh(hidden @ state["2.weight"].T + state["2.bias"])
    err_out = (output - targets) * (1 - output**2)
    err_hid = (err_out @ state["2.weight"]) * (1 - hidden**2)
    return {
        "0.weight": err_hid.T @ inputs,
        "0.bias": np.mean(err_hid, axis=0),
        "2.weight": err_out.T @ hidden,
        "2.bias": np.mean(err_out, axis=0),
    }
