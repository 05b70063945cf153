"""`compare_gradients`: a hand-written backprop against autodiff, with a diagnosis from the numbers.

The user's `manual(state, inputs, targets)` gets a copy of the model's state dict (name → NumPy
array, `Linear` weights `(out, in)`) and returns either

* their gradient for each parameter: `{"0.weight": dE/dW, ...}`, or
* their parameters after one SGD step and the learning rate: `({"0.weight": W', ...}, lr)`,
  turned into a gradient by `(W − W') / lr` (`from_step(step, lr)` builds such a manual, and lets
  the checker rerun it at another learning rate to tell causes apart).

Autodiff runs on the same model and state. Each parameter is compared with a tolerance scaled to
the dtypes involved and to the gradient's size, and a wrong one is diagnosed from the numbers
alone: a constant ratio that a known convention or slip explains (mean vs ½Σ, lr applied twice,
an update per input), a transpose, the activation's derivative missing, twice or the wrong one
(for the activation actually in the model), a delta sent back through the wrong weights, or a
gradient right except for a few elements. Where one factor fits several causes, the checker reruns
with another batch size or learning rate to tell them apart.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ArgumentTypeError, GraphError, ShapeError, TinygradEduError
from . import trace
from .diagnose import Context, diagnose_layer_param

Manual = Callable[[dict[str, np.ndarray], np.ndarray, np.ndarray], Any]

# The drawing's colours: red means one thing, a wrong parameter (the step-through page marks its step blue).
WRONG_FILL, FIRST_WRONG_FILL = "#e31a1c", "#ff7f00"

# Relative tolerance per precision: the error a correct float computation of a few layers stays within,
# measured against the largest gradient of the parameter (a gradient near zero is compared at that scale).
RTOL = {"float64": 1e-7, "float32": 1e-4, "float16": 1e-2}
ATOL = {"float64": 1e-12, "float32": 1e-7, "float16": 1e-4}

# Loss conventions, as the factor c in E = c · Σ_batch Σ_out (output − target)², with N the batch size
# and K the number of outputs. The checker differentiates the one it is told (default the article's).
CONVENTIONS: dict[str, tuple[str, Callable[[int, int], float]]] = {
    "half-sum": ("E = ½ Σ (output − target)², summed over the batch (the article's)", lambda n, k: 0.5),
    "half-sum-batch-mean": ("E = ½ Σ (output − target)² per sample, averaged over the batch", lambda n, k: 0.5 / n),
    "mean": (
        "E = the mean of (output − target)² over every output and sample (PyTorch's MSELoss())",
        lambda n, k: 1.0 / (n * k),
    ),
    "sum": ("E = Σ (output − target)², no ½", lambda n, k: 1.0),
    "bce": ("binary cross-entropy on a sigmoid output, summed over the batch", lambda n, k: 1.0),
    "bce-mean": (
        "binary cross-entropy on a sigmoid output, averaged over every output (BCELoss())",
        lambda n, k: 1 / (n * k),
    ),
    "cross-entropy": ("softmax with cross-entropy, summed over the batch", lambda n, k: 1.0),
    "cross-entropy-mean": (
        "softmax with cross-entropy, averaged over the batch (CrossEntropyLoss())",
        lambda n, k: 1 / n,
    ),
}


def loss_function(convention: str) -> Callable[[Any, Any], Any]:
    """The loss for a convention name of `CONVENTIONS`, for either engine, on one sample or a batch."""
    if convention not in CONVENTIONS:
        raise ShapeError(f"loss convention {convention!r}: choose one of {', '.join(CONVENTIONS)}")
    factor = CONVENTIONS[convention][1]

    def loss_fn(output: Any, target: Any) -> Any:
        t = np.asarray(target, dtype=np.float64)
        n, k = (t.shape[0], t.shape[1]) if t.ndim == 2 else (1, t.size)
        c = float(factor(n, k))
        if convention.startswith("bce"):
            return _binary_cross_entropy(output, t) * c
        if convention.startswith("cross-entropy"):
            return _cross_entropy(output, t) * c
        if hasattr(output, "shape"):  # a Tensor
            diff = output - t.astype(np.asarray(output.data).dtype)
            return (diff * diff).sum() * c
        flat = _flatten(output)
        return sum(((o - v) ** 2 for o, v in zip(flat, t.reshape(-1).tolist())), start=0.0) * c

    loss_fn.convention = convention  # type: ignore[attr-defined]
    return loss_fn


def _binary_cross_entropy(output: Any, t: np.ndarray) -> Any:
    """−Σ [t log a + (1 − t) log(1 − a)] over every output and sample."""
    if hasattr(output, "shape"):  # a Tensor
        tt = t.astype(np.asarray(output.data).dtype).reshape(output.shape)
        return -((output.log() * tt) + (1.0 - output).log() * (1.0 - tt)).sum()
    terms = [-(o.log() * v + (1.0 - o).log() * (1.0 - v)) for o, v in zip(_flatten(output), t.reshape(-1).tolist())]
    return sum(terms, start=0.0)


def _cross_entropy(output: Any, t: np.ndarray) -> Any:
    """−Σ_samples Σ_k t_k log softmax(s)_k, t one-hot (or any distribution), softmax over each sample's outputs."""
    from ..nn.functional import log_softmax

    if hasattr(output, "shape"):  # a Tensor
        tt = t.astype(np.asarray(output.data).dtype).reshape(output.shape)
        return -(output.log_softmax(axis=-1) * tt).sum()
    samples = output if output and isinstance(output[0], (list, tuple)) else [output]
    rows = t.reshape(len(samples), -1).tolist()
    total: Any = 0.0
    for sample, row in zip(samples, rows):
        logp = log_softmax(list(sample))
        total = total - sum((p * v for p, v in zip(logp, row) if v), start=0.0)
    return total


