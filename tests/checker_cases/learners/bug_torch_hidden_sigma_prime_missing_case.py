# EXPECT: missing the derivative
"""Torch tensors, manual backprop, the hidden layer's σ′ forgotten."""

import torch

SIZES = [3, 4, 2]
ACTIVATION = "sigmoid"
INPUTS = [[0.1, 0.5, -0.3], [0.8, -0.2, 0.4]]
TARGETS = [[0.0, 1.0], [1.0, 0.0]]


def gradients(state, inputs, targets):
    W1, b1 = torch.from_numpy(state["0.weight"]), torch.from_numpy(state["0.bias"])
    W2, b2 = torch.from_numpy(state["2.weight"]), torch.from_numpy(state["2.bias"])
    X, Y = torch.from_numpy(inputs), torch.from_numpy(targets)
    A1 = torch.sigmoid(X @ W1.T + b1)
    A2 = torch.sigmoid(A1 @ W2.T + b2)
    D2 = (A2 - Y) * A2 * (1 - A2)
    D1 = D2 @ W2
    return {"0.weight": D1.T @ X, "0.bias": D1.sum(0), "2.weight": D2.T @ A1, "2.bias": D2.sum(0)}
