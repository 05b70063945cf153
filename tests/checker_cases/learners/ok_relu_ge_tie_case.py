# EXPECT: only where s = 0 exactly: 0 and 1 are both valid there
"""ReLU's derivative written `s >= 0`, with a hidden unit whose weighted sum is exactly 0."""

import numpy as np

SIZES = [2, 2, 2]
ACTIVATION = "relu"
STATE = {
    "0.weight": np.array([[1.0, 1.0], [0.5, -0.25]]),
    "0.bias": np.array([0.0, 0.1]),
    "2.weight": np.array([[0.3, -0.2], [0.6, 0.4]]),
    "2.bias": np.array([0.05, -0.05]),
}
INPUTS = [0.5, -0.5]
TARGETS = [1.0, 0.0]


def gradients(state, inputs, targets):
    s1 = state["0.weight"] @ inputs + state["0.bias"]
    a1 = np.maximum(s1, 0)
    s2 = state["2.weight"] @ a1 + state["2.bias"]
    a2 = np.maximum(s2, 0)
    d2 = (a2 - targets) * (s2 >= 0)
    d1 = (state["2.weight"].T @ d2) * (s1 >= 0)
    return {"0.weight": np.outer(d1, inputs), "0.bias": d1, "2.weight": np.outer(d2, a1), "2.bias": d2}
