# EXIT 3: does any gradient match or a known mistake explain the numbers
"""Leaky ReLU, ACTIVATION not declared: the checker models no leaky ReLU, so it says it cannot check this."""

import numpy as np

SIZES = [3, 4, 2]
INPUTS = [[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [0.2, 0.9, 0.1]]
TARGETS = [[0.2, 0.8], [0.7, 0.1], [0.4, 0.6]]


def gradients(state, x, t):
    a = [np.atleast_2d(x)]
    for k in ("0", "2"):
        s = a[-1] @ state[k + ".weight"].T + state[k + ".bias"]
        a.append(np.where(s > 0, s, 0.1 * s))
    delta = (a[-1] - np.atleast_2d(t)) * np.where(a[-1] > 0, 1.0, 0.1)
    g = {}
    for i, k in reversed(list(enumerate(("0", "2")))):
        g[k + ".weight"], g[k + ".bias"] = delta.T @ a[i], delta.sum(axis=0)
        if i:
            delta = (delta @ state[k + ".weight"]) * np.where(a[i] > 0, 1.0, 0.1)
    return g
