"""Write the planted-bug suite: one correct backprop template, and files with one deliberate mistake each.

Each file starts with `# EXPECT: <words the diagnosis must contain>` (or `ok`) and may set
`# OPTIONS: key=value ...` for `check_file` (engine, dtype, loss). Regenerate with
`python tests/checker_cases/make_cases.py` after changing the template; the files are committed so a
reader can open any of them and see the bug as a learner would write it.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent

TEMPLATE = '''# EXPECT: {expect}
# OPTIONS: {options}
"""{title}"""

import numpy as np

SIZES = {sizes}
ACTIVATION = "{act}"
INPUTS = {inputs}
TARGETS = {targets}
LR = {lr}
OPTIMIZER = {optimizer}
DT = np.{dtype}
velocity = {{}}
adam_m, adam_v, adam_t = {{}}, {{}}, [0]


def f(s):
    if ACTIVATION == "sigmoid":
        return 1 / (1 + np.exp(-s))
    if ACTIVATION == "tanh":
        return np.tanh(s)
    return np.maximum(s, 0)


def fprime(a):
    if ACTIVATION == "sigmoid":
        return a * (1 - a)
    if ACTIVATION == "tanh":
        return {tanh_prime}
    return (a > 0).astype(a.dtype)


def gradients(state, x, t):
    X, T = np.atleast_2d(np.asarray(x, DT)), np.atleast_2d(np.asarray(t, DT))
    keys = sorted({{k.rsplit(".", 1)[0] for k in state}}, key=int)
    W = {{k: np.asarray(state[k + ".weight"], DT) for k in keys}}
    acts, sums = [X], []
    for k in keys:
        s = acts[-1] @ W[k].T + np.asarray(state[k + ".bias"], DT)
        sums.append(s)
        acts.append(f(s))
    delta = {out_delta}
    grads = {{}}
    for i in reversed(range(len(keys))):
        k = keys[i]
        grads[k + "{wkey}"] = {wgrad}
        grads[k + ".bias"] = {bgrad}
        if i:
            delta = {hidden_delta}
    return {ret}
{extra}
'''

STEP = """

def step(state, x, t, lr):
    g = gradients(state, x, t)
    new = {{}}
    for k, w in state.items():
        {update}
    return new
"""

ERROR = """

def error(state, x, t):
    X = np.atleast_2d(np.asarray(x, DT))
    keys = sorted({{k.rsplit(".", 1)[0] for k in state}}, key=int)
    for k in keys:
        X = f(X @ np.asarray(state[k + ".weight"]).T + state[k + ".bias"])
    return float({error})
