# EXPECT: ok
"""Plain Python lists, one sample."""

import math

SIZES = [2, 3, 2]
ACTIVATION = "sigmoid"
INPUTS = [0.35, -0.9]
TARGETS = [0.1, 0.9]


def sigmoid(s):
    return 1 / (1 + math.exp(-s))


def gradients(state, x, t):
    W1, b1 = state["0.weight"].tolist(), state["0.bias"].tolist()
    W2, b2 = state["2.weight"].tolist(), state["2.bias"].tolist()
    h = [sigmoid(sum(w * xi for w, xi in zip(row, x)) + b) for row, b in zip(W1, b1)]
    o = [sigmoid(sum(w * hi for w, hi in zip(row, h)) + b) for row, b in zip(W2, b2)]
    d_o = [(ok - tk) * ok * (1 - ok) for ok, tk in zip(o, t)]
    d_h = [sum(d_o[k] * W2[k][j] for k in range(len(o))) * h[j] * (1 - h[j]) for j in range(len(h))]
    gW2 = [[0.0] * len(h) for _ in o]
    gW1 = [[0.0] * len(x) for _ in h]
    for k in range(len(o)):
        for j in range(len(h)):
            gW2[k][j] = d_o[k] * h[j]
    for j in range(len(h)):
        for i in range(len(x)):
            gW1[j][i] = d_h[j] * x[i]
    return {"0.weight": gW1, "0.bias": d_h, "2.weight": gW2, "2.bias": d_o}
