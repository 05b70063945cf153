# EXPECT: the step counter t is bumped once per parameter
"""Adam where t += 1 sits inside the loop over the parameters."""

import numpy as np

SIZES = [2, 2, 2]
ACTIVATION = "sigmoid"
LR = 0.05
OPTIMIZER = {"name": "adam"}

cache = {"m": {}, "v": {}, "t": 0}


def backward(params, x, t):
    h = 1 / (1 + np.exp(-(params["0.weight"] @ x + params["0.bias"])))
    o = 1 / (1 + np.exp(-(params["2.weight"] @ h + params["2.bias"])))
    d_o = (o - t) * o * (1 - o)
    d_h = params["2.weight"].T @ d_o * h * (1 - h)
    return {"0.weight": np.outer(d_h, x), "0.bias": d_h, "2.weight": np.outer(d_o, h), "2.bias": d_o}


def step(state, inputs, targets, lr):
    grads = backward(state, inputs, targets)
    out = {}
    for name, w in state.items():
        cache["t"] += 1
        g = grads[name]
        cache["m"][name] = 0.9 * cache["m"].get(name, 0) + 0.1 * g
        cache["v"][name] = 0.999 * cache["v"].get(name, 0) + 0.001 * g * g
        m_hat = cache["m"][name] / (1 - 0.9 ** cache["t"])
        v_hat = cache["v"][name] / (1 - 0.999 ** cache["t"])
        out[name] = w - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
    return out
