# EXPECT: TARGETS are class indices, so a softmax with cross-entropy
"""Labels as class indices and no LOSS: a softmax classifier with a sigmoid hidden layer, the mean over the batch."""

import numpy as np

SIZES = [4, 3, 3]
ACTIVATION = ["sigmoid", "identity"]
INPUTS = [[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1], [-0.5, 0.5, -0.5, 0.5], [1.0, 0.0, 0.0, -1.0]]
TARGETS = [0, 2, 1, 1]


def gradients(state, inputs, targets):
    n = len(targets)
    hid = 1 / (1 + np.exp(-(inputs @ state["0.weight"].T + state["0.bias"])))
    scores = hid @ state["2.weight"].T + state["2.bias"]
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    dscores = probs.copy()
    dscores[np.arange(n), targets.astype(int)] -= 1
    dscores /= n
    dhid = dscores @ state["2.weight"] * hid * (1 - hid)
    return {"0.weight": dhid.T @ inputs, "0.bias": dhid.sum(0), "2.weight": dscores.T @ hid, "2.bias": dscores.sum(0)}
