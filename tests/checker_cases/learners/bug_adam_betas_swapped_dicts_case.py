# EXPECT: β1 and β2 are swapped
"""Adam with moments in module-level dicts; the two decay rates used the wrong way round."""

import numpy as np

SIZES = [3, 3, 2]
ACTIVATION = "tanh"
INPUTS = [[0.4, -0.2, 0.1], [0.9, 0.3, -0.5]]
TARGETS = [[0.2, -0.3], [0.6, 0.0]]
LR = 0.02
OPTIMIZER = {"name": "adam", "betas": (0.9, 0.999)}

first_moment, second_moment = {}, {}
timestep = [0]


def backprop(w, x, y):
    h = np.tanh(x @ w["0.weight"].T + w["0.bias"])
    o = np.tanh(h @ w["2.weight"].T + w["2.bias"])
    do = (o - y) * (1 - o * o)
    dh = (do @ w["2.weight"]) * (1 - h * h)
    return {"0.weight": dh.T @ x, "0.bias": dh.sum(0), "2.weight": do.T @ h, "2.bias": do.sum(0)}


def step(state, inputs, targets, lr):
    beta1, beta2 = 0.9, 0.999
    g = backprop(state, inputs, targets)
    timestep[0] += 1
    t = timestep[0]
    updated = {}
    for key in state:
        first_moment[key] = beta2 * first_moment.get(key, 0) + (1 - beta2) * g[key]
        second_moment[key] = beta1 * second_moment.get(key, 0) + (1 - beta1) * g[key] ** 2
        mhat = first_moment[key] / (1 - beta2**t)
        vhat = second_moment[key] / (1 - beta1**t)
        updated[key] = state[key] - lr * mhat / (np.sqrt(vhat) + 1e-8)
    return updated
