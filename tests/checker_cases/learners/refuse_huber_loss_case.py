# EXIT 3: the checker does not model that loss
"""A Huber loss, declared by name: not modelled, so refused in one line."""

import numpy as np

SIZES = [2, 2, 1]
ACTIVATION = ["tanh", "identity"]
LOSS = "huber"
INPUTS = [[0.5, 1.0]]
TARGETS = [[2.0]]


def gradients(state, inputs, targets):
    h = np.tanh(inputs @ state["0.weight"].T + state["0.bias"])
    y = h @ state["2.weight"].T + state["2.bias"]
    r = y - targets
    dy = np.where(np.abs(r) <= 1, r, np.sign(r))
    dh = dy @ state["2.weight"] * (1 - h**2)
    return {"0.weight": dh.T @ inputs, "0.bias": dh.sum(0), "2.weight": dy.T @ h, "2.bias": dy.sum(0)}
