# EXPECT: ok
# OPTIONS: 
"""Adam, 3 steps."""

import numpy as np

SIZES = [3, 4, 2]
ACTIVATION = "sigmoid"
INPUTS = [[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [0.2, 0.9, 0.1]]
TARGETS = [[0.2, 0.8], [0.7, 0.1], [0.4, 0.6]]
LR = 0.01
OPTIMIZER = {"name": "adam"}
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


def step(state, x, t, lr):
    g = gradients(state, x, t)
    new = {}
    for k, w in state.items():
        adam_t[0] += 1 if k == '0.weight' else 0
        n = adam_t[0]
        adam_m[k] = 0.9 * adam_m.get(k, 0) + 0.1 * g[k]
        adam_v[k] = 0.999 * adam_v.get(k, 0) + 0.001 * g[k] ** 2
        new[k] = w - lr * (adam_m[k] / (1 - 0.9**n)) / (np.sqrt(adam_v[k] / (1 - 0.999**n)) + 1e-8)
    return new