class StepManual:
    """A `manual` built from `step(state, inputs, targets, lr) -> new state`: the gradient is (old − new) / lr."""

    def __init__(self, step: Callable[..., Any], lr: float) -> None:
        self.step, self.lr = step, float(lr)

    def with_lr(self, lr: float) -> StepManual:
        return StepManual(self.step, lr)

    def __call__(self, state: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> Any:
        return self.step(state, x, t, self.lr), self.lr


def from_step(step: Callable[..., Any], lr: float) -> StepManual:
    """A `manual` for code that updates the parameters instead of returning gradients."""
    return StepManual(step, lr)


def _flatten(x: Any) -> list[Any]:
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flatten(item)]
    return [x]


@dataclass
class ParamCheck:
    """One parameter: autodiff and manual gradients, their largest errors, and the diagnosis."""

    name: str
    autodiff: np.ndarray
    manual: np.ndarray | None
    abs_err: float
    rel_err: float
    ok: bool
    diagnosis: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "autodiff": self.autodiff.tolist(),
            "manual": None if self.manual is None else self.manual.tolist(),
            "abs_err": self.abs_err,
            "rel_err": self.rel_err,
            "ok": self.ok,
            "diagnosis": self.diagnosis,
        }


@dataclass
class GradientReport:
    """What `compare_gradients` found: one `ParamCheck` per parameter and network-level findings.

    `print(report)` gives a table; `report.to_json()` the same as JSON; `report.draw()` the graph
    with the wrong parameters filled red and the first wrong intermediate quantity marked.
    `tolerance` says what "equal" meant: `{"rtol", "atol", "dtype"}`.
    """

    params: list[ParamCheck]
    findings: list[str]
    loss: float
    first_wrong: str | None = None  # e.g. "δ of layer 0 (∂E/∂s, ...)" — the first quantity off, from the loss down
    first_param: str | None = None  # the parameter whose manual gradient holds that quantity (a δ: its layer's bias)
    first_name: str | None = None  # the quantity's short name: "δ of layer 0", "2.bias"
    tolerance: dict[str, Any] = field(default_factory=dict)
    article: bool = False  # the article's 2-2-2 network: parameters and δs also carry the article's names
    _graph: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.params)

    def __getitem__(self, name: str) -> ParamCheck:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{name!r}: the report has {', '.join(p.name for p in self.params)}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "loss": self.loss,
            "tolerance": self.tolerance,
            "params": [p.to_dict() for p in self.params],
            "findings": self.findings,
            "first_wrong": self.first_wrong,
            "article": self.article,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def __str__(self) -> str:
        return format_report(self.to_dict())

    def draw(self, **draw_kwargs: Any) -> Any:
        """The graph (`tinygrad_edu.viz.draw`) with wrong parameters red and the first wrong quantity orange."""
        if not self._graph:
            raise GraphError(
                "report.draw(): this report carries no graph (a pickle keeps the numbers and findings, not the "
                "graph of the loss); draw the report compare_gradients returned, or call it again"
            )
        return _highlight(self, **draw_kwargs)

    # Copies share the recorded graph (drawing only reads it, and a graph's results cannot be copied);
    # a pickle leaves it out, as a pickled Tensor result would have to take its whole graph.
    def __copy__(self) -> GradientReport:
        return dataclasses.replace(self, _graph=self._graph)

    def __deepcopy__(self, memo: dict[int, Any]) -> GradientReport:
        kept = {
            f.name: copy.deepcopy(getattr(self, f.name), memo) for f in dataclasses.fields(self) if f.name != "_graph"
        }
        return GradientReport(**kept, _graph=self._graph)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_graph": {}}


