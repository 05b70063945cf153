# EXPECT: ok
"""An OO network: Layer objects, forward/backward methods, update in place; weights (in, out); 3 layers, relu."""
import numpy as np

SIZES = [3, 4, 4, 2]
ACTIVATION = ["relu", "relu", "identity"]
LOSS = "mean"
LR = 0.05
INPUTS = [[0.5, -0.2, 0.1], [0.3, 0.8, -0.5], [-0.1, 0.4, 0.9]]
TARGETS = [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]


class Dense:
    def __init__(self, W, b, relu):
        self.W, self.b, self.relu = W.T.copy(), b.copy(), relu

    def forward(self, x):
        self.x = x
        self.z = x @ self.W + self.b
        return np.maximum(self.z, 0) if self.relu else self.z

    def backward(self, g):
        if self.relu:
            g = g * (self.z > 0)
        self.dW = self.x.T @ g
        self.db = g.sum(axis=0)
        return g @ self.W.T

    def update(self, lr):
        self.W -= lr * self.dW
        self.b -= lr * self.db


def step(state, inputs, targets, lr):
    layers = [Dense(state[f"{i}.weight"], state[f"{i}.bias"], i < 4) for i in (0, 2, 4)]
    out = inputs
    for layer in layers:
        out = layer.forward(out)
    g = 2 * (out - targets) / out.size
    for layer in reversed(layers):
        g = layer.backward(g)
    for layer in layers:
        layer.update(lr)
    return {f"{i}.weight": L.W.T for i, L in zip((0, 2, 4), layers)} | {f"{i}.bias": L.b for i, L in zip((0, 2, 4), layers)}
