"""Why a hand-written gradient differs from autodiff, read from the numbers: the candidate causes.

Each cause is a recomputation of the gradient with one mistake made on purpose (the activation's
derivative left out, applied twice, the wrong formula, the delta sent back through the transposed
or the already-updated weights, a factor from another loss convention or from the learning rate).
A cause is named only when its recomputation equals the manual gradient. When one factor fits
several causes, the checker reruns the comparison with another batch size or learning rate (the
`probe` callback) and keeps the causes whose prediction still holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .trace import FORMULA, LayerTrace

Close = Callable[[np.ndarray, np.ndarray], bool]

# The factor c of E = c · Σ (output − target)² for each loss convention (N samples, K outputs).
FACTORS: dict[str, Callable[[int, int], float]] = {
    "half-sum": lambda n, k: 0.5,
    "half-sum-batch-mean": lambda n, k: 0.5 / n,
    "mean": lambda n, k: 1.0 / (n * k),
    "sum": lambda n, k: 1.0,
    "bce": lambda n, k: 1.0,
    "bce-mean": lambda n, k: 1.0 / (n * k),
    "cross-entropy": lambda n, k: 1.0,
    "cross-entropy-mean": lambda n, k: 1.0 / n,
}
WORDS = {
    "bce": "binary cross-entropy summed over the batch",
    "bce-mean": "binary cross-entropy averaged over every output and sample",
    "cross-entropy": "softmax cross-entropy summed over the batch",
    "cross-entropy-mean": "softmax cross-entropy averaged over the batch",
    "half-sum": "½ Σ (output − target)² summed over the batch",
    "half-sum-batch-mean": "½ Σ (output − target)² averaged over the batch",
    "mean": "the mean of (output − target)² over every output and sample",
    "sum": "Σ (output − target)² without the ½",
}


@dataclass
class Context:
    """What the diagnosis may use: batch size, outputs, lr, the loss convention, each layer's trace."""

    batch: int
    outputs: int
    lr: float | None
    step_form: bool
    convention: str
    layers: Mapping[str, LayerTrace]
    order: list[str]
    owner: Mapping[str, tuple[str, str]]  # state-dict key -> (its module, its part: "weight"/"bias" in a layer)
    auto: Mapping[str, np.ndarray]
    state: Mapping[str, np.ndarray]
    probe: Callable[..., float | None] | None = field(default=None, repr=False)
    global_ratio: float | None = None  # set when every parameter is off by the same factor (a loss-wide cause)


def constant_ratio(auto: np.ndarray, manual: np.ndarray) -> float | None:
    """r if manual == r · auto elementwise (to 1e-6), else None."""
    a, m = auto.reshape(-1), manual.reshape(-1)
    if a.shape != m.shape:
        return None
    scale = float(np.max(np.abs(a), initial=0.0))
    nonzero = np.abs(a) > 1e-9 * scale
    if not nonzero.any() or np.any(np.abs(m[~nonzero]) > 1e-9 * max(scale, 1e-300) * 1e3):
        return None
    r = m[nonzero] / a[nonzero]
    return float(np.median(r)) if np.allclose(r, np.median(r), rtol=1e-5, atol=1e-12) else None


# ---------------------------------------------------------------------- one parameter