def format_report(report: Mapping[str, Any]) -> str:
    """The text table of a report, from its `to_dict()` form (so a child process can send JSON)."""
    head = f"{'parameter':<12} {'shape':<8} {'max |autodiff|':>14} {'max abs err':>12} {'max rel err':>12}  verdict"
    lines = [head, "-" * len(head)]
    for p in report["params"]:
        auto = np.asarray(p["autodiff"], dtype=np.float64)
        shape = "x".join(map(str, auto.shape)) or "()"
        lines.append(
            f"{p['name']:<12} {shape:<8} {np.max(np.abs(auto), initial=0):>14.6g} {p['abs_err']:>12.3g} "
            f"{p['rel_err']:>12.3g}  {'ok' if p['ok'] else 'WRONG'}"
        )
    article = bool(report.get("article"))
    for p in report["params"]:
        if not p["ok"]:
            lines.append(f"  {_label(p['name'], article)}: {p['diagnosis']}")
    tol = report.get("tolerance") or {}
    if tol:
        lines.append(
            f"(equal means |manual − autodiff| ≤ atol + rtol · max|autodiff| with rtol {tol['rtol']:.3g}, "
            f"atol {tol['atol']:.3g}: {tol['why']})"
        )
    lines.append("")
    lines += [f"* {_article_words(f) if article else f}" for f in report["findings"]]
    return "\n".join(lines)


def _label(key: str, article: bool) -> str:
    """`2.weight (w5, w6, w7, w8)` for the article's network (the names of `article_names`), else the key."""
    from .. import article_names

    names = article_names.matrix_names(key) if article else None
    if not names:
        return key
    flat = [n for row in names for n in (row if isinstance(row, list) else [row])]
    return f"{key} ({', '.join(flat)})"


def _article_words(finding: str) -> str:
    """The article's δ names beside a layer's δ: `δ of layer 2` -> `δ of layer 2 (δ_o1, δ_o2)`."""
    from .. import article_names

    for layer, node in (("0", "s_h"), ("2", "s_o")):
        deltas = ", ".join(article_names.delta_name(n) or n for n in article_names.node_names(node) or ())
        finding = finding.replace(f"δ of layer {layer} ", f"δ of layer {layer} ({deltas}) ")
    for key in ("0.weight", "0.bias", "2.weight", "2.bias"):
        if finding.endswith(f": {key}"):
            finding = finding[: -len(key)] + _label(key, True)
    return finding


# ---------------------------------------------------------------------- the comparison


