"""`compare_gradients`: a hand-written backprop against autodiff, with a diagnosis from the numbers.

The user's `manual(state, inputs, targets)` gets a copy of the model's state dict (name → NumPy
array, `Linear` weights `(out, in)`) and returns either

* their gradient for each parameter: `{"0.weight": dE/dW, ...}`, or
* their parameters after one SGD step and the learning rate: `({"0.weight": W', ...}, lr)`,
  turned into a gradient by `(W − W') / lr`.

Autodiff runs on the same model and state. Each parameter is compared elementwise, and a wrong
one is diagnosed from the numbers alone: a constant ratio (`2.0x`, a flipped sign), a transpose,
a factor σ'(a) = a(1 − a) of the layer's own activation (applied twice, or missing), rows scaled
neuron by neuron (a wrong δ). Across layers: right at the output and wrong below means the delta
is sent back wrongly; weights right and biases wrong means the bias update is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import TinygradEduError

Manual = Callable[[dict[str, np.ndarray], np.ndarray, np.ndarray], Any]


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
    """

    params: list[ParamCheck]
    findings: list[str]
    loss: float
    first_wrong: str | None = None  # e.g. "δ of layer 0" — the first quantity off, from the loss down
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
            "params": [p.to_dict() for p in self.params],
            "findings": self.findings,
            "first_wrong": self.first_wrong,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self) -> str:
        head = f"{'parameter':<12} {'shape':<8} {'max |autodiff|':>14} {'max abs err':>12} {'max rel err':>12}  verdict"
        lines = [head, "-" * len(head)]
        for p in self.params:
            shape = "x".join(map(str, p.autodiff.shape)) or "()"
            verdict = "ok" if p.ok else "WRONG"
            lines.append(
                f"{p.name:<12} {shape:<8} {np.max(np.abs(p.autodiff), initial=0):>14.6g} {p.abs_err:>12.3g} "
                f"{p.rel_err:>12.3g}  {verdict}"
            )
        for p in self.params:
            if not p.ok:
                lines.append(f"  {p.name}: {p.diagnosis}")
        lines.append("")
        lines += [f"* {f}" for f in self.findings]
        return "\n".join(lines)

    def draw(self, **draw_kwargs: Any) -> Any:
        """The graph (`tinygrad_edu.viz.draw`) with wrong parameters red and the first wrong quantity orange."""
        return _highlight(self, **draw_kwargs)


# ---------------------------------------------------------------------- the comparison


def compare_gradients(
    model: Any,
    loss_fn: Callable[[Any, Any], Any],
    inputs: Any,
    targets: Any,
    manual: Manual,
    *,
    rtol: float = 1e-7,
    atol: float = 1e-10,
) -> GradientReport:
    """Compare `manual`'s gradients with autodiff on `model` (an `nn.Module`) at its current state.

    `loss_fn(model_output, targets)` builds the loss (e.g. `nn.MSELoss(reduction="half_sum")`).
    The model's parameters are left as they were; their `.grad` holds the autodiff gradients.
    """
    state = {k: np.array(v, dtype=np.float64) for k, v in model.state_dict().items()}
    auto, loss, layer_out, graph = _autodiff(model, loss_fn, inputs, targets, state)
    given = manual(
        {k: v.copy() for k, v in state.items()},
        np.array(inputs, dtype=np.float64),
        np.array(targets, dtype=np.float64),
    )
    grads = _as_gradients(given, state)
    single = np.ndim(inputs) == 1
    checks = []
    for name, a in auto.items():
        m = grads.get(name)
        sigma_prime = _sigma_prime(name, layer_out, graph["kinds"]) if single else None
        checks.append(_check(name, a, m, rtol, atol, sigma_prime, state))
    findings, first_wrong, marks = _findings(checks)
    report = GradientReport(checks, findings, loss, first_wrong)
    report._graph = {**graph, "marks": marks, "layer_outputs": layer_out}
    return report


