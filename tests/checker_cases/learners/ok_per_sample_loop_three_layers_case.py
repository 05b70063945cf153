# EXPECT: ok
"""A per-sample loop that accumulates into zeroed buffers: three tanh layers, ½ Σ over the batch."""

import numpy as np

SIZES = [2, 4, 3, 2]
ACTIVATION = "tanh"
LOSS = "half-sum"
INPUTS = [[0.2, -0.4], [0.9, 0.1], [-0.5, 0.6], [0.3, 0.3], [-0.8, -0.2]]
TARGETS = [[0.1, 0.2], [-0.3, 0.4], [0.5, -0.5], [0.0, 0.0], [0.2, -0.1]]


def gradients(state, inputs, targets):
    Ws = [state["0.weight"], state["2.weight"], state["4.weight"]]
    bs = [state["0.bias"], state["2.bias"], state["4.bias"]]
    gW = [np.zeros_like(W) for W in Ws]
    gb = [np.zeros_like(b) for b in bs]
    for x, t in zip(inputs, targets):
        outs = [x]
        for W, b in zip(Ws, bs):
            outs.append(np.tanh(W @ outs[-1] + b))
        delta = (outs[-1] - t) * (1 - outs[-1] ** 2)
        for layer in (2, 1, 0):
            gW[layer] += np.outer(delta, outs[layer])
            gb[layer] += delta
            if layer > 0:
                delta = (Ws[layer].T @ delta) * (1 - outs[layer] ** 2)
    names = ["0", "2", "4"]
    result = {}
    for n, w, b in zip(names, gW, gb):
        result[n + ".weight"] = w
        result[n + ".bias"] = b
    return result
