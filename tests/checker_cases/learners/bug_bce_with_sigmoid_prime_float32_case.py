# EXPECT: σ′ cancels against the loss's derivative
"""Binary cross-entropy on a sigmoid output in float32, with σ′ multiplied in although it cancels."""

import numpy as np

SIZES = [2, 3, 1]
ACTIVATION = "sigmoid"
LOSS = "bce"
INPUTS = [[0.5, 1.0], [1.0, -0.5], [-0.25, 0.75]]
TARGETS = [[1.0], [0.0], [1.0]]


def gradients(state, inputs, targets):
    p = {k: v.astype(np.float32) for k, v in state.items()}
    x, y = inputs.astype(np.float32), targets.astype(np.float32)
    h = 1 / (1 + np.exp(-(x @ p["0.weight"].T + p["0.bias"])))
    q = 1 / (1 + np.exp(-(h @ p["2.weight"].T + p["2.bias"])))
    dq = (q - y) * q * (1 - q)
    dh = dq @ p["2.weight"] * h * (1 - h)
    return {"0.weight": dh.T @ x, "0.bias": dh.sum(0), "2.weight": dq.T @ h, "2.bias": dq.sum(0)}