def _autodiff(
    model: Any, loss_fn: Callable[[Any, Any], Any], inputs: Any, targets: Any, state: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], float, dict[str, Any], dict[str, Any]]:
    """Forward layer by layer (keeping each layer's output), loss, backward; gradients as state-shaped arrays."""
    from ..retention import keep_graph
    from ..tensor import Tensor

    engine = getattr(model, "engine", None) or "tensor"
    if engine == "value":
        x: Any = np.asarray(inputs, dtype=np.float64).tolist()
    else:
        x = Tensor(np.asarray(inputs, dtype=np.float64))
    model.zero_grad()
    layer_out: dict[str, Any] = {}
    children = list(model.named_children()) if type(model).__name__ == "Sequential" else []
    if children:
        for name, child in children:
            x = child(x)
            layer_out[name] = x
        out = x
    else:
        out = model(x)
    loss = loss_fn(out, targets)
    with keep_graph():  # report.draw() draws this graph, gradients on it
        loss.backward()
    grads = {k: np.zeros_like(v) for k, v in state.items()}
    for name, param in model.named_parameters():
        if name in grads:  # a Tensor parameter: one array
            grads[name] = np.zeros_like(grads[name]) if param.grad is None else np.array(param.grad, dtype=np.float64)
            continue
        key = next((k for k in grads if name.startswith(k + ".")), None)
        if key is None:
            continue
        index = tuple(int(i) for i in name[len(key) + 1 :].split("."))  # a Value of a list: `0.weight.1.0`
        grads[key][index] = 0.0 if param.grad is None else param.grad
    kinds = {name: type(child).__name__ for name, child in children}
    return grads, float(np.asarray(loss.data)), layer_out, {"root": loss, "model": model, "kinds": kinds}


