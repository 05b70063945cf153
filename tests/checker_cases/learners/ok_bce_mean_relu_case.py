# EXPECT: ok
"""BCELoss() (the mean over every output and sample) on a sigmoid output, ReLU hidden layer, two outputs."""

import numpy as np

SIZES = [3, 4, 2]
ACTIVATION = ["relu", "sigmoid"]
LOSS = "bce-mean"
INPUTS = [[0.4, -0.3, 0.9], [1.2, 0.8, -0.4], [-0.6, 0.5, 0.1]]
TARGETS = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]


def gradients(state, inputs, targets):
    N, K = targets.shape
    z1 = inputs @ state["0.weight"].T + state["0.bias"]
    a1 = np.where(z1 > 0, z1, 0.0)
    p = 1.0 / (1.0 + np.exp(-(a1 @ state["2.weight"].T + state["2.bias"])))
    dz2 = (p - targets) / (N * K)
    dz1 = (dz2 @ state["2.weight"]) * np.where(z1 > 0, 1.0, 0.0)
    return dict(zip(["0.weight", "0.bias", "2.weight", "2.bias"], [dz1.T @ inputs, dz1.sum(0), dz2.T @ a1, dz2.sum(0)]))
