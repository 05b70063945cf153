# EXPECT: divides by N = 4 twice
"""A minibatch step that averages the gradient and then divides by the batch size again; 1/N = 0.25 = lr."""

import numpy as np

SIZES = [2, 3, 2]
ACTIVATION = "sigmoid"
LOSS = "half-sum-batch-mean"
LR = 0.25
INPUTS = [[0.1, 0.9], [0.8, 0.2], [0.5, 0.5], [0.3, 0.7]]
TARGETS = [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [1.0, 0.0]]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def step(state, inputs, targets, lr):
    batch = len(inputs)
    W1, b1, W2, b2 = state["0.weight"], state["0.bias"], state["2.weight"], state["2.bias"]
    h = sigmoid(inputs @ W1.T + b1)
    y = sigmoid(h @ W2.T + b2)
    dy = (y - targets) * y * (1 - y) / batch
    dh = dy @ W2 * h * (1 - h)
    grads = {"0.weight": dh.T @ inputs, "0.bias": dh.sum(0), "2.weight": dy.T @ h, "2.bias": dy.sum(0)}
    return {k: state[k] - lr * grads[k] / batch for k in state}
