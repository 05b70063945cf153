# EXPECT: [[0] * n] * m
"""Pure Python: gradient matrices made with [[0.0] * n] * m, so every row is the same list."""

import math

SIZES = [2, 3, 2]
ACTIVATION = "sigmoid"
INPUTS = [[0.3, 0.7], [0.9, 0.1]]
TARGETS = [[1.0, 0.0], [0.0, 1.0]]


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def gradients(state, inputs, targets):
    W1, b1, W2, b2 = (state[k].tolist() for k in ("0.weight", "0.bias", "2.weight", "2.bias"))
    n_in, n_hid, n_out = 2, 3, 2
    gW1 = [[0.0] * n_in] * n_hid
    gW2 = [[0.0] * n_hid] * n_out
    gb1 = [0.0] * n_hid
    gb2 = [0.0] * n_out
    for x, t in zip(inputs.tolist(), targets.tolist()):
        h = [sig(sum(W1[j][i] * x[i] for i in range(n_in)) + b1[j]) for j in range(n_hid)]
        o = [sig(sum(W2[k][j] * h[j] for j in range(n_hid)) + b2[k]) for k in range(n_out)]
        do = [(o[k] - t[k]) * o[k] * (1 - o[k]) for k in range(n_out)]
        dh = [sum(W2[k][j] * do[k] for k in range(n_out)) * h[j] * (1 - h[j]) for j in range(n_hid)]
        for k in range(n_out):
            gb2[k] += do[k]
            for j in range(n_hid):
                gW2[k][j] += do[k] * h[j]
        for j in range(n_hid):
            gb1[j] += dh[j]
            for i in range(n_in):
                gW1[j][i] += dh[j] * x[i]
    return {"0.weight": gW1, "0.bias": gb1, "2.weight": gW2, "2.bias": gb2}
