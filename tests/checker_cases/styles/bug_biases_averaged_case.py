# EXPECT: the bias gradient is averaged over the batch (divided by N = 3) where the weights' is summed
"""Biases averaged, weights summed."""

import numpy as np

SIZES = [3, 4, 2]
ACTIVATION = "sigmoid"
INPUTS = [[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [0.2, 0.9, 0.1]]
TARGETS = [[0.2, 0.8], [0.7, 0.1], [0.4, 0.6]]
DT = np.float64


def f(name, s):
    if name == "sigmoid":
        return 1 / (1 + np.exp(-s))
    if name == "tanh":
        return np.tanh(s)
    if name == "relu":
        return np.maximum(s, 0)
    return s


def f_prime(name, a):
    if name == "sigmoid":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a**2
    if name == "relu":
        return (a > 0).astype(a.dtype)
    return np.ones_like(a)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def gradients(state, x, t):
    layers = len(SIZES) - 1
    names = ACTIVATION if isinstance(ACTIVATION, list) else [ACTIVATION] * layers
    X = np.atleast_2d(np.asarray(x, DT))
    T = np.atleast_2d(np.asarray(t, DT))
    Ws = [np.asarray(state[f"{2 * i}.weight"], DT) for i in range(layers)]
    bs = [np.asarray(state[f"{2 * i}.bias"], DT) for i in range(layers)]
    acts = [X]
    for i in range(layers):
        acts.append(f(names[i], acts[-1] @ Ws[i].T + bs[i]))
    out = acts[-1]
    delta = (out - T) * f_prime(names[-1], out)
    grads = {}
    for i in reversed(range(layers)):
        grads[f"{2 * i}.weight"] = delta.T @ acts[i]
        grads[f"{2 * i}.bias"] = delta.mean(axis=0)
        if i:
            delta = (delta @ Ws[i]) * f_prime(names[i - 1], acts[i])
    return grads