def _as_gradients(given: Any, state: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The manual result as gradients: a dict of them, or (updated parameters, lr) → (old − new) / lr."""
    if isinstance(given, tuple) and len(given) == 2 and isinstance(given[0], Mapping):
        updated, lr = given
        if not lr:
            raise TinygradEduError("compare_gradients: manual returned (params, lr) with lr = 0; nothing can be read")
        out = {}
        for k, v in updated.items():
            new = np.array(v, dtype=np.float64)
            if k in state and new.shape == state[k].shape:
                out[k] = (state[k] - new) / lr
            else:
                out[k] = new  # the shape check below will report it
        return out
    if isinstance(given, Mapping):
        return {k: np.array(v, dtype=np.float64) for k, v in given.items()}
    raise TypeError(
        f"compare_gradients: manual returned {type(given).__name__}; return a dict name -> gradient, "
        "or a tuple (dict name -> updated parameter, learning_rate)"
    )


# ---------------------------------------------------------------------- one parameter


def _check(
    name: str,
    auto: np.ndarray,
    manual: np.ndarray | None,
    rtol: float,
    atol: float,
    sigma_prime: np.ndarray | None,
    state: Mapping[str, np.ndarray],
) -> ParamCheck:
    if manual is None:
        return ParamCheck(name, auto, None, np.inf, np.inf, False, "manual gives no gradient for this parameter")
    if manual.shape != auto.shape:
        if manual.shape == auto.T.shape and np.allclose(manual, auto.T, rtol=rtol, atol=atol):
            why = (
                f"manual is the transpose of autodiff (shape {manual.shape}, the parameter is {auto.shape}): "
                "a Linear weight is (out, in), row j holding neuron j's weights"
            )
        else:
            why = f"manual has shape {manual.shape} but the parameter is {auto.shape}"
        return ParamCheck(name, auto, manual, np.inf, np.inf, False, why)
    err = np.abs(manual - auto)
    scale = np.max(np.abs(auto), initial=0.0)
    abs_err = float(np.max(err, initial=0.0))
    rel_err = abs_err / scale if scale else (0.0 if abs_err == 0 else np.inf)
    ok = bool(np.allclose(manual, auto, rtol=rtol, atol=atol))
    why = "" if ok else _diagnose(name, auto, manual, rtol, atol, sigma_prime, state)
    return ParamCheck(name, auto, manual, abs_err, rel_err, ok, why)


def _diagnose(
    name: str,
    auto: np.ndarray,
    manual: np.ndarray,
    rtol: float,
    atol: float,
    sigma_prime: np.ndarray | None,
    state: Mapping[str, np.ndarray],
) -> str:
    """What the difference looks like, tried from the most specific pattern to the most general."""

    def close(x: np.ndarray, y: np.ndarray) -> bool:
        return bool(np.allclose(x, y, rtol=max(rtol, 1e-9), atol=atol))

    if auto.ndim == 2 and auto.shape[0] == auto.shape[1] and close(manual, auto.T):
        return (
            "manual is the transpose of autodiff: the weight is (out, in), so ∂E/∂W[j, i] = δ_j · x_i "
            "(row j = neuron j); the manual code indexes it [i, j]"
        )
    ratio = _constant_ratio(auto, manual)
    if ratio is not None:
        if np.isclose(ratio, -1.0):
            return "sign flipped: manual = −autodiff (target − output instead of output − target, or += for −=)"
        if np.isclose(ratio, 0.0):
            return "manual is zero: no gradient reached this parameter"
        text = f"manual is exactly {ratio:.4g}x autodiff"
        fan_in = _fan_in(name, state)
        if fan_in and fan_in > 1 and np.isclose(ratio, fan_in):
            text += (
                f" — and {fan_in} is this layer's number of inputs: the update is applied once per input "
                "(e.g. inside the loop over the weights) instead of once"
            )
        return text
    if sigma_prime is not None:
        factor = sigma_prime[:, None] if auto.ndim == 2 else sigma_prime
        if close(manual, auto * factor):
            return (
                "manual equals autodiff × σ'(a) for this layer (σ'(a) = a(1 − a) of its own output): "
                "the derivative of the activation is applied twice"
            )
        if np.all(factor != 0) and close(manual, auto / factor):
            return (
                "manual equals autodiff ÷ σ'(a) for this layer: the derivative of the activation, "
                "a(1 − a), is missing from the delta"
            )
    if auto.ndim == 2:
        rows = [_constant_ratio(auto[j], manual[j]) for j in range(auto.shape[0])]
        if all(r is not None for r in rows):
            factors = ", ".join(f"{r:.4g}" for r in rows)
            return (
                f"each row j is autodiff's row scaled by its own factor ({factors}): the inputs factor of "
                "∂E/∂W = δ xᵀ is right, the neuron's delta δ_j is wrong"
            )
    return "differs with no simple pattern (not a constant ratio, sign flip, transpose or σ' factor)"


def _constant_ratio(auto: np.ndarray, manual: np.ndarray) -> float | None:
    """r if manual == r · auto elementwise (to 1e-9), else None."""
    a, m = auto.reshape(-1), manual.reshape(-1)
    nonzero = np.abs(a) > 1e-300
    if not nonzero.any() or np.any(np.abs(m[~nonzero]) > 1e-12):
        return None
    r = m[nonzero] / a[nonzero]
    return float(r[0]) if np.allclose(r, r[0], rtol=1e-9, atol=1e-12) else None


def _fan_in(name: str, state: Mapping[str, np.ndarray]) -> int | None:
    weight = state.get(name.rsplit(".", 1)[0] + ".weight")
    return int(weight.shape[1]) if weight is not None and weight.ndim == 2 else None


def _sigma_prime(name: str, layer_out: Mapping[str, Any], kinds: Mapping[str, str]) -> np.ndarray | None:
    """The activation's derivative at the layer owning `name`, from the activation's output a:
    σ' = a(1 − a) after a Sigmoid, 1 − a² after a Tanh (Sequential children only)."""
    prefix = name.rsplit(".", 1)[0]
    names = list(layer_out)
    if prefix not in names or names.index(prefix) + 1 >= len(names):
        return None
    after = names[names.index(prefix) + 1]
    a = _numbers(layer_out[after])
    if a is None or kinds.get(after) not in ("Sigmoid", "Tanh"):
        return None
    return a * (1.0 - a) if kinds[after] == "Sigmoid" else 1.0 - a * a


def _numbers(x: Any) -> np.ndarray | None:
    if hasattr(x, "data") and isinstance(x.data, np.ndarray):
        return np.array(x.data, dtype=np.float64)
    if isinstance(x, list) and all(hasattr(v, "data") for v in x):
        return np.array([v.data for v in x], dtype=np.float64)
    return None


# ---------------------------------------------------------------------- the whole network


def _findings(checks: list[ParamCheck]) -> tuple[list[str], str | None, dict[str, list[str]]]:
    """Network-level diagnoses, the first wrong quantity from the loss down, and what to mark in draw."""
    marks: dict[str, list[str]] = {"params": [c.name for c in checks if not c.ok], "delta_of": []}
    if all(c.ok for c in checks):
        return [f"all {len(checks)} parameters match autodiff"], None, marks
    layers: dict[str, dict[str, ParamCheck]] = {}
    for c in checks:
        prefix, kind = c.name.rsplit(".", 1) if "." in c.name else ("", c.name)
        layers.setdefault(prefix, {})[kind] = c
    order = list(layers)  # input layer first, as named_parameters lists them
    wrong = [p for p in order if not all(c.ok for c in layers[p].values())]
    findings = [f"wrong: {', '.join(marks['params'])}"]
    weights = [c for c in checks if c.name.endswith("weight")]
    biases = [c for c in checks if c.name.endswith("bias")]
    if biases and all(c.ok for c in weights) and not all(c.ok for c in biases):
        findings.append(
            "bias gradients differ, weight gradients match: the deltas are right (∂E/∂W = δ xᵀ is), "
            "so the error is in the bias update itself (∂E/∂b = δ)"
        )
    elif weights and all(c.ok for c in biases) and not all(c.ok for c in weights):
        findings.append(
            "weight gradients differ, bias gradients match: the deltas are right (∂E/∂b = δ is), so the "
            "error is in the inputs factor of ∂E/∂W = δ xᵀ (its layout, or which layer's inputs)"
        )
    if len(order) > 1 and order[-1] not in wrong and wrong:
        top = wrong[-1]
        findings.append(
            f"correct for the output layer ({order[-1]}), wrong from layer {top} down "
            f"({', '.join(reversed(wrong))}): the error is in how the delta is sent back, "
            "δ_h = (W_nextᵀ δ_next) · σ'(a_h)"
        )
    first = None
    for prefix in reversed(order):
        layer = layers[prefix]
        if prefix not in wrong:
            continue
        if "bias" in layer and not layer["bias"].ok and ("weight" not in layer or not layer["weight"].ok):
            first = f"δ of layer {prefix} (∂E/∂s, the output of Linear {prefix})"
            marks["delta_of"].append(prefix)
        else:
            first = next(c.name for c in layer.values() if not c.ok)
        break
    if first:
        findings.append(f"first wrong quantity, walking back from the loss: {first}")
    return findings, first, marks


# ---------------------------------------------------------------------- drawing


def _highlight(report: GradientReport, **draw_kwargs: Any) -> Any:
    """viz's `draw` of the loss's graph, wrong parameters filled red and the first wrong δ orange."""
    try:
        from ..viz import draw
    except ImportError as error:
        raise TinygradEduError(
            f"report.draw() needs tinygrad_edu.viz and the graphviz package ({error}); "
            "install it with: pip install graphviz"
        ) from None
    root, model = report._graph["root"], report._graph["model"]
    wrong = set(report._graph["marks"]["params"])
    marks: dict[Any, tuple[str, str]] = {}
    for name, param in model.named_parameters():
        key = name if name in wrong else next((w for w in wrong if name.startswith(w + ".")), None)
        if key is None:
            continue
        check = report[key]
        if check.manual is not None and check.manual.shape == check.autodiff.shape and name != key:
            element = tuple(int(i) for i in name[len(key) + 1 :].split("."))
            if np.isclose(check.manual[element], check.autodiff[element], rtol=1e-7, atol=1e-10):
                continue  # this scalar of the parameter is right
        marks[param] = ("#e31a1c", f"manual gradient of {name} is wrong")
    for prefix in report._graph["marks"]["delta_of"]:
        out = report._graph["layer_outputs"].get(prefix)
        for node in out if isinstance(out, list) else [out]:
            if node is not None:
                marks[node] = ("#ff7f00", f"first wrong quantity: the delta of layer {prefix}")
    dot = draw(root, params=model, highlight=marks, **draw_kwargs)
    dot.body.append(
        '\tcheck_legend [shape=note fillcolor="#ffffff" label="red: manual gradient wrong\\l'
        'orange: first wrong quantity (from the loss down)\\l"]\n'
    )
    return dot
