# EXPECT: transpose
"""(in, out) gradients returned without the transpose."""

import numpy as np

SIZES = [3, 4, 3, 2]
ACTIVATION = "tanh"
INPUTS = [[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]
TARGETS = [[0.2, -0.8], [0.7, 0.1]]


class Network:
    """Weights stored (in, out), as many tutorials do: s = x @ W + b."""

    def __init__(self, state):
        self.keys = sorted({k.split(".")[0] for k in state}, key=int)
        self.W = [np.array(state[k + ".weight"]).T for k in self.keys]
        self.b = [np.array(state[k + ".bias"]) for k in self.keys]
        self.dW = [np.zeros_like(W) for W in self.W]
        self.db = [np.zeros_like(b) for b in self.b]

    def forward(self, X):
        self.a = [X]
        for W, b in zip(self.W, self.b):
            self.a.append(np.tanh(self.a[-1] @ W + b))
        return self.a[-1]

    def backward(self, T):
        delta = (self.a[-1] - T) * (1 - self.a[-1] ** 2)
        for i in reversed(range(len(self.W))):
            self.dW[i] = self.a[i].T @ delta
            self.db[i] = delta.sum(axis=0)
            if i:
                delta = (delta @ self.W[i].T) * (1 - self.a[i] ** 2)





def gradients(state, x, t):
    net = Network(state)
    net.forward(np.atleast_2d(x))
    net.backward(np.atleast_2d(t))
    return {k + ".weight": dW for k, dW in zip(net.keys, net.dW)} | dict(
        (k + ".bias", db) for k, db in zip(net.keys, net.db)
    )
