# EXPECT: ok
"""A Layer class in float32 whose gradients come back as Python lists (.tolist())."""

import numpy as np

SIZES = [3, 3, 2]
ACTIVATION = "sigmoid"
INPUTS = [[0.25, -0.5, 1.0], [1.5, 0.5, -0.25]]
TARGETS = [[0.9, 0.1], [0.2, 0.8]]


class Layer:
    def __init__(self, W, b):
        self.W = np.asarray(W, dtype=np.float32)
        self.b = np.asarray(b, dtype=np.float32)

    def forward(self, x):
        self.x = x
        self.out = 1 / (1 + np.exp(-(x @ self.W.T + self.b)))
        return self.out

    def backward(self, grad_out):
        delta = grad_out * self.out * (1 - self.out)
        self.dW = (delta.T @ self.x).tolist()
        self.db = delta.sum(axis=0).tolist()
        return delta @ self.W


def gradients(state, inputs, targets):
    layers = [Layer(state["0.weight"], state["0.bias"]), Layer(state["2.weight"], state["2.bias"])]
    out = np.asarray(inputs, dtype=np.float32)
    for layer in layers:
        out = layer.forward(out)
    grad = out - np.asarray(targets, dtype=np.float32)
    for layer in reversed(layers):
        grad = layer.backward(grad)
    return {"0.weight": layers[0].dW, "0.bias": layers[0].db, "2.weight": layers[1].dW, "2.bias": layers[1].db}
