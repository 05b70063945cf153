# EXPECT: ok
"""The bias as W's last column."""

import numpy as np

SIZES = [2, 3, 2]
ACTIVATION = "sigmoid"
INPUTS = [[0.3, -0.2], [0.9, 0.4]]
TARGETS = [[0.0, 1.0], [1.0, 0.0]]


def with_one(a):
    return np.hstack([a, np.ones((a.shape[0], 1))])


def gradients(state, x, t):
    # each layer's bias is the last column of an augmented W (out, in + 1); the inputs get a column of ones
    Ws = [np.hstack([state[k + ".weight"], state[k + ".bias"][:, None]]) for k in ("0", "2")]
    X, T = np.atleast_2d(x), np.atleast_2d(t)
    a = [X]
    for W in Ws:
        a.append(1 / (1 + np.exp(-(with_one(a[-1]) @ W.T))))
    delta = (a[-1] - T) * a[-1] * (1 - a[-1])
    grads = {}
    for i, k in reversed(list(enumerate(("0", "2")))):
        G = delta.T @ with_one(a[i])
        grads[k + ".weight"], grads[k + ".bias"] = G[:, :-1], G[:, -1]
        if i:
            delta = (delta @ Ws[i][:, :-1]) * a[i] * (1 - a[i])
    return grads
