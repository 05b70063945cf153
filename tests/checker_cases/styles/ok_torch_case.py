# EXPECT: ok
"""Torch tensors returned."""

import torch

SIZES = [2, 3, 2]
ACTIVATION = "tanh"
INPUTS = [[0.3, -0.2], [0.9, 0.4]]
TARGETS = [[0.0, 1.0], [1.0, 0.0]]


def gradients(state, x, t):
    W1, b1 = torch.tensor(state["0.weight"]), torch.tensor(state["0.bias"])
    W2, b2 = torch.tensor(state["2.weight"]), torch.tensor(state["2.bias"])
    X, T = torch.tensor(x), torch.tensor(t)
    h = torch.tanh(X @ W1.T + b1)
    o = torch.tanh(h @ W2.T + b2)
    d_o = (o - T) * (1 - o**2)
    d_h = (d_o @ W2) * (1 - h**2)
    return {"0.weight": d_h.T @ X, "0.bias": d_h.sum(0), "2.weight": d_o.T @ h, "2.bias": d_o.sum(0)}
