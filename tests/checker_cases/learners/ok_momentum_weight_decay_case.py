# EXPECT: ok
"""SGD with momentum and L2 weight decay added to the gradient, as optim.SGD does; velocity in a dict."""

import numpy as np

SIZES = [2, 4, 1]
ACTIVATION = ["tanh", "sigmoid"]
LOSS = "bce"
INPUTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
TARGETS = [[0.0], [1.0], [1.0], [0.0]]
LR = 0.3
OPTIMIZER = {"name": "sgd", "momentum": 0.9, "weight_decay": 0.001}

velocity = {}


def gradient(params, X, Y):
    h = np.tanh(X @ params["0.weight"].T + params["0.bias"])
    p = 1 / (1 + np.exp(-(h @ params["2.weight"].T + params["2.bias"])))
    dz = p - Y  # BCE and sigmoid together
    dh = dz @ params["2.weight"] * (1 - h**2)
    return {"0.weight": dh.T @ X, "0.bias": dh.sum(0), "2.weight": dz.T @ h, "2.bias": dz.sum(0)}


def step(state, inputs, targets, lr):
    grads = gradient(state, inputs, targets)
    new_state = {}
    for name, w in state.items():
        g = grads[name] + 0.001 * w
        velocity[name] = 0.9 * velocity[name] + g if name in velocity else g
        new_state[name] = w - lr * velocity[name]
    return new_state
