# EXPECT: ok
"""Adam exactly as Kingma & Ba's Algorithm 1 with the 'more efficient' ordering of section 2, in a class."""

import numpy as np

SIZES = [2, 3, 2]
ACTIVATION = "tanh"
INPUTS = [[0.5, -0.2], [0.1, 0.9], [-0.7, 0.3]]
TARGETS = [[0.3, -0.1], [0.0, 0.5], [-0.4, 0.2]]
LR = 0.05
OPTIMIZER = {"name": "adam-efficient", "betas": (0.8, 0.99), "eps": 1e-6}


class AdamPaper:
    def __init__(self, alpha, beta1=0.8, beta2=0.99, epsilon=1e-6):
        self.alpha, self.beta1, self.beta2, self.epsilon = alpha, beta1, beta2, epsilon
        self.m, self.v, self.t = {}, {}, 0

    def update(self, params, grads):
        self.t += 1
        alpha_t = self.alpha * np.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t)
        out = {}
        for name in params:
            g = grads[name]
            self.m[name] = self.beta1 * self.m.get(name, np.zeros_like(g)) + (1 - self.beta1) * g
            self.v[name] = self.beta2 * self.v.get(name, np.zeros_like(g)) + (1 - self.beta2) * g * g
            out[name] = params[name] - alpha_t * self.m[name] / (np.sqrt(self.v[name]) + self.epsilon)
        return out


opt = None


def backprop(params, X, Y):
    h = np.tanh(X @ params["0.weight"].T + params["0.bias"])
    y = np.tanh(h @ params["2.weight"].T + params["2.bias"])
    d2 = (y - Y) * (1 - y * y)
    d1 = d2 @ params["2.weight"] * (1 - h * h)
    return {"0.weight": d1.T @ X, "0.bias": d1.sum(0), "2.weight": d2.T @ h, "2.bias": d2.sum(0)}


def step(state, inputs, targets, lr):
    global opt
    if opt is None:
        opt = AdamPaper(lr)
    return opt.update(state, backprop(state, inputs, targets))
