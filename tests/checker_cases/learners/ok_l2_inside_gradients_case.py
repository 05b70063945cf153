# EXPECT: your gradients() includes weight decay's 0.02·w
"""Weight decay written into gradients() as the gradient of an L2 penalty; step() is plain SGD on that gradient."""

import numpy as np

SIZES = [2, 3, 2]
ACTIVATION = "tanh"
LR = 0.2
OPTIMIZER = {"name": "sgd", "weight_decay": 0.02}
INPUTS = [[0.3, -0.6], [0.8, 0.4]]
TARGETS = [[0.1, -0.2], [0.5, 0.3]]
L2 = 0.02


def gradients(state, inputs, targets):
    h = np.tanh(inputs @ state["0.weight"].T + state["0.bias"])
    y = np.tanh(h @ state["2.weight"].T + state["2.bias"])
    dy = (y - targets) * (1 - y**2)
    dh = dy @ state["2.weight"] * (1 - h**2)
    grads = {"0.weight": dh.T @ inputs, "0.bias": dh.sum(0), "2.weight": dy.T @ h, "2.bias": dy.sum(0)}
    return {name: g + L2 * state[name] for name, g in grads.items()}


def step(state, inputs, targets, lr):
    g = gradients(state, inputs, targets)
    return {name: state[name] - lr * g[name] for name in state}
