# EXPECT: ok
"""A plain SGD step on a state kept (in, out): the new weights come back in the same layout."""

import numpy as np

SIZES = [3, 2, 1]
ACTIVATION = ["tanh", "identity"]
LR = 0.1
STATE = {
    "0.weight": np.array([[0.2, -0.3], [0.4, 0.1], [-0.5, 0.25]]),
    "0.bias": np.array([0.0, 0.1]),
    "2.weight": np.array([[0.7], [-0.4]]),
    "2.bias": np.array([0.2]),
}
INPUTS = [[1.0, 2.0, 3.0], [0.5, -0.5, 0.0]]
TARGETS = [[1.0], [-1.0]]


def step(state, inputs, targets, lr):
    W1, b1, W2, b2 = (state[k] for k in ("0.weight", "0.bias", "2.weight", "2.bias"))
    h = np.tanh(inputs @ W1 + b1)
    out = h @ W2 + b2
    err = out - targets
    dW2, db2 = h.T @ err, err.sum(0)
    dh = err @ W2.T * (1 - h**2)
    dW1, db1 = inputs.T @ dh, dh.sum(0)
    return {"0.weight": W1 - lr * dW1, "0.bias": b1 - lr * db1, "2.weight": W2 - lr * dW2, "2.bias": b2 - lr * db2}
