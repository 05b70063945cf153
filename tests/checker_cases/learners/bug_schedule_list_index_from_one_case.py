# EXPECT: the learning-rate schedule is one step ahead
"""A per-step list of rates, indexed with an iteration counter that is bumped before it is used."""

import numpy as np

SIZES = [2, 2, 2]
ACTIVATION = "sigmoid"
LR_SCHEDULE = [0.5, 0.4, 0.3, 0.2, 0.1]
INPUTS = [[0.05, 0.1], [0.6, 0.2]]
TARGETS = [[0.01, 0.99], [0.5, 0.5]]
iteration = 0


def backprop(p, X, T):
    H = 1 / (1 + np.exp(-(X @ p["0.weight"].T + p["0.bias"])))
    O = 1 / (1 + np.exp(-(H @ p["2.weight"].T + p["2.bias"])))
    dO = (O - T) * O * (1 - O)
    dH = dO @ p["2.weight"] * H * (1 - H)
    return {"0.weight": dH.T @ X, "0.bias": dH.sum(0), "2.weight": dO.T @ H, "2.bias": dO.sum(0)}


def step(state, inputs, targets, lr):
    global iteration
    iteration += 1
    rate = LR_SCHEDULE[iteration]
    g = backprop(state, inputs, targets)
    return {name: value - rate * g[name] for name, value in state.items()}
