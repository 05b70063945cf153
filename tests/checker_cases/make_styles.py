"""Write the new-style suite: files written the ways learners write backprop, beyond make_cases.py's template.

Class-based networks with weights stored (in, out), plain lists of lists, a bias folded into W, torch
tensors, minibatch loops, hand-written Adam, weight decay, schedules, clipping, binary and softmax
cross-entropy, linear outputs, float32. Each file starts with `# EXPECT: ok`, `# EXPECT: <words the
report must contain>`, or `# EXIT 3: <words>` (the checker must refuse it). Regenerate with
`python tests/checker_cases/make_styles.py`; the files are committed so each reads as a learner wrote it.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent / "styles"

# ---------------------------------------------------------------------- a NumPy function, any activation and loss

FUNCTIONAL = '''# EXPECT: {expect}
"""{title}"""

import numpy as np

SIZES = {sizes}
ACTIVATION = {act}
{settings}INPUTS = {inputs}
TARGETS = {targets}
DT = np.{dtype}


def f(name, s):
    if name == "sigmoid":
        return 1 / (1 + np.exp(-s))
    if name == "tanh":
        return np.tanh(s)
    if name == "relu":
        return np.maximum(s, 0)
    return s


def f_prime(name, a):
    if name == "sigmoid":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a**2
    if name == "relu":
        return {relu_prime}
    return np.ones_like(a)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def gradients(state, x, t):
    layers = len(SIZES) - 1
    names = ACTIVATION if isinstance(ACTIVATION, list) else [ACTIVATION] * layers
    X = np.atleast_2d(np.asarray(x, DT))
    T = {target_rows}
    Ws = [np.asarray(state[f"{{2 * i}}.weight"], DT) for i in range(layers)]
    bs = [np.asarray(state[f"{{2 * i}}.bias"], DT) for i in range(layers)]
    acts = [X]
    for i in range(layers):
        acts.append(f(names[i], acts[-1] @ Ws[i].T + bs[i]))
    out = acts[-1]
    delta = {out_delta}
    grads = {{}}
    for i in reversed(range(layers)):
        grads[f"{{2 * i}}.weight"] = {wgrad}
        grads[f"{{2 * i}}.bias"] = {bgrad}
        if i:
            delta = {hidden_delta}
    return {ret}
'''
F = dict(
    sizes="[3, 4, 2]",
    act='"sigmoid"',
    settings="",
    inputs="[[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [0.2, 0.9, 0.1]]",
    targets="[[0.2, 0.8], [0.7, 0.1], [0.4, 0.6]]",
    dtype="float64",
    relu_prime="(a > 0).astype(a.dtype)",
    target_rows="np.atleast_2d(np.asarray(t, DT))",
    out_delta="(out - T) * f_prime(names[-1], out)",
    wgrad="delta.T @ acts[i]",
    bgrad="delta.sum(axis=0)",
    hidden_delta="(delta @ Ws[i]) * f_prime(names[i - 1], acts[i])",
    ret="grads",
)
BCE = dict(F, sizes="[3, 4, 1]", act='"sigmoid"', settings='LOSS = "bce"\n', targets="[[1.0], [0.0], [1.0]]")
BCE["out_delta"] = "out - T  # σ′ cancels against the loss's derivative"
CE = dict(F, sizes="[3, 4, 3]", act='["tanh", "identity"]', settings='LOSS = "cross-entropy"\n')
CE["targets"] = "[[0, 1, 0], [1, 0, 0], [0, 0, 1]]"
CE["out_delta"] = "softmax(out) - T"
CE_INDEX = dict(CE, targets="[1, 0, 2]", target_rows="np.eye(SIZES[-1], dtype=DT)[np.asarray(t).reshape(-1)]")
LINEAR = dict(F, act='["tanh", "identity"]', settings='LOSS = "half-sum"\n', out_delta="out - T")

# ---------------------------------------------------------------------- a class, weights stored (in, out)

CLASS = '''# EXPECT: {expect}
"""{title}"""

import numpy as np

SIZES = [3, 4, 3, 2]
ACTIVATION = "tanh"
INPUTS = [[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]
TARGETS = [[0.2, -0.8], [0.7, 0.1]]


class Network:
    """Weights stored (in, out), as many tutorials do: s = x @ W + b."""

    def __init__(self, state):
        self.keys = sorted({{k.split(".")[0] for k in state}}, key=int)
        self.W = [np.array(state[k + ".weight"]).T for k in self.keys]
        self.b = [np.array(state[k + ".bias"]) for k in self.keys]
{init_extra}
    def forward(self, X):
        self.a = [X]
        for W, b in zip(self.W, self.b):
            self.a.append(np.tanh(self.a[-1] @ W + b))
        return self.a[-1]

    def backward(self, T):
        delta = (self.a[-1] - T) * (1 - self.a[-1] ** 2)
        for i in reversed(range(len(self.W))):
            {dw_line}
            self.db[i] = {db}
            if i:
                delta = {hidden}


{net_line}


def gradients(state, x, t):
    net = {make_net}
    net.forward(np.atleast_2d(x))
    net.backward(np.atleast_2d(t))
    return {{k + ".weight": {ret_w} for k, dW in zip(net.keys, net.dW)}} | dict(
        (k + ".bias", db) for k, db in zip(net.keys, net.db)
    )
'''
C = dict(
    init_extra="        self.dW = [np.zeros_like(W) for W in self.W]\n"
    "        self.db = [np.zeros_like(b) for b in self.b]\n",
    dw_line="self.dW[i] = self.a[i].T @ delta",
    db="delta.sum(axis=0)",
    hidden="(delta @ self.W[i].T) * (1 - self.a[i] ** 2)",
    net_line="",
    make_net="Network(state)",
    ret_w="dW.T",
)

# ---------------------------------------------------------------------- plain Python lists, one sample

LISTS = '''# EXPECT: {expect}
"""{title}"""

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
    gW2 = {grid2}
    gW1 = {grid1}
    for k in range(len(o)):
        for j in range(len(h)):
            gW2[k][j] = d_o[k] * h[j]
    for j in range(len(h)):
        for i in range(len(x)):
            gW1[j][i] = d_h[j] * x[i]
    return {{"0.weight": gW1, "0.bias": d_h, "2.weight": gW2, "2.bias": d_o}}
'''

# ---------------------------------------------------------------------- the bias folded into W

FOLDED = '''# EXPECT: {expect}
"""{title}"""

import numpy as np

SIZES = [2, 3, 2]
ACTIVATION = "sigmoid"
INPUTS = [[0.3, -0.2], [0.9, 0.4]]
TARGETS = [[0.0, 1.0], [1.0, 0.0]]


def with_one(a):
    return np.hstack([a, np.ones((a.shape[0], 1))])


def gradients(state, x, t):
    # each layer's bias is the last column of an augmented W (out, in + 1); the inputs get a column of ones
    Ws = [np.hstack([state[k + ".weight"], state[k + ".bias"][:, None]]) for k in ("0", "2")]
    X, T = np.atleast_2d(x), np.atleast_2d(t)
    a = [X]
    for W in Ws:
        a.append(1 / (1 + np.exp(-(with_one(a[-1]) @ W.T))))
    delta = (a[-1] - T) * a[-1] * (1 - a[-1])
    grads = {{}}
    for i, k in reversed(list(enumerate(("0", "2")))):
        G = delta.T @ with_one(a[i])
        grads[k + ".weight"], grads[k + ".bias"] = G[:, :-1], G[:, -1]
        if i:
            delta = {hidden}
    return grads
'''

# ---------------------------------------------------------------------- torch tensors

TORCH = '''# EXPECT: {expect}
"""{title}"""

import torch

SIZES = [2, 3, 2]
ACTIVATION = "tanh"
INPUTS = [[0.3, -0.2], [0.9, 0.4]]
TARGETS = [[0.0, 1.0], [1.0, 0.0]]


def gradients(state, x, t):
    W1, b1 = torch.tensor(state["0.weight"]), torch.tensor(state["0.bias"])
    W2, b2 = torch.tensor(state["2.weight"]), torch.tensor(state["2.bias"])
    X, T = torch.tensor(x), torch.tensor(t)
    h = torch.tanh(X @ W1.T + b1)
    o = torch.tanh(h @ W2.T + b2)
    d_o = (o - T) * (1 - o**2)
    d_h = {hidden}
    return {{"0.weight": d_h.T @ X, "0.bias": d_h.sum(0), "2.weight": d_o.T @ h, "2.bias": d_o.sum(0)}}
'''

# ---------------------------------------------------------------------- step(): optimizers written by hand

STEP = '''# EXPECT: {expect}
"""{title}"""

import numpy as np

SIZES = [3, 4, 2]
ACTIVATION = "sigmoid"
INPUTS = [[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [0.2, 0.9, 0.1]]
TARGETS = [[0.2, 0.8], [0.7, 0.1], [0.4, 0.6]]
LR = {lr}
{settings}
memory = {{"m": {{}}, "v": {{}}, "t": 0, "calls": 0, "previous": {{}}, "sum": {{}}, "buf": {{}}}}


def gradients(state, x, t):
    X, T = np.atleast_2d(x), np.atleast_2d(t)
    a = [X]
    for k in ("0", "2"):
        a.append(1 / (1 + np.exp(-(a[-1] @ state[k + ".weight"].T + state[k + ".bias"]))))
    delta = (a[-1] - T) * a[-1] * (1 - a[-1])
    g = {{}}
    for i, k in reversed(list(enumerate(("0", "2")))):
        g[k + ".weight"], g[k + ".bias"] = delta.T @ a[i], delta.sum(axis=0)
        if i:
            delta = (delta @ state[k + ".weight"]) * a[i] * (1 - a[i])
    return g


def step(state, x, t, lr):
    g = gradients(state, x, t)
    memory["calls"] += 1
{body}
'''
SGD_WD = """    new = {{}}
    for k, w in state.items():
        new[k] = w - lr * ({grad})
    return new"""
SCHEDULE = """    rate = LR_SCHEDULE[{index}]
    return {{k: w - rate * g[k] for k, w in state.items()}}"""
SCHEDULE_FN = """    rate = LR_SCHEDULE(memory["calls"] - 1)
    return {k: w - rate * g[k] for k, w in state.items()}"""
ADAM = """    b1, b2, eps = {b1}, {b2}, 1e-8
    memory["t"] += 1
    new = {{}}
    for k, w in state.items():
        {per_param}t = memory["t"]
        m = memory["m"][k] = b1 * memory["m"].get(k, 0) + (1 - b1) * g[k]
        v = memory["v"][k] = b2 * memory["v"].get(k, 0) + (1 - b2) * g[k] ** 2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        new[k] = w - lr * {update}
    return new"""
ADAM_EFFICIENT = """    b1, b2, eps = 0.9, 0.999, 1e-8
    memory["t"] += 1
    t = memory["t"]
    alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
    new = {}
    for k, w in state.items():
        m = memory["m"][k] = b1 * memory["m"].get(k, 0) + (1 - b1) * g[k]
        v = memory["v"][k] = b2 * memory["v"].get(k, 0) + (1 - b2) * g[k] ** 2
        new[k] = w - alpha * m / (np.sqrt(v) + eps)
    return new"""
ADAM_FLOAT32 = """    b1, b2, eps = np.float32(0.9), np.float32(0.999), np.float32(1e-8)
    memory["t"] += 1
    t = memory["t"]
    new = {}
    for k, w in state.items():
        w, gk = w.astype(np.float32), g[k].astype(np.float32)
        m = memory["m"][k] = b1 * memory["m"].get(k, np.float32(0)) + (1 - b1) * gk
        v = memory["v"][k] = b2 * memory["v"].get(k, np.float32(0)) + (1 - b2) * gk * gk
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        new[k] = (w - np.float32(lr) * m_hat / (np.sqrt(v_hat) + eps)).tolist()
    return new"""
CLIP_BODY = """    norm = np.sqrt(sum(np.sum(v**2) for v in g.values()))
    {clip}
    return {{k: w - lr * g[k] for k, w in state.items()}}"""
STALE = """    used, memory["previous"] = memory["previous"], g
    return {k: w - lr * used.get(k, 0 * w) for k, w in state.items()}"""
ACCUMULATE = """    for k in g:
        memory["sum"][k] = memory["sum"].get(k, 0) + g[k]
    return {k: w - lr * memory["sum"][k] for k, w in state.items()}"""
MOMENTUM_NESTEROV = """    new = {{}}
    for k, w in state.items():
        buf = memory["buf"][k] = 0.9 * memory["buf"][k] + g[k] if k in memory["buf"] else g[k]
        new[k] = w - lr * ({update})
    return new"""

# ---------------------------------------------------------------------- a minibatch loop inside gradients()

MINIBATCH = '''# EXPECT: {expect}
"""{title}"""

import numpy as np

SIZES = [2, 3, 2]
ACTIVATION = "sigmoid"
INPUTS = [[0.3, -0.2], [0.9, 0.4], [-0.5, 0.8], [0.1, 0.1]]
TARGETS = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
BATCH = 2


def one_batch(state, X, T):
    h = 1 / (1 + np.exp(-(X @ state["0.weight"].T + state["0.bias"])))
    o = 1 / (1 + np.exp(-(h @ state["2.weight"].T + state["2.bias"])))
    d_o = (o - T) * o * (1 - o)
    d_h = (d_o @ state["2.weight"]) * h * (1 - h)
    return {{"0.weight": d_h.T @ X, "0.bias": d_h.sum(0), "2.weight": d_o.T @ h, "2.bias": d_o.sum(0)}}


def gradients(state, x, t):
    total = {{k: np.zeros_like(v) for k, v in state.items()}}
    for start in range(0, len(x), BATCH):
        part = one_batch(state, x[{slice}], t[{slice}])
        for k in total:
            total[k] += part[k]
    return total
'''

# ---------------------------------------------------------------------- a gradient kept between calls

KEPT = '''# EXPECT: {expect}
"""{title}"""

import numpy as np

SIZES = [2, 2, 2]
ACTIVATION = "sigmoid"
buffers = {{}}


def gradients(state, x, t):
    {reset}
    h = 1 / (1 + np.exp(-(state["0.weight"] @ x + state["0.bias"])))
    o = 1 / (1 + np.exp(-(state["2.weight"] @ h + state["2.bias"])))
    d_o = (o - t) * o * (1 - o)
    d_h = (state["2.weight"].T @ d_o) * h * (1 - h)
    for k, g in (("0.weight", np.outer(d_h, x)), ("0.bias", d_h), ("2.weight", np.outer(d_o, h)), ("2.bias", d_o)):
        buffers[k] = buffers.get(k, 0) + g
    return {ret}
'''


def cases() -> dict[str, tuple[str, dict[str, str]]]:
    """name -> (template, fields): one planted bug, or none, per file."""
    hidden_missing = "delta @ Ws[i]"
    return {
        # losses and activations
        "ok_bce_sigmoid": (FUNCTIONAL, dict(BCE, expect="ok", title="Binary cross-entropy on a sigmoid: δ = a − t.")),
        "bug_bce_extra_sigma": (
            FUNCTIONAL,
            dict(
                BCE,
                out_delta="(out - T) * out * (1 - out)",
                expect="σ′ cancels against the loss",
                title="BCE with a planted extra σ′ at the output.",
            ),
        ),
        "ok_ce_onehot": (FUNCTIONAL, dict(CE, expect="ok", title="Softmax + cross-entropy, one-hot targets.")),
        "ok_ce_index": (FUNCTIONAL, dict(CE_INDEX, expect="ok", title="Softmax + cross-entropy, class indices.")),
        "bug_ce_extra_softmax_derivative": (
            FUNCTIONAL,
            dict(
                CE,
                out_delta="(softmax(out) - T) * softmax(out) * (1 - softmax(out))",
                expect="the softmax's derivative is already in δ = softmax(s) − t",
                title="Cross-entropy with the softmax's derivative applied again.",
            ),
        ),
        "ok_linear_output": (FUNCTIONAL, dict(LINEAR, expect="ok", title="tanh hidden layer, linear output.")),
        "bug_linear_output_with_derivative": (
            FUNCTIONAL,
            dict(
                LINEAR,
                out_delta="(out - T) * (1 - out**2)",
                expect="the output layer is linear",
                title="A linear output, but δ multiplied by tanh′ anyway.",
            ),
        ),
        "ok_three_layers_relu_float32": (
            FUNCTIONAL,
            dict(
                F,
                sizes="[3, 4, 3, 2]",
                act='"relu"',
                dtype="float32",
                expect="ok",
                title="ReLU, three layers, float32.",
            ),
        ),
        "ok_float32_lists": (
            FUNCTIONAL,
            dict(
                F,
                dtype="float32",
                ret="{k: v.tolist() for k, v in grads.items()}",
                expect="ok",
                title="float32 arithmetic handed back as Python lists (float64 containers).",
            ),
        ),
        "ok_relu_tie": (
            FUNCTIONAL,
            dict(
                F,
                act='"relu"',
                settings='STATE = {"0.weight": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [1.0, 1.0, 1.0]], '
                '"0.bias": [0.0, 0.0, 0.0, 0.5], "2.weight": [[0.3, -0.2, 0.5, 0.1], [0.2, 0.4, -0.3, 0.2]], '
                '"2.bias": [0.1, -0.1]}\n',
                inputs="[[0.0, 0.0, 1.0], [1.0, 0.5, -1.0]]",
                targets="[[0.2, 0.8], [0.7, 0.1]]",
                relu_prime="(a >= 0).astype(a.dtype)",
                expect="0 and 1 are both valid there",
                title="ReLU written with >=: at s = 0 exactly its derivative is 1, also a valid choice.",
            ),
        ),
        "bug_tanh_hidden_missing": (
            FUNCTIONAL,
            dict(
                F,
                act='"tanh"',
                hidden_delta=hidden_missing,
                expect="missing the derivative of its Tanh",
                title="tanh′ left out.",
            ),
        ),
        "bug_biases_averaged": (
            FUNCTIONAL,
            dict(
                F,
                bgrad="delta.mean(axis=0)",
                expect="the bias gradient is averaged over the batch (divided by N = 3) where the weights' is summed",
                title="Biases averaged, weights summed.",
            ),
        ),
        "bug_mean_twice": (
            FUNCTIONAL,
            dict(
                F,
                sizes="[3, 4, 2]",
                inputs="[[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]",
                targets="[[0.2, 0.8], [0.7, 0.1]]",
                settings='LOSS = "half-sum-batch-mean"\nLR = 0.5\n',
                out_delta="(out - T) * f_prime(names[-1], out) / len(X)",
                ret="{k: v / len(X) for k, v in grads.items()}",
                expect="the batch mean divides by N = 2 twice",
                title="The batch mean divided by N twice; 1/N = 0.5 = lr, told apart by a smaller batch.",
            ),
        ),
        # class-based, weights (in, out)
        "ok_class_in_out": (CLASS, dict(C, expect="ok", title="A class, weights (in, out), tanh, three layers.")),
        "bug_class_not_transposed_back": (
            CLASS,
            dict(C, ret_w="dW", expect="transpose", title="(in, out) gradients returned without the transpose."),
        ),
        "bug_class_hidden_derivative_missing": (
            CLASS,
            dict(C, hidden="delta @ self.W[i].T", expect="missing the derivative of its Tanh", title="tanh′ left out."),
        ),
        # plain lists
        "ok_lists": (
            LISTS,
            dict(
                grid2="[[0.0] * len(h) for _ in o]",
                grid1="[[0.0] * len(x) for _ in h]",
                expect="ok",
                title="Plain Python lists, one sample.",
            ),
        ),
        "bug_lists_aliased_rows": (
            LISTS,
            dict(
                grid2="[[0.0] * len(h)] * len(o)",
                grid1="[[0.0] * len(x) for _ in h]",
                expect="[[0] * n] * m",
                title="[[0] * n] * m: every row is one list.",
            ),
        ),
        # bias folded into W
        "ok_folded_bias": (
            FOLDED,
            dict(
                hidden="(delta @ Ws[i][:, :-1]) * a[i] * (1 - a[i])", expect="ok", title="The bias as W's last column."
            ),
        ),
        "bug_folded_bias_sigma_twice": (
            FOLDED,
            dict(
                hidden="(delta @ Ws[i][:, :-1]) * a[i] * (1 - a[i]) * a[i] * (1 - a[i])",
                expect="applied twice in the delta of layer 0",
                title="Bias folded into W; σ′ applied twice in the hidden δ.",
            ),
        ),
        # torch
        "ok_torch": (TORCH, dict(hidden="(d_o @ W2) * (1 - h**2)", expect="ok", title="Torch tensors returned.")),
        "bug_torch_hidden_missing": (
            TORCH,
            dict(hidden="d_o @ W2", expect="missing the derivative of its Tanh", title="Torch, tanh′ left out."),
        ),
        # minibatches
        "ok_minibatch": (MINIBATCH, dict(slice="start:start + BATCH", expect="ok", title="Minibatches of 2, summed.")),
        "bug_minibatch_off_by_one": (
            MINIBATCH,
            dict(
                slice="start:start + BATCH - 1",
                expect="left out of the gradient",
                title="An off-by-one minibatch slice drops a sample of each batch.",
            ),
        ),
        # gradients kept between calls
        "ok_buffers_reset": (
            KEPT,
            dict(reset="buffers.clear()", ret="dict(buffers)", expect="ok", title="Buffers reset at each call."),
        ),
        "bug_stale_between_calls": (
            KEPT,
            dict(
                reset="previous = dict(buffers)\n    buffers.clear()",
                ret="previous",
                expect="a stale gradient",
                title="gradients() returns what the previous call computed.",
            ),
        ),
        "bug_never_reset": (
            KEPT,
            dict(
                reset="pass",
                ret="dict(buffers)",
                expect="never reset between calls",
                title="Gradient buffers never reset between calls.",
            ),
        ),
        # step(): optimizers
        "ok_weight_decay": (
            STEP,
            dict(
                lr="0.5",
                settings='OPTIMIZER = {"name": "sgd", "weight_decay": 0.01}',
                body=SGD_WD.format(grad="g[k] + 0.01 * w"),
                expect="ok",
                title="SGD with weight decay.",
            ),
        ),
        "bug_weight_decay_forgotten": (
            STEP,
            dict(
                lr="0.5",
                settings='OPTIMIZER = {"name": "sgd", "weight_decay": 0.01}',
                body=SGD_WD.format(grad="g[k]"),
                expect="weight decay is left out",
                title="Weight decay declared, left out of the update.",
            ),
        ),
        "ok_nesterov": (
            STEP,
            dict(
                lr="0.5",
                settings='OPTIMIZER = {"name": "sgd", "momentum": 0.9, "nesterov": True}',
                body=MOMENTUM_NESTEROV.format(update="g[k] + 0.9 * buf"),
                expect="ok",
                title="Nesterov momentum.",
            ),
        ),
        "bug_nesterov_missing": (
            STEP,
            dict(
                lr="0.5",
                settings='OPTIMIZER = {"name": "sgd", "momentum": 0.9, "nesterov": True}',
                body=MOMENTUM_NESTEROV.format(update="buf"),
                expect="the Nesterov look-ahead is missing",
                title="Nesterov declared, plain momentum written.",
            ),
        ),
        "ok_schedule_list": (
            STEP,
            dict(
                lr="0.5",
                settings="LR_SCHEDULE = [0.5, 0.25, 0.125]",
                body=SCHEDULE.format(index='memory["calls"] - 1'),
                expect="ok",
                title="A learning-rate schedule, a list.",
            ),
        ),
        "ok_schedule_function": (
            STEP,
            dict(
                lr="0.5",
                settings="\n\ndef LR_SCHEDULE(k):\n    return 0.5 * 0.9**k\n",
                body=SCHEDULE_FN,
                expect="ok",
                title="A learning-rate schedule, a function of the step.",
            ),
        ),
        "bug_schedule_off_by_one": (
            STEP,
            dict(
                lr="0.5",
                settings="LR_SCHEDULE = [0.5, 0.25, 0.125, 0.0625]",
                body=SCHEDULE.format(index='memory["calls"]'),
                expect="the learning-rate schedule is one step ahead",
                title="The schedule's counter starts at 1.",
            ),
        ),
        "ok_adam": (
            STEP,
            dict(
                lr="0.01",
                settings='OPTIMIZER = {"name": "adam"}',
                body=ADAM.format(b1="0.9", b2="0.999", per_param="", update="m_hat / (np.sqrt(v_hat) + eps)"),
                expect="ok",
                title="Adam by hand.",
            ),
        ),
        "ok_adam_float32_lists": (
            STEP,
            dict(
                lr="0.01",
                settings='OPTIMIZER = {"name": "adam"}',
                body=ADAM_FLOAT32,
                expect="rtol 0.0001",
                title="Adam in float32 arithmetic, the parameters handed back as Python lists.",
            ),
        ),
        "ok_adam_efficient": (
            STEP,
            dict(
                lr="0.01",
                settings='OPTIMIZER = {"name": "adam-efficient"}',
                body=ADAM_EFFICIENT,
                expect="ok",
                title="Adam's efficient form (ε after the step-size correction), declared.",
            ),
        ),
        "ok_adam_efficient_declared_adam": (
            STEP,
            dict(
                lr="0.01",
                settings='OPTIMIZER = {"name": "adam"}',
                body=ADAM_EFFICIENT,
                expect="in Kingma and Ba's efficient form",
                title="The efficient form, declared as plain adam: the paper's Adam too, so it passes, said.",
            ),
        ),
        "bug_adam_eps_in_sqrt": (
            STEP,
            dict(
                lr="0.01",
                settings='OPTIMIZER = {"name": "adam"}',
                body=ADAM.format(b1="0.9", b2="0.999", per_param="", update="m_hat / np.sqrt(v_hat + eps)"),
                expect="eps is inside the square root",
                title="Adam, ε inside the square root.",
            ),
        ),
        "bug_adam_betas_swapped": (
            STEP,
            dict(
                lr="0.01",
                settings='OPTIMIZER = {"name": "adam"}',
                body=ADAM.format(b1="0.999", b2="0.9", per_param="", update="m_hat / (np.sqrt(v_hat) + eps)"),
                expect="β1 and β2 are swapped",
                title="Adam, β1 and β2 swapped.",
            ),
        ),
        "bug_adam_t_per_parameter": (
            STEP,
            dict(
                lr="0.01",
                settings='OPTIMIZER = {"name": "adam"}',
                body=ADAM.format(
                    b1="0.9",
                    b2="0.999",
                    per_param='memory["t"] += 0 if k == "0.weight" else 1\n        ',
                    update="m_hat / (np.sqrt(v_hat) + eps)",
                ),
                expect="the step counter t is bumped once per parameter",
                title="Adam, the step counter bumped for every parameter.",
            ),
        ),
        "ok_clip_inactive": (
            STEP,
            dict(
                lr="0.5",
                settings="CLIP = 5.0",
                body=CLIP_BODY.format(clip="g = {k: v * 5.0 / norm for k, v in g.items()} if norm > 5.0 else g"),
                expect="ok",
                title="Clipping to norm 5 (the norm stays below it).",
            ),
        ),
        "ok_clip_active": (
            STEP,
            dict(
                lr="0.5",
                settings="CLIP = 0.05",
                body=CLIP_BODY.format(
                    clip="g = {k: v * 0.05 / (norm + 1e-6) for k, v in g.items()} if norm > 0.05 else g"
                ),
                expect="ok",
                title="Clipping to norm 0.05 (active).",
            ),
        ),
        "bug_clip_always": (
            STEP,
            dict(
                lr="0.5",
                settings="CLIP = 5.0",
                body=CLIP_BODY.format(clip="g = {k: v * 5.0 / norm for k, v in g.items()}"),
                expect="the clipping always rescales the gradient",
                title="Clipping that always rescales.",
            ),
        ),
        "bug_stale_gradient": (
            STEP,
            dict(lr="0.5", settings="", body=STALE, expect="a stale gradient", title="The previous call's gradient."),
        ),
        "bug_accumulated_gradient": (
            STEP,
            dict(
                lr="0.5",
                settings="",
                body=ACCUMULATE,
                expect="the gradient is never reset between calls",
                title="Gradients summed over every call.",
            ),
        ),
    }


REFUSED = {
    "refuse_rmsprop": (
        "OPTIMIZER name 'rmsprop'",
        'OPTIMIZER = {"name": "rmsprop"}',
    ),
    "refuse_amsgrad": (
        "the checker does not model amsgrad",
        'OPTIMIZER = {"name": "adam", "amsgrad": True}',
    ),
    "refuse_leaky_relu_undeclared": ("does any gradient match or a known mistake explain the numbers", None),
}

LEAKY = '''# EXIT 3: {expect}
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
'''


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for old in HERE.glob("*_case.py"):
        old.unlink()
    for name, (template, fields) in cases().items():
        (HERE / f"{name}_case.py").write_text(template.format(**fields))
    for name, (expect, setting) in REFUSED.items():
        if setting is None:
            text = LEAKY.replace("{expect}", expect)
        else:
            text = STEP.format(
                expect="-",
                title="An optimizer the checker does not model.",
                lr="0.01",
                settings=setting,
                body=ADAM.format(b1="0.9", b2="0.999", per_param="", update="m_hat / (np.sqrt(v_hat) + eps)"),
            ).replace("# EXPECT: -", f"# EXIT 3: {expect}")
        (HERE / f"{name}_case.py").write_text(text)
    print(f"wrote {len(cases()) + len(REFUSED)} cases")


if __name__ == "__main__":
    main()