def compare_gradients(
    model: Any,
    loss_fn: Callable[[Any, Any], Any],
    inputs: Any,
    targets: Any,
    manual: Manual,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    convention: str | None = None,
) -> GradientReport:
    """Compare `manual`'s gradients with autodiff on `model` (an `nn.Module`) at its current state.

    `loss_fn(model_output, targets)` builds the loss (e.g. `nn.MSELoss(reduction="half_sum")`, or
    `loss_function("mean")`). `rtol`/`atol` default to the precision of the model and of what
    `manual` returns (float64: 1e-7, float32: 1e-4). `convention` names the loss for the diagnosis
    (read from `loss_function`'s result, else from an `MSELoss`, else assumed "half-sum").
    The model's parameters are left as they were; their `.grad` holds the autodiff gradients.
    """
    state = {k: np.array(v, dtype=np.float64) for k, v in model.state_dict().items()}
    dtypes = {np.asarray(v).dtype.name for v in model.state_dict().values()}
    auto, loss, layers, graph = autodiff(model, loss_fn, inputs, targets)
    owner = dict(trace.owners(model))  # each parameter's module, and its part there (weight, bias) if a layer's
    owner.update({key: (layer.prefix, part) for layer in layers for part, key in layer.params.items()})
    given = manual(
        {k: v.copy() for k, v in state.items()},
        np.array(inputs, dtype=np.float64),
        np.array(targets, dtype=np.float64),
    )
    grads, unknown, manual_dtypes = _as_gradients(given, state)
    lr = getattr(manual, "lr", None)
    if lr is None and isinstance(given, tuple):
        lr = float(given[1])
    tol = tolerance_for(dtypes | manual_dtypes, rtol, atol, lr if isinstance(given, tuple) else None, state)
    x2 = np.asarray(inputs, dtype=np.float64)
    t2 = np.asarray(targets, dtype=np.float64)
    ctx = Context(
        batch=x2.shape[0] if x2.ndim == 2 else 1,
        outputs=t2.shape[-1] if t2.ndim else 1,
        lr=lr,
        step_form=isinstance(given, tuple),
        convention=convention or _convention_of(loss_fn),
        layers={layer.prefix: layer for layer in layers},
        order=[layer.prefix for layer in layers],
        owner=owner,
        auto=auto,
        state=state,
    )
    probes = _Probes(model, loss_fn, inputs, targets, manual, state)
    ctx.probe = probes
    ctx.global_ratio = _global_ratio(auto, grads)
    checks = [_check(name, a, grads.get(name), tol, ctx, unknown) for name, a in auto.items()]
    findings, first, marks = _findings(checks, ctx, unknown)
    if probes.used:  # leave .grad as the documented full-batch autodiff gradients
        autodiff(model, loss_fn, inputs, targets)
    tolerance = {k: tol[k] for k in ("rtol", "atol", "why")}
    report = GradientReport(checks, findings, loss, *(first or (None, None, None)), tolerance)
    report._graph = {**graph, "marks": marks}
    return report


