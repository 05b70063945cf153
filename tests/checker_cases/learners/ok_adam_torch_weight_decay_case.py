# EXPECT: ok
"""optim.Adam's rule written out with torch tensors, L2 weight decay folded into the gradient, moments on a class."""

import torch

SIZES = [3, 4, 2]
ACTIVATION = "tanh"
INPUTS = [[0.2, -0.1, 0.5], [0.9, 0.4, -0.3], [-0.6, 0.8, 0.0]]
TARGETS = [[0.5, -0.5], [0.0, 0.3], [-0.2, 0.1]]
LR = 0.01
OPTIMIZER = {"name": "adam", "betas": (0.9, 0.99), "eps": 1e-8, "weight_decay": 0.01}


class Moments:
    m: dict = {}
    v: dict = {}
    t = 0


def grad(P, X, Y):
    H = torch.tanh(X @ P["0.weight"].T + P["0.bias"])
    O = torch.tanh(H @ P["2.weight"].T + P["2.bias"])
    dO = (O - Y) * (1 - O**2)
    dH = dO @ P["2.weight"] * (1 - H**2)
    return {"0.weight": dH.T @ X, "0.bias": dH.sum(0), "2.weight": dO.T @ H, "2.bias": dO.sum(0)}


def step(state, inputs, targets, lr):
    P = {k: torch.tensor(v) for k, v in state.items()}
    G = grad(P, torch.tensor(inputs), torch.tensor(targets))
    Moments.t += 1
    out = {}
    for k in P:
        g = G[k] + 0.01 * P[k]
        Moments.m[k] = 0.9 * Moments.m.get(k, torch.zeros_like(g)) + 0.1 * g
        Moments.v[k] = 0.99 * Moments.v.get(k, torch.zeros_like(g)) + 0.01 * g * g
        m_hat = Moments.m[k] / (1 - 0.9**Moments.t)
        v_hat = Moments.v[k] / (1 - 0.99**Moments.t)
        out[k] = (P[k] - lr * m_hat / (v_hat.sqrt() + 1e-8)).numpy()
    return out
