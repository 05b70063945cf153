# EXPECT: is applied twice
"""A two-layer class with tanh everywhere; the output delta multiplies by (1 − y²) twice."""

import numpy as np

SIZES = [2, 3, 2]
ACTIVATION = "tanh"
INPUTS = [[0.6, -0.2], [0.1, 0.4], [-0.3, -0.9]]
TARGETS = [[0.5, 0.0], [-0.5, 0.3], [0.2, -0.2]]


class TwoLayer:
    def __init__(self, params):
        self.params = params

    def grads(self, x, t):
        p = self.params
        h = np.tanh(x @ p["0.weight"].T + p["0.bias"])
        y = np.tanh(h @ p["2.weight"].T + p["2.bias"])
        dy = (y - t) * (1 - y**2)
        dy = dy * (1 - y**2)
        dh = dy @ p["2.weight"] * (1 - h**2)
        return {"0.weight": dh.T @ x, "0.bias": dh.sum(0), "2.weight": dy.T @ h, "2.bias": dy.sum(0)}


def gradients(state, inputs, targets):
    return TwoLayer(state).grads(inputs, targets)
