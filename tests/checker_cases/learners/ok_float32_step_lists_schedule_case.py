# EXPECT: rtol 0.0001
"""float32 numpy, a step() that returns Python lists, tanh, a per-step schedule function counted from 0."""
import numpy as np

SIZES = [2, 2, 2]
ACTIVATION = "tanh"
INPUTS = [0.05, 0.10]
TARGETS = [0.01, 0.99]


def LR_SCHEDULE(k):
    return 0.5 / (1 + k)


calls = [0]


def step(state, inputs, targets, lr):
    k = calls[0]
    calls[0] += 1
    rate = np.float32(LR_SCHEDULE(k))
    W1, b1, W2, b2 = (state[n].astype(np.float32) for n in ("0.weight", "0.bias", "2.weight", "2.bias"))
    x, t = inputs.astype(np.float32), targets.astype(np.float32)
    h = np.tanh(W1 @ x + b1)
    o = np.tanh(W2 @ h + b2)
    do = (o - t) * (1 - o * o)
    dh = (W2.T @ do) * (1 - h * h)
    return {
        "0.weight": (W1 - rate * np.outer(dh, x)).tolist(),
        "0.bias": (b1 - rate * dh).tolist(),
        "2.weight": (W2 - rate * np.outer(do, h)).tolist(),
        "2.bias": (b2 - rate * do).tolist(),
    }