def diagnose_layer_param(name: str, auto: np.ndarray, manual: np.ndarray, close: Close, ctx: Context) -> str:
    """What the difference looks like, tried from the most specific pattern to the most general."""
    if not np.all(np.isfinite(manual)):
        bad = int(np.size(manual) - np.count_nonzero(np.isfinite(manual)))
        return f"manual holds NaN or an infinity in {bad} of {np.size(manual)} elements (an overflow in exp, a 0/0?)"
    if auto.ndim == 2 and auto.shape[0] == auto.shape[1] and close(manual, auto.T):
        return (
            "manual is the transpose of autodiff: the weight is (out, in), so ∂E/∂W[j, i] = δ_j · x_i "
            "(row j = neuron j); the manual code indexes it [i, j]"
        )
    ratio = constant_ratio(auto, manual)
    if ratio is not None:
        if np.isclose(ratio, -1.0, rtol=1e-4):
            return "sign flipped: manual = −autodiff (target − output instead of output − target, or += for −=)"
        if abs(ratio) < 1e-9:
            return "manual is zero: no gradient reached this parameter"
        text = explain_ratio(ratio, name, ctx)
        if ": " in text or ctx.global_ratio is not None:  # a cause named, or one factor for the whole network
            return text
        return _layer_cause(name, manual, close, ctx) or text  # one output: a wrong δ is a constant factor too
    cause = _layer_cause(name, manual, close, ctx)
    if cause:
        return cause
    aliased = _aliased_rows(auto, manual, close)
    if aliased:
        return aliased
    if auto.ndim == 2:
        rows = [constant_ratio(auto[j], manual[j]) for j in range(auto.shape[0])]
        if all(r is not None for r in rows):
            factors = ", ".join(f"{r:.4g}" for r in rows)  # type: ignore[str-format]
            return (
                f"each row j is autodiff's row scaled by its own factor ({factors}): the inputs factor of "
                "∂E/∂W = δ xᵀ is right, the neuron's delta δ_j is wrong"
            )
    return _partial(auto, manual, close) or (
        "differs with no simple pattern (not a constant factor, sign flip, transpose, activation derivative "
        "or a few elements)"
    )


