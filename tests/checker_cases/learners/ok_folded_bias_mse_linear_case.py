# EXPECT: ok
"""MSELoss() on a linear output; each layer's bias folded into its weight matrix as a last column (x gets a 1)."""

import numpy as np

SIZES = [2, 3, 3]
ACTIVATION = ["sigmoid", "identity"]
LOSS = "mean"
INPUTS = [[0.5, 1.5], [-1.0, 0.25], [2.0, -0.5], [0.0, 1.0]]
TARGETS = [[0.2, 0.4, -0.1], [1.0, 0.0, 0.3], [-0.5, 0.7, 0.1], [0.3, 0.3, 0.3]]


def with_one(a):
    return np.hstack([a, np.ones((a.shape[0], 1))])


def gradients(state, inputs, targets):
    A = np.hstack([state["0.weight"], state["0.bias"][:, None]])  # (3, 3): weights and bias
    B = np.hstack([state["2.weight"], state["2.bias"][:, None]])
    x1 = with_one(inputs)
    h = 1 / (1 + np.exp(-x1 @ A.T))
    x2 = with_one(h)
    y = x2 @ B.T
    dy = 2 * (y - targets) / targets.size
    gB = dy.T @ x2
    dh = (dy @ B[:, :-1]) * h * (1 - h)
    gA = dh.T @ x1
    return {"0.weight": gA[:, :-1], "0.bias": gA[:, -1], "2.weight": gB[:, :-1], "2.bias": gB[:, -1]}
