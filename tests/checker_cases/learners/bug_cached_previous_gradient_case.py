# EXPECT: a stale gradient
"""A trainer object that hands back the gradient it stored on the previous call, then computes the new one."""

import numpy as np

SIZES = [3, 2, 2]
ACTIVATION = "tanh"
INPUTS = [[0.2, 0.4, -0.6], [1.0, -1.0, 0.5]]
TARGETS = [[0.5, -0.5], [0.1, 0.2]]


class Trainer:
    def __init__(self):
        self.last = None

    def compute(self, p, X, T):
        h = np.tanh(X @ p["0.weight"].T + p["0.bias"])
        o = np.tanh(h @ p["2.weight"].T + p["2.bias"])
        d_o = (o - T) * (1 - o**2)
        d_h = d_o @ p["2.weight"] * (1 - h**2)
        return {"0.weight": d_h.T @ X, "0.bias": d_h.sum(0), "2.weight": d_o.T @ h, "2.bias": d_o.sum(0)}


trainer = Trainer()


def gradients(state, inputs, targets):
    result = trainer.last if trainer.last is not None else {k: np.zeros_like(v) for k, v in state.items()}
    trainer.last = trainer.compute(state, inputs, targets)
    return result
