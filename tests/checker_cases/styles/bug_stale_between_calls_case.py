# EXPECT: a stale gradient
"""gradients() returns what the previous call computed."""

import numpy as np

SIZES = [2, 2, 2]
ACTIVATION = "sigmoid"
buffers = {}


def gradients(state, x, t):
    previous = dict(buffers)
    buffers.clear()
    h = 1 / (1 + np.exp(-(state["0.weight"] @ x + state["0.bias"])))
    o = 1 / (1 + np.exp(-(state["2.weight"] @ h + state["2.bias"])))
    d_o = (o - t) * o * (1 - o)
    d_h = (state["2.weight"].T @ d_o) * h * (1 - h)
    for k, g in (("0.weight", np.outer(d_h, x)), ("0.bias", d_h), ("2.weight", np.outer(d_o, h)), ("2.bias", d_o)):
        buffers[k] = buffers.get(k, 0) + g
    return previous
