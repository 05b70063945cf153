# EXPECT: inside the square root
"""Hand-written Adam in a class, with ε added under the square root."""

import numpy as np

SIZES = [2, 3, 1]
ACTIVATION = "sigmoid"
INPUTS = [[0.0, 1.0], [1.0, 1.0], [0.5, 0.2]]
TARGETS = [[1.0], [0.0], [0.5]]
LR = 0.01
OPTIMIZER = {"name": "adam", "eps": 1e-3}


class Adam:
    def __init__(self, lr, b1=0.9, b2=0.999, eps=1e-3):
        self.lr, self.b1, self.b2, self.eps = lr, b1, b2, eps
        self.state = {}
        self.k = 0

    def apply(self, params, grads):
        self.k += 1
        new = {}
        for name, g in grads.items():
            m, v = self.state.get(name, (0.0, 0.0))
            m = self.b1 * m + (1 - self.b1) * g
            v = self.b2 * v + (1 - self.b2) * g**2
            self.state[name] = (m, v)
            m_hat = m / (1 - self.b1**self.k)
            v_hat = v / (1 - self.b2**self.k)
            new[name] = params[name] - self.lr * m_hat / np.sqrt(v_hat + self.eps)
        return new


optimizer = Adam(0.01)


def grads(p, X, T):
    a1 = 1 / (1 + np.exp(-(X @ p["0.weight"].T + p["0.bias"])))
    a2 = 1 / (1 + np.exp(-(a1 @ p["2.weight"].T + p["2.bias"])))
    d2 = (a2 - T) * a2 * (1 - a2)
    d1 = d2 @ p["2.weight"] * a1 * (1 - a1)
    return {"0.weight": d1.T @ X, "0.bias": d1.sum(0), "2.weight": d2.T @ a1, "2.bias": d2.sum(0)}


def step(state, inputs, targets, lr):
    optimizer.lr = lr
    return optimizer.apply(state, grads(state, inputs, targets))