"""

BASE = dict(
    sizes="[2, 2, 2]",
    act="sigmoid",
    inputs="[2.78, 2.55]",
    targets="[0.1, 0.9]",
    lr="0.5",
    optimizer="None",
    dtype="float64",
    tanh_prime="1 - a * a",
    out_delta="(acts[-1] - T) * fprime(acts[-1])",
    wkey=".weight",
    wgrad="delta.T @ acts[i]",
    bgrad="delta.sum(axis=0)",
    hidden_delta="(delta @ W[k]) * fprime(acts[i])",
    ret="grads",
    options="",
    extra="",
)
BATCH = dict(
    sizes="[3, 4, 2]",
    inputs="[[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [0.2, 0.9, 0.1]]",
    targets="[[0.2, 0.8], [0.7, 0.1], [0.4, 0.6]]",
)
SQUARE = dict(sizes="[3, 3, 3]", inputs="[0.5, -1.0, 2.0]", targets="[0.2, 0.8, 0.5]")
SGD = "w - lr * g[k]"
MOMENTUM = "velocity[k] = 0.9 * velocity.get(k, 0) + g[k]\n        new[k] = w - lr * velocity[k]"
ADAM = (
    "adam_t[0] += 1 if k == '0.weight' else 0\n        n = adam_t[0]\n"
    "        adam_m[k] = 0.9 * adam_m.get(k, 0) + 0.1 * g[k]\n"
    "        adam_v[k] = 0.999 * adam_v.get(k, 0) + 0.001 * g[k] ** 2\n"
    "        new[k] = w - lr * {m} / ({v} + 1e-8)"
)
ADAM_OK = ADAM.format(m="(adam_m[k] / (1 - 0.9**n))", v="np.sqrt(adam_v[k] / (1 - 0.999**n))")


def step_extra(update: str) -> str:
    if "\n" not in update:
        update = f"new[k] = {update}"
    return STEP.format(update=update)


CASES: dict[str, dict[str, str]] = {
    # ------------------------------------------------------------------ correct files
    "ok_article_sigmoid": dict(expect="ok", title="The delta rule on the article's network."),
    "ok_batch_tanh_value": dict(
        BATCH, act="tanh", expect="ok", options="engine=value", title="Batch, tanh, value engine."
    ),
    "ok_batch_relu_float32": dict(
        BATCH,
        act="relu",
        dtype="float32",
        options="dtype=float32",
        expect="ok",
        title="Batch, ReLU, float32 code and model.",
    ),
    "ok_single_tanh_float32": dict(
        SQUARE, act="tanh", dtype="float32", options="dtype=float32", expect="ok", title="One sample, tanh, float32."
    ),
    "ok_mean_loss_3_outputs": dict(
        SQUARE,
        out_delta="(2 / 3) * (acts[-1] - T) * fprime(acts[-1])",
        options="loss=mean",
        expect="ok",
        title="Mean-MSE code, told with --loss mean.",
    ),
    "ok_batch_mean": dict(
        BATCH,
        out_delta="(acts[-1] - T) * fprime(acts[-1]) / len(X)",
        options="loss=half-sum-batch-mean",
        expect="ok",
        title="Batch-averaged code, told with --loss half-sum-batch-mean.",
    ),
    "ok_step_sgd": dict(extra=step_extra(SGD), ret="grads", expect="ok", title="A plain SGD step.").copy(),
    "ok_step_momentum": dict(
        BATCH,
        optimizer='{"name": "sgd", "momentum": 0.9}',
        extra=step_extra(MOMENTUM),
        expect="ok",
        title="SGD with momentum, 3 steps.",
    ),
    "ok_step_adam": dict(
        BATCH, optimizer='{"name": "adam"}', lr="0.01", extra=step_extra(ADAM_OK), expect="ok", title="Adam, 3 steps."
    ),
    "ok_error_onehot": dict(
        extra=ERROR.format(error="np.mean((X - np.atleast_2d(t)) ** 2)"),
        expect="ok",
        title="error() against the one-hot targets.",
    ),
    "ok_deep_value_float32": dict(
        sizes="[2, 3, 3, 2]",
        dtype="float32",
        options="engine=value dtype=float32",
        expect="ok",
        title="Three layers, value engine, float32 code.",
    ),
    # ------------------------------------------------------------------ planted bugs: the delta
    "bug_sign_flip": dict(out_delta="(T - acts[-1]) * fprime(acts[-1])", expect="sign flipped", title="t − a."),
    "bug_sign_flip_batch_float32": dict(
        BATCH,
        dtype="float32",
        options="dtype=float32",
        out_delta="(T - acts[-1]) * fprime(acts[-1])",
        expect="sign flipped",
        title="t − a.",
    ),
    "bug_output_sigma_missing": dict(
        out_delta="(acts[-1] - T)", expect="missing the derivative of its Sigmoid", title="No σ' at the output."
    ),
    "bug_output_sigma_missing_tanh_batch": dict(
        BATCH,
        act="tanh",
        out_delta="(acts[-1] - T)",
        expect="missing the derivative of its Tanh",
        title="No tanh' at the output.",
    ),
    "bug_hidden_sigma_missing": dict(
        hidden_delta="(delta @ W[k])",
        expect="missing the derivative of its Sigmoid",
        title="No σ' in the hidden delta.",
    ),
    "bug_hidden_relu_missing_batch": dict(
        BATCH,
        act="relu",
        hidden_delta="(delta @ W[k])",
        inputs="[[0.5, -1.0, 2.0], [-1.5, 0.3, -0.7], [0.2, -0.9, 0.1]]",
        expect="missing the derivative of its ReLU",
        title="No relu' in the hidden delta.",
    ),
    "bug_hidden_sigma_twice": dict(
        hidden_delta="(delta @ W[k]) * fprime(acts[i]) * fprime(acts[i])",
        expect="applied twice",
        title="σ' twice (the article's Level 2).",
    ),
    "bug_hidden_sigma_twice_value_float32": dict(
        BATCH,
        dtype="float32",
        options="engine=value dtype=float32",
        hidden_delta="(delta @ W[k]) * fprime(acts[i]) * fprime(acts[i])",
        expect="applied twice",
        title="σ' twice, value engine, float32.",
    ),
    "bug_output_sigma_twice_tanh": dict(
        SQUARE,
        act="tanh",
        out_delta="(acts[-1] - T) * fprime(acts[-1]) ** 2",
        expect="applied twice",
        title="tanh' twice at the output.",
    ),
    "bug_tanh_with_sigmoid_derivative": dict(
        BATCH,
        act="tanh",
        tanh_prime="a * (1 - a)",
        expect="the Sigmoid's derivative, but this layer's activation is Tanh",
        title="a(1 − a) in a tanh network.",
    ),
    "bug_sigmoid_prime_of_s": dict(
        hidden_delta="(delta @ W[k]) * fprime(sums[i - 1])",
        expect="from the weighted sum s instead of the activation a",
        title="σ'(s), not σ'(a).",
    ),
    "bug_transposed_backprop": dict(
        SQUARE,
        hidden_delta="(delta @ W[k].T) * fprime(acts[i])",
        expect="transposed weights of layer",
        title="W δ instead of Wᵀ δ.",
    ),
    "bug_transposed_backprop_batch_tanh": dict(
        SQUARE,
        act="tanh",
        inputs="[[0.5, -1.0, 2.0], [0.1, 0.2, 0.3]]",
        targets="[[0.2, 0.8, 0.5], [0.1, 0.1, 0.9]]",
        hidden_delta="(delta @ W[k].T) * fprime(acts[i])",
        expect="transposed weights of layer",
        title="W δ, batch.",
    ),
    # ------------------------------------------------------------------ planted bugs: ∂E/∂W and ∂E/∂b
    "bug_weight_grad_transposed": dict(wgrad="acts[i].T @ delta", expect="transpose", title="x δᵀ, not δ xᵀ."),
    "bug_weight_grad_transposed_batch": dict(BATCH, wgrad="acts[i].T @ delta", expect="transpose", title="x δᵀ."),
    "bug_weight_uses_own_output": dict(
        SQUARE,
        wgrad="delta.T @ acts[i + 1]",
        expect="own output a instead of its input",
        title="δ aᵀ with the layer's own a.",
    ),
    "bug_weight_uses_network_inputs": dict(
        sizes="[3, 3, 2]",
        inputs="[0.5, -1.0, 2.0]",
        targets="[0.2, 0.8]",
        wgrad="delta.T @ acts[0]",
        expect="network's inputs",
        title="x for every layer.",
    ),
    "bug_bias_wrong_axis_batch": dict(
        BATCH, bgrad="delta.sum(axis=1)", expect="manual has shape", title="Σ over outputs."
    ),
    "bug_bias_not_summed_batch": dict(
        BATCH, bgrad="delta[0]", expect="bias update itself", title="Only the first sample."
    ),
    "bug_misspelled_key": dict(wkey=".weigth", expect="misspelled key", title="A typo in the key."),
    "bug_off_by_one": dict(
        SQUARE,
        wgrad="np.hstack([delta.T @ acts[i][:, :-1], np.zeros((delta.shape[1], 1))])",
        expect="never computed",
        title="A loop that stops one short.",
    ),
    "bug_hidden_layer_zero": dict(hidden_delta="0 * delta @ W[k]", expect="manual is zero", title="Nothing sent back."),
    # ------------------------------------------------------------------ planted bugs: factors and conventions
    "bug_missing_half": dict(
        SQUARE, out_delta="2 * (acts[-1] - T) * fprime(acts[-1])", expect="the ½ is missing", title="Σ (a − t)², no ½."
    ),
    "bug_mean_loss_3_outputs": dict(
        SQUARE,
        out_delta="(2 / 3) * (acts[-1] - T) * fprime(acts[-1])",
        expect="--loss mean",
        title="Mean-MSE code checked as ½Σ: 0.6667x.",
    ),
    "bug_missing_1_over_n": dict(
        BATCH,
        sizes="[3, 2, 2]",
        inputs="[[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]",
        targets="[[0.2, 0.8], [0.7, 0.1]]",
        options="loss=half-sum-batch-mean",
        expect="the 1/N of the batch mean is missing. If you meant that loss, declare LOSS = 'half-sum'",
        title="Batch mean meant, 1/N forgotten (N = 2 = the fan-in of layer 2; no update, so not a per-input bias).",
    ),
    "bug_lr_in_gradient": dict(
        ret="{k: LR * g for k, g in grads.items()}",
        expect="includes the learning rate",
        title="The gradient already times lr.",
    ),
    "bug_lr_twice": dict(
        BATCH,
        inputs="[[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]",
        targets="[[0.2, 0.8], [0.7, 0.1]]",
        extra=step_extra("w - lr * lr * g[k]"),
        expect="the learning rate is applied twice: w − lr · (lr · ∂E/∂w) (told apart from the other cause(s) by "
        "rerunning: your code rerun on the first sample only of the batch gives 0.5x",
        title="lr twice (0.5 = 1/N too: told apart by a probe).",
    ),
    "bug_no_lr": dict(extra=step_extra("w - g[k]"), expect="learning rate is left out", title="w − g."),
    "bug_bias_per_input": dict(
        extra=step_extra(
            "new[k] = w - lr * g[k]\n"
            "        if k.endswith('bias'):\n"
            "            for _ in range(state[k[:-4] + 'weight'].shape[1]):\n"
            "                w = w - lr * g[k]\n"
            "            new[k] = w"
        ),
        expect="once per input",
        title="The bias update inside the loop over the weights (the article's Level 1).",
    ),
    "bug_update_before_backprop": dict(
        hidden_delta="(delta @ (W[k] - LR * delta.T @ acts[i])) * fprime(acts[i])",
        extra=step_extra(SGD),
        expect="after their update",
        title="Output weights updated before the hidden delta is computed.",
    ),
    # ------------------------------------------------------------------ planted bugs: optimizers and error()
    "bug_momentum_never_decays": dict(
        BATCH,
        optimizer='{"name": "sgd", "momentum": 0.9}',
        extra=step_extra(MOMENTUM.replace("0.9 * velocity", "velocity")),
        expect="never decays",
        title="v = v + g.",
    ),
    "bug_momentum_ignored": dict(
        optimizer='{"name": "sgd", "momentum": 0.9}',
        extra=step_extra(SGD),
        expect="buffer is not used",
        title="Momentum configured, plain SGD written.",
    ),
    "bug_momentum_damped": dict(
        BATCH,
        optimizer='{"name": "sgd", "momentum": 0.9}',
        extra=step_extra(
            MOMENTUM.replace(
                "0.9 * velocity.get(k, 0) + g[k]", "0.9 * velocity[k] + 0.1 * g[k] if k in velocity else g[k]"
            )
        ),
        expect="is damped",
        title="v = μ v + (1 − μ) g.",
    ),
    "bug_adam_no_bias_correction": dict(
        BATCH,
        optimizer='{"name": "adam"}',
        lr="0.01",
        extra=step_extra(ADAM.format(m="adam_m[k]", v="np.sqrt(adam_v[k])")),
        expect="bias correction is missing",
        title="Adam without m̂, v̂.",
    ),
    "bug_adam_no_sqrt": dict(
        BATCH,
        optimizer='{"name": "adam"}',
        lr="0.01",
        extra=step_extra(ADAM.format(m="(adam_m[k] / (1 - 0.9**n))", v="adam_v[k] / (1 - 0.999**n)")),
        expect="√v is not taken",
        title="Adam without the square root.",
    ),
    "bug_error_vs_labels": dict(
        extra=ERROR.format(error="np.mean((X - np.argmax(t)) ** 2)"),
        expect="class labels",
        title="error() against the class label (the article's Level 1).",
    ),
}


def main() -> None:
    for old in HERE.glob("*_case.py"):
        old.unlink()
    for name, case in CASES.items():
        fields = {**BASE, **case}
        (HERE / f"{name}_case.py").write_text(TEMPLATE.format(**fields))
    print(f"wrote {len(CASES)} cases")


if __name__ == "__main__":
    main()