def _global_ratio(auto: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> float | None:
    from .diagnose import constant_ratio

    ratios = [
        constant_ratio(a, grads[k]) if k in grads and grads[k].shape == a.shape else None for k, a in auto.items()
    ]
    if not ratios or any(r is None for r in ratios) or not np.allclose(ratios, ratios[0], rtol=1e-4):
        return None
    return ratios[0]


def _convention_of(loss_fn: Any) -> str:
    if getattr(loss_fn, "convention", None) in CONVENTIONS:
        return loss_fn.convention
    reduction = getattr(loss_fn, "reduction", None)
    return {"half_sum": "half-sum", "mean": "mean", "sum": "sum"}.get(reduction or "", "half-sum")


def tolerance_for(
    dtypes: set[str], rtol: float | None, atol: float | None, step_lr: float | None, state: Mapping[str, np.ndarray]
) -> dict[str, Any]:
    """The tolerance for the least precise dtype involved; for (old − new)/lr also the cancellation in old − new."""
    hidden32 = "float32-in-float64" in dtypes and not {"float16", "float32"} & dtypes
    worst = next((d for d in ("float16", "float32") if d in dtypes), "float32" if hidden32 else "float64")
    r = RTOL[worst] if rtol is None else float(rtol)
    a = ATOL[worst] if atol is None else float(atol)
    why = f"{worst}, the least precise dtype of the model and of your arrays"
    if hidden32:
        why = "float32: your numbers are float32 values (float32 arithmetic) though handed back as float64"
    if rtol is not None or atol is not None:
        why = "as given"
    elif step_lr and worst != "float64":
        biggest = max((float(np.max(np.abs(v), initial=0.0)) for v in state.values()), default=0.0)
        a += 8 * float(np.finfo(worst).eps) * biggest / abs(step_lr)
        why += "; atol widened for (old − new) / lr, which loses digits when the step is small"
    return {"rtol": r, "atol": a, "why": why, "dtype": worst}


def as_input(model: Any, inputs: Any) -> Any:
    """The data as a Tensor in the dtype of the model's first parameter (the layer that reads it), as a
    DataLoader's batches match the model: a float32 layer refuses a float64 Tensor, as in PyTorch."""
    from ..tensor import Tensor

    first = next(iter(model.state_dict().values()), None)
    dtype = first.dtype if isinstance(first, np.ndarray) and first.dtype.kind == "f" else None
    return Tensor(np.asarray(inputs, dtype=dtype))


def autodiff(
    model: Any, loss_fn: Callable[[Any, Any], Any], inputs: Any, targets: Any
) -> tuple[dict[str, np.ndarray], float, list[trace.LayerTrace], dict[str, Any]]:
    """Forward (recording each layer), loss, backward; the gradients as float64 state-shaped arrays."""
    from ..nn import engine_of
    from ..retention import keep_graph
    from ..viz.modules import record_modules  # which module made which node: report.draw()'s clusters

    state = {k: np.asarray(v) for k, v in model.state_dict().items()}
    engine = engine_of(model, "tensor")
    x: Any = np.asarray(inputs, dtype=np.float64).tolist() if engine == "value" else as_input(model, inputs)
    model.zero_grad()
    with trace.record(model) as recorder, record_modules() as calls:
        out = model(x)
    loss = loss_fn(out, targets)
    with keep_graph():  # report.draw() draws this graph, gradients on it
        loss.backward()
    grads = {k: np.zeros(v.shape) for k, v in state.items()}
    for name, param in model.named_parameters():
        if name in grads:  # a Tensor parameter: one array
            grads[name] = np.zeros(grads[name].shape) if param.grad is None else np.array(param.grad, np.float64)
            continue
        found = parameter_element(name, grads)
        if found is None:
            continue
        key, index = found  # a Value of a list: `0.weight.1.0`
        grads[key][index] = 0.0 if param.grad is None else param.grad
    layers = trace.layers(recorder, trace.owners(model), state)
    prefixes = {layer.prefix for layer in layers}
    outputs = {name: y for name, kind, _x, y in recorder.calls if kind == "layer" and name in prefixes}
    graph = {"root": loss, "model": model, "layer_outputs": outputs, "calls": calls}
    return grads, float(np.asarray(loss.data)), layers, graph


def _as_gradients(
    given: Any, state: Mapping[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, str], set[str]]:
    """The manual result as gradients, the keys that are not parameters (→ closest real key), and its dtypes."""
    if isinstance(given, tuple) and len(given) == 2 and isinstance(given[0], Mapping):
        updated, lr = given
        if not lr:
            raise TinygradEduError("compare_gradients: manual returned (params, lr) with lr = 0; nothing can be read")
        raw = dict(updated)
    elif isinstance(given, Mapping):
        raw, lr = dict(given), None
    else:
        raise ArgumentTypeError(
            f"compare_gradients: manual returned {type(given).__name__}; return a dict name -> gradient, "
            "or a tuple (dict name -> updated parameter, learning_rate)"
        )
    out, unknown, dtypes = {}, {}, set()
    float32s: list[bool] = []
    for k, v in raw.items():
        try:
            arr = np.asarray(v)
            new = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise TinygradEduError(
                f"compare_gradients: the value for {k!r} is {type(v).__name__}, not an array of numbers"
            ) from None
        if arr.dtype.kind == "f":
            dtypes.add(arr.dtype.name)
        if arr.dtype == np.float64 and not np.all(new == np.round(new)):  # whole numbers say nothing
            float32s.append(float32_values(new))
        if k not in state:
            close = difflib.get_close_matches(str(k), list(state), n=1, cutoff=0.6)
            unknown[str(k)] = close[0] if close else ""
            continue
        out[k] = (state[k] - new) / lr if lr is not None and new.shape == state[k].shape else new
    if float32s and all(float32s) and "float64" in dtypes:
        dtypes.add("float32-in-float64")  # float32 arithmetic, handed back in float64 containers or lists
    return out, unknown, dtypes


def float32_values(values: np.ndarray) -> bool:
    """True when every number is a float32 number (to float64's rounding): the arithmetic was done in float32."""
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        return False
    return bool(np.all(values.astype(np.float32).astype(np.float64) == values))


# ---------------------------------------------------------------------- one parameter


def _check(
    name: str,
    auto: np.ndarray,
    manual: np.ndarray | None,
    tol: Mapping[str, Any],
    ctx: Context,
    unknown: Mapping[str, str],
) -> ParamCheck:
    if manual is None:
        typo = [k for k, real in unknown.items() if real == name]
        why = "manual gives no gradient for this parameter"
        if typo:
            why = (
                f"manual gives no gradient for {name!r} but one for {typo[0]!r}, which is not a parameter: "
                "a misspelled key?"
            )
        return ParamCheck(name, auto, None, np.inf, np.inf, False, why)
    if manual.shape != auto.shape:
        if manual.shape == auto.T.shape and within_tolerance(manual, auto.T, tol):
            why = (
                f"manual is the transpose of autodiff (shape {manual.shape}, the parameter is {auto.shape}): "
                "a Linear weight is (out, in), row j holding neuron j's weights"
            )
        else:
            why = f"manual has shape {manual.shape} but the parameter is {auto.shape}"
        return ParamCheck(name, auto, manual, np.inf, np.inf, False, why)
    err = np.abs(manual - auto)
    scale = float(np.max(np.abs(auto), initial=0.0))
    abs_err = float(np.max(err, initial=0.0)) if np.all(np.isfinite(manual)) else np.inf
    rel_err = abs_err / scale if scale else (0.0 if abs_err == 0 else np.inf)
    ok = within_tolerance(manual, auto, tol)
    why = "" if ok else diagnose_layer_param(name, auto, manual, lambda m, a: within_tolerance(m, a, tol), ctx)
    return ParamCheck(name, auto, manual, abs_err, rel_err, ok, why)


def within_tolerance(manual: np.ndarray, auto: np.ndarray, tol: Mapping[str, Any]) -> bool:
    """|manual − auto| ≤ atol + rtol · max|auto|, elementwise: the tolerance scales with the gradient's size."""
    if manual.shape != auto.shape or not np.all(np.isfinite(manual)):
        return False
    scale = float(np.max(np.abs(auto), initial=0.0))
    return bool(np.all(np.abs(manual - auto) <= tol["atol"] + tol["rtol"] * scale))


# ---------------------------------------------------------------------- probes: rerun to tell causes apart


class _Probes:
    """Rerun autodiff and `manual` on a smaller batch or at another learning rate; the new constant ratio."""

    def __init__(self, model: Any, loss_fn: Any, inputs: Any, targets: Any, manual: Any, state: dict) -> None:
        self.model, self.loss_fn, self.manual, self.state = model, loss_fn, manual, state
        self.inputs, self.targets = np.asarray(inputs, np.float64), np.asarray(targets, np.float64)
        self.used = False

    def __call__(self, name: str, batch: int | None = None, lr: float | None = None) -> float | None:
        from .diagnose import constant_ratio

        x, t, manual = self.inputs, self.targets, self.manual
        if batch is not None:
            x, t = x[:batch], t[:batch]
        if lr is not None:
            if not hasattr(manual, "with_lr"):
                return None
            manual = manual.with_lr(lr)
        self.used = True
        try:
            auto = autodiff(self.model, self.loss_fn, x, t)[0]
            grads = _as_gradients(manual({k: v.copy() for k, v in self.state.items()}, x.copy(), t.copy()), self.state)[
                0
            ]
        except Exception:  # a probe is a hint: a user's code that fails on it leaves the causes as they were
            return None
        if name not in grads or grads[name].shape != auto[name].shape:
            return None
        return constant_ratio(auto[name], grads[name])


# ---------------------------------------------------------------------- the whole network


def _findings(
    checks: list[ParamCheck], ctx: Context, unknown: Mapping[str, str]
) -> tuple[list[str], tuple[str, str, str] | None, dict[str, list[str]]]:
    """Network-level diagnoses from the loss down (one story, no contradictions), and what to mark in draw.

    The first wrong quantity comes back as (its description, the parameter whose gradient holds it, its short name).

    In order: every parameter right; one factor for the whole network (a loss-wide cause); else the top wrong
    layer tells where the story starts (its δ, its bias alone, or its weight alone).
    """
    from .diagnose import two_outputs_note

    marks: dict[str, list[str]] = {"params": [c.name for c in checks if not c.ok], "delta_of": []}
    note = [two_outputs_note(ctx)] if two_outputs_note(ctx) else []
    extra = [
        f"{key!r} is not a parameter of the model" + (f" (did you mean {real!r}?)" if real else "")
        for key, real in unknown.items()
    ]
    if all(c.ok for c in checks):
        return [f"all {len(checks)} parameters match autodiff", *extra, *note], None, marks
    findings = [f"wrong: {', '.join(marks['params'])}", *extra]
    whole = _network_factor(checks)
    if whole is not None:
        return [*findings, whole, *note], None, marks
    layers = _by_layer(checks, ctx)
    order = [p for p in ctx.order if p in layers] or list(layers)
    wrong = [p for p in order if not all(c.ok for c in layers[p].values())]
    top = wrong[-1]
    parts = layers[top]
    w, b = parts.get("weight"), parts.get("bias")
    if b is not None and not b.ok and (w is None or not w.ok):
        first, story = _wrong_delta(top, order, wrong, layers, ctx)
        name, param = f"δ of layer {top}", b.name  # ∂E/∂b = δ: the bias gradient is the δ itself
        marks["delta_of"].append(top)
    elif b is not None and not b.ok:
        (first, story), param = _wrong_bias_only(top, b, wrong, layers), b.name
        name = param
    else:
        param = w.name if w is not None else next(c.name for c in parts.values() if not c.ok)
        first, name, story = param, param, [] if b is None else [_wrong_weight_only(top)]
    found = f"first wrong quantity, walking back from the loss: {first}"
    return [*findings, *story, found, *note], (first, param, name), marks


def _network_factor(checks: list[ParamCheck]) -> str | None:
    """`every gradient is r x autodiff: cause` when one constant factor holds for every parameter."""
    from .diagnose import constant_ratio

    values = [
        constant_ratio(c.autodiff, c.manual) if c.manual is not None and c.manual.shape == c.autodiff.shape else None
        for c in checks
    ]
    if len(checks) < 2 or any(v is None for v in values) or not checks[0].diagnosis:
        return None
    if not np.allclose(values, values[0], rtol=1e-4):  # type: ignore[arg-type]
        return None
    return f"every gradient is {values[0]:.4g}x autodiff: {checks[0].diagnosis.split(': ', 1)[-1]}"


def _by_layer(checks: list[ParamCheck], ctx: Context) -> dict[str, dict[str, ParamCheck]]:
    """module -> part ("weight", "bias") -> its check."""
    out: dict[str, dict[str, ParamCheck]] = {}
    for c in checks:
        module, part = ctx.owner.get(c.name, ("", c.name))
        out.setdefault(module, {})[part] = c
    return out


def _wrong_delta(
    top: str, order: list[str], wrong: list[str], layers: dict[str, dict[str, ParamCheck]], ctx: Context
) -> tuple[str, list[str]]:
    """Weight and bias of the top wrong layer both wrong: its δ is the first wrong quantity; below follows."""
    module = ctx.layers[top].module if top in ctx.layers else "layer"
    story = []
    if top != order[-1]:
        story.append(
            f"the layers above layer {top} are right and its δ is wrong: the error is in how the delta is sent "
            f"back to layer {top}, δ = (W_nextᵀ δ_next) · f'(s)"
        )
    below = [p for p in wrong if p != top]
    if below:
        story.append(
            f"layer(s) {', '.join(reversed(below))} below it are wrong too, as they must be when the δ they "
            f"receive from layer {top} is wrong: fix layer {top} first"
        )
        for p in below:
            for c in layers[p].values():
                if not c.ok and c.diagnosis.startswith("differs with no simple pattern"):
                    c.diagnosis = f"follows from the wrong δ of layer {top} above it (fix that first)"
    return f"δ of layer {top} (∂E/∂s, the output of {module} {top})", story


def _wrong_bias_only(
    top: str, b: ParamCheck, wrong: list[str], layers: dict[str, dict[str, ParamCheck]]
) -> tuple[str, list[str]]:
    """Only the bias wrong: the δ is right (the weight gradient δ xᵀ matches); the bias update itself is off."""
    same = [p for p in reversed(wrong) if "weight" in layers[p] and layers[p]["weight"].ok]
    which = f"layer {top}" if len(same) < 2 else f"layers {', '.join(same)}"
    return b.name, [
        f"{which}: the weight gradient matches, so the δ is right (∂E/∂W = δ xᵀ is); the error is in the "
        "bias update itself (∂E/∂b = δ)"
    ]


def _wrong_weight_only(top: str) -> str:
    return (
        f"layer {top}: the bias gradient matches, so its δ is right (∂E/∂b = δ is); the error is in "
        "∂E/∂W = δ xᵀ itself (the inputs factor, its layout, or how it is stored)"
    )


# ---------------------------------------------------------------------- drawing


def parameter_element(name: str, keys: Any) -> tuple[str, tuple[int, ...]] | None:
    """Which state-dict key a named parameter belongs to, and its index there.

    A Tensor parameter is its key (index `()`); a scalar model's Value parameters are named
    `<key>.<i>.<j>` (Module's naming for a list of lists), so `0.weight.1.0` is element (1, 0) of `0.weight`.
    None when the name belongs to none of `keys`.
    """
    if name in keys:
        return name, ()
    key = next((k for k in keys if name.startswith(k + ".")), None)
    return None if key is None else (key, tuple(int(i) for i in name[len(key) + 1 :].split(".")))


def _highlight(report: GradientReport, **draw_kwargs: Any) -> Any:
    """viz's `draw` of the loss's graph, wrong parameters filled red and the first wrong δ orange."""
    from ..viz import draw

    root, model = report._graph["root"], report._graph["model"]
    wrong = set(report._graph["marks"]["params"])
    marks: dict[Any, tuple[str, str]] = {}
    for name, param in model.named_parameters():
        found = parameter_element(name, wrong)
        if found is None:
            continue
        key, element = found
        check = report[key]
        one_scalar = name != key and check.manual is not None and check.manual.shape == check.autodiff.shape
        if one_scalar and np.isclose(check.manual[element], check.autodiff[element], rtol=1e-7, atol=1e-10):
            continue  # this scalar of the parameter is right
        marks[param] = (WRONG_FILL, f"manual gradient of {name} is wrong")
    for prefix in report._graph["marks"]["delta_of"]:
        out = report._graph["layer_outputs"].get(prefix)
        for node in out if isinstance(out, list) else [out]:
            if node is not None:
                marks[node] = (FIRST_WRONG_FILL, f"first wrong quantity: the delta of layer {prefix}")
    dot = draw(root, params=model, calls=report._graph.get("calls"), highlight=marks, **draw_kwargs)
    dot.body.append(
        '\tcheck_legend [shape=note fillcolor="#ffffff" label="red: manual gradient wrong\\l'
        'orange: first wrong quantity (from the loss down)\\l"]\n'
    )
    return dot
