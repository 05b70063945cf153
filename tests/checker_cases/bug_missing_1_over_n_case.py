# EXPECT: the 1/N of the batch mean is missing. If you meant that loss, declare LOSS = 'half-sum'
# OPTIONS: loss=half-sum-batch-mean
"""Batch mean meant, 1/N forgotten (N = 2 = the fan-in of layer 2; no update, so not a per-input bias)."""

import numpy as np

SIZES = [3, 2, 2]
ACTIVATION = "sigmoid"
INPUTS = [[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]
TARGETS = [[0.2, 0.8], [0.7, 0.1]]
LR = 0.5
OPTIMIZER = None
DT = np.float64
velocity = {}
adam_m, adam_v, adam_t = {}, {}, [0]


def f(s):
    if ACTIVATION == "sigmoid":
        return 1 / (1 + np.exp(-s))
    if ACTIVATION == "tanh":
        return np.tanh(s)
    return np.maximum(s, 0)


def fprime(a):
    if ACTIVATION == "sigmoid":
        return a * (1 - a)
    if ACTIVATION == "tanh":
        return 1 - a * a
    return (a > 0).astype(a.dtype)


def gradients(state, x, t):
    X, T = np.atleast_2d(np.asarray(x, DT)), np.atleast_2d(np.asarray(t, DT))
    keys = sorted({k.rsplit(".", 1)[0] for k in state}, key=int)
    W = {k: np.asarray(state[k + ".weight"], DT) for k in keys}
    acts, sums = [X], []
    for k in keys:
        s = acts[-1] @ W[k].T + np.asarray(state[k + ".bias"], DT)
        sums.append(s)
        acts.append(f(s))
    delta = (acts[-1] - T) * fprime(acts[-1])
    grads = {}
    for i in reversed(range(len(keys))):
        k = keys[i]
        grads[k + ".weight"] = delta.T @ acts[i]
        grads[k + ".bias"] = delta.sum(axis=0)
        if i:
            delta = (delta @ W[k]) * fprime(acts[i])
    return grads

