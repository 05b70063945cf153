# EXPECT: ok
"""NumPy float32 throughout, three layers, the gradients built inside the return statement."""

import numpy as np

SIZES = [4, 6, 5, 3]
ACTIVATION = "sigmoid"
INPUTS = [[0.1, 0.2, -0.3, 0.4], [0.5, -0.6, 0.7, 0.0], [-0.2, 0.3, 0.1, -0.8]]
TARGETS = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]

f32 = np.float32


def act(z):
    return f32(1) / (f32(1) + np.exp(-z))


def gradients(state, inputs, targets):
    W = [state[f"{i}.weight"].astype(f32) for i in (0, 2, 4)]
    b = [state[f"{i}.bias"].astype(f32) for i in (0, 2, 4)]
    x = inputs.astype(f32)
    y = targets.astype(f32)
    a1 = act(x @ W[0].T + b[0])
    a2 = act(a1 @ W[1].T + b[1])
    a3 = act(a2 @ W[2].T + b[2])
    e3 = (a3 - y) * a3 * (1 - a3)
    e2 = (e3 @ W[2]) * a2 * (1 - a2)
    e1 = (e2 @ W[1]) * a1 * (1 - a1)
    return {
        "0.weight": e1.T @ x,
        "0.bias": e1.sum(0),
        "2.weight": e2.T @ a1,
        "2.bias": e2.sum(0),
        "4.weight": e3.T @ a2,
        "4.bias": e3.sum(0),
    }
