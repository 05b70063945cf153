# EXPECT: your code differentiates the mean of (output − target)² over every output and sample
"""The article's ½ Σ declared, but the code divides the output error by the 3 outputs (a mean), no update anywhere."""

import numpy as np

SIZES = [2, 4, 3]
ACTIVATION = "sigmoid"
LOSS = "half-sum"
INPUTS = [[0.35, 0.9], [-0.4, 0.1]]
TARGETS = [[0.1, 0.5, 0.9], [0.8, 0.2, 0.4]]


def gradients(state, inputs, targets):
    n_out = targets.shape[1]
    a1 = 1 / (1 + np.exp(-(inputs @ state["0.weight"].T + state["0.bias"])))
    a2 = 1 / (1 + np.exp(-(a1 @ state["2.weight"].T + state["2.bias"])))
    delta2 = (a2 - targets) / n_out * a2 * (1 - a2)
    delta1 = delta2 @ state["2.weight"] * a1 * (1 - a1)
    return {"0.weight": delta1.T @ inputs, "0.bias": delta1.sum(0), "2.weight": delta2.T @ a1, "2.bias": delta2.sum(0)}