def _layer_cause(name: str, manual: np.ndarray, close: Close, ctx: Context) -> str:
    """Recompute this parameter's gradient with one known mistake at a time; name the one that fits."""
    prefix, kind = ctx.owner.get(name, ("", name))
    layer = ctx.layers.get(prefix)
    if layer is None or kind not in ("weight", "bias"):
        return ""

    def grad(delta: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        g = delta.T @ (layer.x if x is None else x) if kind == "weight" else delta.sum(axis=0)
        return g.reshape(manual.shape) if g.size == manual.size else g

    def fits(delta: np.ndarray | None, x: np.ndarray | None = None) -> bool:
        if delta is None or not np.all(np.isfinite(delta)):
            return False
        g = grad(delta, x)
        return g.shape == manual.shape and close(manual, g)

    candidates: list[tuple[np.ndarray | None, str]] = _output_causes(prefix, layer, ctx)
    if layer.kind and layer.da is not None:
        act, formula = layer.kind, FORMULA[layer.kind]
        d = layer.derivative()
        candidates.append(
            (
                layer.da,
                f"the delta of layer {prefix} is missing the derivative of its {act}, f'(s) = {formula}: "
                f"δ = ∂E/∂a · {formula if formula.startswith('a(') else '(' + formula + ')'}",
            )
        )
        candidates.append(
            (layer.ds * d, f"the derivative of the {act}, {formula}, is applied twice in the delta of layer {prefix}")
        )
        for other in ("Sigmoid", "Tanh"):
            if other != act:
                candidates.append(
                    (
                        layer.da * layer.derivative(other),
                        f"the delta of layer {prefix} uses {FORMULA[other]}, the {other}'s derivative, but this "
                        f"layer's activation is {act}, whose derivative is {formula}",
                    )
                )
        if act != "ReLU":
            candidates.append(
                (
                    layer.da * layer.derivative(of="s"),
                    f"the derivative in the delta of layer {prefix} is computed from the weighted sum s instead of "
                    f"the activation a: {formula} needs a = {act.lower()}(s), not s",
                )
            )
    nxt = _next(prefix, ctx)
    if nxt is not None:
        w_key = nxt.params["weight"]
        w = ctx.state.get(w_key)
        d = layer.derivative() if layer.kind else np.ones_like(layer.ds)
        if w is not None and w.shape[0] == w.shape[1]:
            candidates.append(
                (
                    (nxt.ds @ w.T) * d,
                    f"the delta of layer {prefix} is sent back through the transposed weights of layer {nxt.prefix}: "
                    f"δ_h = Σ_k δ_k W[k, h] (a column of W, Wᵀ δ), not Σ_k δ_k W[h, k]",
                )
            )
        for other in ctx.layers.values():  # an index off by one: another layer's W of the same shape
            w_other = ctx.state.get(other.params.get("weight", ""))
            if other.prefix != nxt.prefix and w is not None and np.shape(w_other) == w.shape:
                candidates.append(
                    (
                        (nxt.ds @ w_other) * d,
                        f"the delta of layer {prefix} is sent back through the weights of layer {other.prefix} "
                        f"instead of those of layer {nxt.prefix}, the layer above it (a layer index off by one?)",
                    )
                )
        if w is not None and ctx.lr:  # a step(), or gradients() that reads the learning rate
            updated = w - ctx.lr * ctx.auto[w_key]
            candidates.append(
                (
                    (nxt.ds @ updated) * d,
                    f"the delta of layer {prefix} is sent back through layer {nxt.prefix}'s weights after their "
                    "update: compute every delta first, then change the weights",
                )
            )
    for delta, text in candidates:
        if fits(delta):
            return text
    if kind == "weight":
        if layer.a is not None and layer.a.shape[1] == layer.x.shape[1] and fits(layer.ds, layer.a):
            return f"∂E/∂W of layer {prefix} uses the layer's own output a instead of its input x: ∂E/∂W = δ xᵀ"
        first = ctx.layers.get(ctx.order[0]) if ctx.order else None
        if (
            first is not None
            and prefix != first.prefix
            and first.x.shape[1] == layer.x.shape[1]
            and fits(layer.ds, first.x)
        ):
            return (
                f"∂E/∂W of layer {prefix} uses the network's inputs instead of this layer's inputs "
                "(the previous layer's outputs)"
            )
    return ""


# Causes whose mistake is not on the line that first holds the wrong value (the rows were made aliased where the
# list was built; the += that fills them is right): the line pointer names the quantity instead.
ALIASED_ROWS = "the rows are one list, as `[[0] * n] * m` makes"
ELSEWHERE = (ALIASED_ROWS,)


def _aliased_rows(auto: np.ndarray, manual: np.ndarray, close: Close) -> str:
    """Every row the same list: `[[0] * n] * m` makes m references to one row, so each write lands in all of them."""
    if auto.ndim != 2 or auto.shape[0] < 2 or not np.all(manual == manual[0]):
        return ""
    for row, how in ((auto[-1], "the last row's values"), (auto.sum(axis=0), "the sum of all rows")):
        if close(manual, np.broadcast_to(row, auto.shape)):
            return (
                f"every row of your gradient holds {how}: {ALIASED_ROWS} (m references to the same row); build "
                "them with `[[0] * n for _ in range(m)]`"
            )
    return ""


def _output_causes(prefix: str, layer: LayerTrace, ctx: Context) -> list[tuple[np.ndarray | None, str]]:
    """Mistakes at the output layer that depend on the loss: σ′ kept with BCE, the softmax's derivative, f′ on a
    linear output."""
    if not ctx.order or prefix != ctx.order[-1]:
        return []
    out: list[tuple[np.ndarray | None, str]] = []
    ds, s = layer.ds, layer.s
    if ctx.convention.startswith("bce") and layer.kind == "Sigmoid" and layer.a is not None:
        a = layer.a
        out.append(
            (
                ds * a * (1 - a),
                "with binary cross-entropy on a sigmoid the output δ is a − t: σ′ cancels against the loss's "
                "derivative (∂E/∂a = (a − t) / (a(1 − a))), so multiplying by a(1 − a) applies it a second time",
            )
        )
    if ctx.convention.startswith("cross-entropy") and layer.kind is None:
        z = np.exp(s - s.max(axis=1, keepdims=True))
        p = z / z.sum(axis=1, keepdims=True)
        out.append(
            (
                ds * p * (1 - p),
                "the softmax's derivative is already in δ = softmax(s) − t (softmax and cross-entropy together); "
                "multiplying by p(1 − p) applies it a second time",
            )
        )
    if layer.kind is None and not ctx.convention.startswith("cross-entropy"):
        for name, d in (("tanh", 1 - s * s), ("sigmoid", s * (1 - s)), ("ReLU", (s > 0).astype(np.float64))):
            out.append(
                (
                    ds * d,
                    f"the output layer is linear (identity): δ = ∂E/∂s with no f′, but your δ multiplies by the "
                    f"{name}'s derivative",
                )
            )
        sig = 1 / (1 + np.exp(-s))
        out.append(
            (
                ds * sig * (1 - sig),
                "the output layer is linear (identity): δ = ∂E/∂s with no f′, but your δ multiplies by σ′(s)",
            )
        )
    return out


def _next(prefix: str, ctx: Context) -> LayerTrace | None:
    if prefix not in ctx.order:
        return None
    i = ctx.order.index(prefix)
    return ctx.layers[ctx.order[i + 1]] if i + 1 < len(ctx.order) else None


def _partial(auto: np.ndarray, manual: np.ndarray, close: Close) -> str:
    """Right except for a few elements: name them, and say if they are zero (never computed)."""
    if auto.size < 2:
        return ""
    scale = float(np.max(np.abs(auto), initial=0.0))
    bad = ~np.isclose(manual, auto, rtol=1e-6, atol=1e-9 * max(scale, 1e-300))
    fixed = np.where(bad, auto, manual)
    if not bad.any() or bad.all() or not close(fixed, auto):
        return ""
    where = [tuple(int(i) for i in idx) for idx in np.argwhere(bad)]
    shown = ", ".join(str(w[0]) if len(w) == 1 else str(list(w)) for w in where[:6])
    if np.all(manual[bad] == 0):
        return (
            f"right except at element(s) {shown}, where manual is 0: those were never computed "
            "(a loop that stops one short, e.g. range(n − 1)?)"
        )
    return f"right except at element(s) {shown}"


# ---------------------------------------------------------------------- a constant factor


def _ratio_candidates(name: str, ctx: Context, n: int, lr: float | None) -> list[tuple[str, float, str]]:
    """(cause, the factor it predicts for batch n and learning rate lr, the sentence for a learner)."""
    k = ctx.outputs
    mine = FACTORS[ctx.convention]
    out: list[tuple[str, float, str]] = []
    for conv, factor in FACTORS.items():
        if conv == ctx.convention or ctx.global_ratio is None:  # a loss convention scales every gradient
            continue
        if _family(conv) != _family(ctx.convention):  # only a reduction of the same loss is a constant factor
            continue
        text = f"your code differentiates {WORDS[conv]}; the checker's loss is {WORDS[ctx.convention]}"
        if (conv == "half-sum" and ctx.convention == "half-sum-batch-mean") or (
            conv == "sum" and ctx.convention == "mean"
        ):
            text += ": the 1/N of the batch mean is missing"
        if conv == "sum" and ctx.convention == "half-sum":
            text += ": the ½ is missing (d/do ½(o − t)² = o − t, not 2(o − t))"
        text += f". If you meant that loss, declare LOSS = {conv!r} in the file (or pass --loss {conv})"
        out.append((f"loss {conv}", factor(n, k) / mine(n, k), text))
    if lr:
        if ctx.step_form:
            out.append(("lr twice", lr, "the learning rate is applied twice: w − lr · (lr · ∂E/∂w)"))
            out.append(("no lr", 1 / lr, "the learning rate is left out of the update: w − ∂E/∂w"))
        else:
            out.append(("lr in gradient", lr, "your gradient includes the learning rate: you return lr · ∂E/∂w"))
    if ctx.global_ratio is not None and mine(2, k) != mine(1, k) and (n > 1 or ctx.batch > 1):
        out.append(
            (
                "mean twice",
                1.0 / n,
                f"the batch mean divides by N = {n} twice: the loss is already averaged over the batch, so "
                "∂E/∂w has one 1/N, not two",
            )
        )
    prefix, part = ctx.owner.get(name, ("", name))
    if n > 1 and ctx.global_ratio is None and part in ("weight", "bias"):  # one part reduced unlike the others
        other = "weights'" if part == "bias" else "biases'"
        out.append(
            (
                f"{part} averaged",
                1.0 / n,
                f"the {part} gradient is averaged over the batch (divided by N = {n}) where the {other} is summed: "
                "every parameter needs the same reduction over the samples",
            )
        )
        out.append(
            (
                f"{part} summed",
                float(n),
                f"the {part} gradient is summed over the batch where the {other} is averaged (divided by N = {n}): "
                "every parameter needs the same reduction over the samples",
            )
        )
    layer = ctx.layers.get(prefix)
    weight = ctx.state.get(layer.params["weight"]) if layer is not None and part == "bias" else None
    if weight is not None and weight.ndim == 2 and weight.shape[1] > 1 and ctx.step_form:  # an update in a loop
        fan_in = weight.shape[1]
        out.append(
            (
                "per input",
                float(fan_in),
                f"the bias is updated once per input of the layer ({fan_in} inputs) instead of once: its update "
                "sits inside the loop over the weights",
            )
        )
    return out


def _family(convention: str) -> str:
    return "bce" if convention.startswith("bce") else "ce" if convention.startswith("cross") else "mse"


def explain_ratio(ratio: float, name: str, ctx: Context) -> str:
    """`manual is exactly r x autodiff`, and which known causes predict r (told apart by probing if several)."""
    head = f"manual is exactly {ratio:.4g}x autodiff"
    fits = [c for c in _ratio_candidates(name, ctx, ctx.batch, ctx.lr) if np.isclose(c[1], ratio, rtol=1e-4)]
    if len(fits) > 1 and ctx.probe is not None:
        fits, how = _tell_apart(fits, name, ctx)
    else:
        how = ""
    if not fits:
        return head
    if len(fits) == 1:
        return f"{head}: {fits[0][2]}{how}"
    causes = "; or ".join(c[2] for c in fits)
    return f"{head}, which fits more than one cause (the checker could not tell them apart): {causes}"


def _tell_apart(
    fits: list[tuple[str, float, str]], name: str, ctx: Context
) -> tuple[list[tuple[str, float, str]], str]:
    """Rerun with a smaller batch and with another learning rate; keep the causes whose factor still fits.

    The note says in words what was rerun, what it gave, and what the dropped causes predicted instead.
    """
    assert ctx.probe is not None
    how = []
    before = list(fits)
    if ctx.batch >= 2:
        r = ctx.probe(name, batch=ctx.batch - 1)
        if r is not None:
            again = {c[0]: c for c in _ratio_candidates(name, ctx, ctx.batch - 1, ctx.lr)}
            dropped = [c for c in fits if c[0] not in again or not np.isclose(again[c[0]][1], r, rtol=1e-4)]
            fits = [c for c in fits if c not in dropped]
            how.append(
                f"your code rerun on {_first(ctx.batch - 1)} of the batch gives {r:.4g}x" + _predicted(dropped, again)
            )
    if len(fits) > 1 and ctx.lr and ctx.step_form:
        lr2 = ctx.lr * 0.5
        r = ctx.probe(name, lr=lr2)
        if r is not None:
            again = {c[0]: c for c in _ratio_candidates(name, ctx, ctx.batch, lr2)}
            dropped = [c for c in fits if c[0] not in again or not np.isclose(again[c[0]][1], r, rtol=1e-4)]
            fits = [c for c in fits if c not in dropped]
            how.append(f"your step rerun at lr {lr2:g} gives {r:.4g}x" + _predicted(dropped, again))
    if not (how and len(fits) == 1 and len(before) > 1):
        return fits, ""
    return fits, f" (told apart from the other cause(s) by rerunning: {'; '.join(how)})"


def _first(n: int) -> str:
    return "the first sample only" if n == 1 else f"its first {n} samples"


def _short(key: str) -> str:
    return f"the {key.removeprefix('loss ')} loss" if key.startswith("loss ") else SHORT.get(key, key)


def _predicted(dropped: list[tuple[str, float, str]], again: Mapping[str, tuple[str, float, str]]) -> str:
    """`, where «cause» would give 0.5x` for the causes a rerun ruled out."""
    said = [
        f"{_short(c[0])} would give {again[c[0]][1]:.4g}x" if c[0] in again else f"{_short(c[0])} would not apply"
        for c in dropped
    ]
    return f", where {' and '.join(said)}" if said else ""


SHORT = {
    "lr twice": "the learning rate applied twice",
    "no lr": "a learning rate left out",
    "lr in gradient": "lr inside the gradient",
    "per input": "a bias updated once per input",
    "mean twice": "a batch mean divided by N twice",
    "weight averaged": "weights averaged over the batch",
    "bias averaged": "biases averaged over the batch",
    "weight summed": "weights summed over the batch",
    "bias summed": "biases summed over the batch",
}


def two_outputs_note(ctx: Context) -> str:
    """Why ½Σ and the mean hide each other with two outputs (the article's network)."""
    if ctx.outputs == 2 and (
        ctx.convention == "half-sum-batch-mean" or (ctx.convention == "half-sum" and ctx.batch == 1)
    ):
        return (
            "note: with 2 outputs, ½ Σ over the outputs and the mean over the outputs are the same number, so code "
            "written for either convention passes this check (that is why the article's mean-squared error and its "
            "½ Σ never disagree); try 3 outputs to tell them apart"
        )
    return ""
