# EXPECT: ok
"""No NumPy at all: the state as a dict of plain lists, loops everywhere, tanh, one sample."""

import math

SIZES = [2, 3, 2]
ACTIVATION = "tanh"
STATE = {
    "0.weight": [[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]],
    "0.bias": [0.05, -0.2, 0.1],
    "2.weight": [[0.6, -0.1, 0.3], [-0.5, 0.4, 0.2]],
    "2.bias": [0.0, 0.1],
}
INPUTS = [0.9, -0.4]
TARGETS = [0.5, -0.25]


def gradients(state, inputs, targets):
    W1 = [list(row) for row in state["0.weight"]]
    b1 = list(state["0.bias"])
    W2 = [list(row) for row in state["2.weight"]]
    b2 = list(state["2.bias"])
    x = list(inputs)
    h = [math.tanh(sum(W1[j][i] * x[i] for i in range(len(x))) + b1[j]) for j in range(len(b1))]
    o = [math.tanh(sum(W2[k][j] * h[j] for j in range(len(h))) + b2[k]) for k in range(len(b2))]
    d_o = [(o[k] - targets[k]) * (1 - o[k] ** 2) for k in range(len(o))]
    d_h = [sum(W2[k][j] * d_o[k] for k in range(len(o))) * (1 - h[j] ** 2) for j in range(len(h))]
    gW1 = [[d_h[j] * x[i] for i in range(len(x))] for j in range(len(h))]
    gW2 = [[d_o[k] * h[j] for j in range(len(h))] for k in range(len(o))]
    return {"0.weight": gW1, "0.bias": d_h, "2.weight": gW2, "2.bias": d_o}
