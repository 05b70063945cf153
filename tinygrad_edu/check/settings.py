"""The settings a learner's file gives (SIZES, LOSS, ACTIVATION, ...), each checked, honoured, or refused by name.

`read(path, given, names, overrides)` turns what the child sent into one `Settings`. A setting of the
wrong type (`LR = "fast"`, `OPTIMIZER = "adam"`) or a misspelt name (`OPTIMISER`, `Lr`) is a
`UserFileError` (exit status 2) naming the setting, what it needs and the nearest known name; a
setting of the right type that asks for something the checker does not model (`amsgrad`, an
optimizer it does not know) is a `CannotCheckError` (exit status 3).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import CannotCheckError, UserFileError

ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")
# loss name -> (what it is, in words)
LOSSES: dict[str, str] = {
    "half-sum": "E = ½ Σ (output − target)², summed over the batch (the article's)",
    "half-sum-batch-mean": "E = ½ Σ (output − target)² per sample, averaged over the batch",
    "mean": "E = the mean of (output − target)² over every output and sample (PyTorch's MSELoss())",
    "sum": "E = Σ (output − target)², no ½",
    "bce": "binary cross-entropy −Σ [t log a + (1 − t) log(1 − a)] on a sigmoid output, summed over the batch",
    "bce-mean": "binary cross-entropy on a sigmoid output, averaged over every output and sample (PyTorch's BCELoss())",
    "cross-entropy": "softmax of the last layer with cross-entropy −Σ log softmax(s)[class], summed over the batch",
    "cross-entropy-mean": "softmax with cross-entropy, averaged over the batch (PyTorch's CrossEntropyLoss())",
}
OPTIMIZERS = {
    "sgd": ("lr", "momentum", "dampening", "nesterov", "weight_decay"),
    "adam": ("lr", "betas", "eps", "weight_decay"),
    "adam-efficient": ("lr", "betas", "eps", "weight_decay"),
}
# Real names the checker knows it does not model: asked for, they are refused (exit 3), not taken for typos.
UNMODELLED_ACTIVATIONS = (
    "leaky_relu",
    "leakyrelu",
    "elu",
    "selu",
    "gelu",
    "softplus",
    "swish",
    "silu",
    "mish",
    "hardtanh",
    "softsign",
    "prelu",
    "relu6",
    "step",
    "sign",
)
UNMODELLED_LOSSES = (
    "hinge",
    "huber",
    "smooth-l1",
    "l1",
    "mae",
    "nll",
    "kl",
    "kl-div",
    "poisson",
    "log-cosh",
    "focal",
    "margin",
    "cosine",
)
LOSS_ALIASES = {
    "ce": "cross-entropy",
    "crossentropy": "cross-entropy",
    "softmax-cross-entropy": "cross-entropy",
    "categorical-cross-entropy": "cross-entropy",
    "binary-cross-entropy": "bce",
    "mse": "mean",
    "half-sse": "half-sum",
    "sse": "sum",
}
REFUSED_OPTIONS = ("amsgrad", "maximize", "foreach", "capturable", "differentiable", "fused")
NEEDS = {
    "SIZES": "a list of at least two layer widths, whole numbers from 1 to 4096, e.g. SIZES = [2, 2, 2]",
    "LOSS": f"one of the names {', '.join(repr(k) for k in LOSSES)}",
    "ACTIVATION": f"one name for every layer or a list with one per layer, of {', '.join(map(repr, ACTIVATIONS))}",
    "STATE": "a dict of arrays keyed like the state dict ('0.weight' (out, in), '0.bias', ...)",
    "INPUTS": "numbers: one sample (a list) or a batch (a list of lists)",
    "TARGETS": "numbers: one sample (a list) or a batch (a list of lists); class indices for cross-entropy",
    "LR": "a positive number, e.g. LR = 0.5",
    "OPTIMIZER": 'a dict with a name, e.g. OPTIMIZER = {"name": "sgd", "momentum": 0.9} or {"name": "adam"}',
    "LR_SCHEDULE": "a list of per-step learning rates, or a function of the step k = 0, 1, 2, ...",
    "CLIP": "a positive number: the largest norm of all gradients together (clip_grad_norm_)",
}
KNOWN = tuple(NEEDS)


@dataclass
class Settings:
    """Everything the check needs from the file and the command line; `declared` says what the file named."""

    sizes: list[int]
    activations: list[str]  # one per Linear layer
    loss: str
    state: dict[str, np.ndarray] | None
    inputs: np.ndarray | None
    targets: np.ndarray | None
    lr: float
    optimizer: dict[str, Any]
    schedule: list[float] | None
    clip: float | None
    declared: set[str] = field(default_factory=set)

    @property
    def optimizer_name(self) -> str:
        return str(self.optimizer["name"])


def read(path: str, given: Mapping[str, Any], names: Sequence[str], overrides: Mapping[str, Any]) -> Settings:
    """Check every setting the file gave; the command line's `overrides` (loss) win."""
    _misspelt(path, names)
    declared = set(given) | {k.upper() for k, v in overrides.items() if v is not None}
    sizes = _sizes(path, given.get("SIZES", [2, 2, 2]))
    loss = overrides.get("loss") or given.get("LOSS", "half-sum")
    loss = _loss(path, loss, "LOSS" if not overrides.get("loss") else "--loss")
    activations = _activations(path, given.get("ACTIVATION", "sigmoid"), len(sizes) - 1, loss)
    lr = _positive(path, "LR", given.get("LR", 0.5))
    optimizer = _optimizer(path, given.get("OPTIMIZER", {"name": "sgd"}))
    if "lr" in optimizer:
        lr = _positive(path, "OPTIMIZER's lr", optimizer.pop("lr"))
    schedule = given.get("LR_SCHEDULE")
    clip = given.get("CLIP")
    return Settings(
        sizes=sizes,
        activations=activations,
        loss=loss,
        state=_state(path, given["STATE"]) if "STATE" in given else None,
        inputs=_numbers(path, "INPUTS", given["INPUTS"]) if "INPUTS" in given else None,
        targets=_numbers(path, "TARGETS", given["TARGETS"]) if "TARGETS" in given else None,
        lr=lr,
        optimizer=optimizer,
        schedule=None if schedule is None else _schedule(path, schedule),
        clip=None if clip is None else _positive(path, "CLIP", clip),
        declared=declared,
    )


def wrong(path: str, name: str, value: Any, extra: str = "") -> UserFileError:
    """`NAME = value: NAME needs ...` in one line."""
    return UserFileError(f"check: {path}: {name} = {_show(value)}: {name} needs {NEEDS[name]}{extra}")


def _show(value: Any) -> str:
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------------- names


def _misspelt(path: str, names: Sequence[str]) -> None:
    """A module-level name that is a setting's name misspelt (`OPTIMISER`, `Lr`) is refused with the nearest name."""
    for name in names:
        near = nearest_setting(name)
        if near is not None:
            raise UserFileError(
                f"check: {path}: {name} is not a setting the checker reads; did you mean {near}? "
                f"(settings: {', '.join(KNOWN)})"
            )


def nearest_setting(name: str) -> str | None:
    """The setting `name` is a misspelling of, or None for an ordinary variable (`DT`, `SIZE`, `LOSSES`)."""
    if name in KNOWN or name == name.lower():  # an all-lowercase name (`lr = 0.1`) is an ordinary variable
        return None
    if name.upper() in KNOWN:  # Lr, Loss, Activation
        return name.upper()
    name = name.upper()
    if len(name) < 4:
        return None
    for known in KNOWN:
        if name in (known + "S", known[:-1]) or known in (name + "S", name[:-1]):
            continue  # SIZE, INPUT, ACTIVATIONS: plural and singular are ordinary variables
        if _edits(name, known) <= (1 if len(known) < 8 else 2):
            return known
    return None


def _edits(a: str, b: str) -> int:
    """Levenshtein distance with transpositions (OPTIMISER → OPTIMIZER is 1)."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def _nearest(word: str, choices: Sequence[str]) -> str:
    near = difflib.get_close_matches(str(word).lower(), choices, n=1, cutoff=0.5)
    return f" (nearest: {near[0]!r})" if near else ""


# ---------------------------------------------------------------------- each setting


def _sizes(path: str, sizes: Any) -> list[int]:
    values = sizes.tolist() if isinstance(sizes, np.ndarray) else sizes
    ok = isinstance(values, (list, tuple)) and len(values) >= 2
    ok = ok and all(isinstance(n, (int, float)) and not isinstance(n, bool) and n == int(n) for n in values)
    ok = ok and all(0 < int(n) <= 4096 for n in values)
    if not ok:
        raise wrong(path, "SIZES", sizes)
    return [int(n) for n in values]


def _loss(path: str, loss: Any, where: str) -> str:
    if not isinstance(loss, str):
        raise wrong(path, "LOSS", loss)
    name = loss.strip().lower().replace("_", "-")
    name = LOSS_ALIASES.get(name, name)
    if name in UNMODELLED_LOSSES:
        raise CannotCheckError(
            f"{path}: {where} = {loss!r}: the checker does not model that loss (it models {', '.join(LOSSES)})"
        )
    if name not in LOSSES:
        raise UserFileError(f"check: {path}: {where} = {loss!r}: it needs {NEEDS['LOSS']}{_nearest(name, LOSSES)}")
    return name


def _activations(path: str, act: Any, layers: int, loss: str) -> list[str]:
    names = [act] if isinstance(act, str) else act
    if not isinstance(names, list) or not names or not all(isinstance(a, str) for a in names):
        raise wrong(path, "ACTIVATION", act)
    names = [{"linear": "identity", "none": "identity"}.get(a.strip().lower(), a.strip().lower()) for a in names]
    if loss.startswith("cross-entropy"):
        # softmax belongs to the loss: a list may name it, or `identity`, for the last layer
        names = [("identity" if a == "softmax" and i == len(names) - 1 else a) for i, a in enumerate(names)]
    for a in names:
        if a.replace("-", "_") in UNMODELLED_ACTIVATIONS:
            raise CannotCheckError(
                f"{path}: ACTIVATION = {_show(act)}: the checker does not model {a} (it models "
                f"{', '.join(ACTIVATIONS)})"
            )
        if a not in ACTIVATIONS:
            raise UserFileError(
                f"check: {path}: ACTIVATION = {_show(act)}: {a!r} is not one the checker models; ACTIVATION needs "
                f"{NEEDS['ACTIVATION']}{_nearest(a, ACTIVATIONS)}"
            )
    if len(names) == 1:
        names = names * layers
        if loss.startswith("cross-entropy"):
            names[-1] = "identity"  # one name for the hidden layers; the last layer's s goes into the softmax
    if len(names) != layers:
        raise wrong(path, "ACTIVATION", act, f" ({layers} layers for SIZES, {len(names)} names)")
    if loss.startswith("bce") and names[-1] != "sigmoid":
        raise UserFileError(
            f"check: {path}: LOSS = {loss!r} needs a sigmoid output layer, but ACTIVATION makes the last layer "
            f"{names[-1]}: name one per layer, e.g. ACTIVATION = [{', '.join(repr(a) for a in names[:-1])}, 'sigmoid']"
        )
    if loss.startswith("cross-entropy") and names[-1] != "identity":
        raise UserFileError(
            f"check: {path}: LOSS = {loss!r} puts a softmax on the last layer's weighted sums, but ACTIVATION makes "
            f"the last layer {names[-1]}: use 'identity' (or 'softmax') for the last layer"
        )
    return names


def _positive(path: str, name: str, value: Any) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        key = name if name in NEEDS else "LR"
        raise UserFileError(f"check: {path}: {name} = {_show(value)}: {name} needs {NEEDS[key].split(',')[0]}")
    return float(value)


def _optimizer(path: str, opt: Any) -> dict[str, Any]:
    if opt is None:
        return {"name": "sgd"}
    if isinstance(opt, str):
        raise wrong(path, "OPTIMIZER", opt, f" (did you mean OPTIMIZER = {{'name': {opt!r}}}?)")
    if not isinstance(opt, dict) or not isinstance(opt.get("name", "sgd"), str):
        raise wrong(path, "OPTIMIZER", opt)
    name = str(opt.get("name", "sgd")).lower()
    if name not in OPTIMIZERS:
        if name in ("rmsprop", "adagrad", "adamw", "adadelta", "lbfgs", "adamax", "nadam"):
            raise CannotCheckError(
                f"{path}: OPTIMIZER name {name!r}: the checker models only {', '.join(map(repr, OPTIMIZERS))}"
            )
        raise UserFileError(
            f"check: {path}: OPTIMIZER name {opt.get('name')!r}: it needs one of "
            f"{', '.join(map(repr, OPTIMIZERS))}{_nearest(name, tuple(OPTIMIZERS))}"
        )
    out: dict[str, Any] = {"name": name}
    for key, value in opt.items():
        if key == "name":
            continue
        if key in REFUSED_OPTIONS:
            if value:
                raise CannotCheckError(f"{path}: OPTIMIZER {key}={value!r}: the checker does not model {key}")
            continue
        if key not in OPTIMIZERS[name]:
            raise UserFileError(
                f"check: {path}: OPTIMIZER key {key!r} is not a keyword of {name} (it takes "
                f"{', '.join(OPTIMIZERS[name])}){_nearest(key, OPTIMIZERS[name])}"
            )
        out[key] = _option(path, name, key, value)
    if out.get("nesterov") and (out.get("momentum", 0) <= 0 or out.get("dampening", 0) != 0):
        raise UserFileError(f"check: {path}: OPTIMIZER nesterov needs momentum > 0 and dampening = 0 (as optim.SGD)")
    return out


def _option(path: str, name: str, key: str, value: Any) -> Any:
    if key == "nesterov":
        if not isinstance(value, bool):
            raise UserFileError(f"check: {path}: OPTIMIZER nesterov = {_show(value)}: it needs True or False")
        return value
    if key == "betas":
        betas = np.asarray(value, dtype=np.float64) if not isinstance(value, str) else None
        if betas is None or betas.shape != (2,) or not np.all((betas >= 0) & (betas < 1)):
            raise UserFileError(
                f"check: {path}: OPTIMIZER betas = {_show(value)}: it needs two numbers in [0, 1), e.g. (0.9, 0.999)"
            )
        return (float(betas[0]), float(betas[1]))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise UserFileError(f"check: {path}: OPTIMIZER {key} = {_show(value)}: it needs a number >= 0")
    if key in ("momentum", "dampening") and value >= 1 and key == "dampening":
        raise UserFileError(f"check: {path}: OPTIMIZER dampening = {value}: it needs a number in [0, 1)")
    return float(value)


def _state(path: str, state: Any) -> dict[str, np.ndarray]:
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise wrong(path, "STATE", state)
    return {str(k): np.asarray(v, dtype=np.float64) for k, v in state.items()}


def _numbers(path: str, name: str, value: Any) -> np.ndarray:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = np.asarray(value, dtype=np.float64)
    if not isinstance(value, np.ndarray):
        raise wrong(path, name, value)
    if not np.all(np.isfinite(value)):
        raise UserFileError(f"check: {path}: {name} holds a NaN or an infinity")
    return value


def _schedule(path: str, schedule: Any) -> Any:
    if getattr(schedule, "is_callable", False):
        return schedule  # evaluated in the child, step by step (usercode.schedule)
    values = np.asarray(schedule, dtype=np.float64) if isinstance(schedule, np.ndarray) else None
    if values is None or values.ndim != 1 or not values.size or not np.all(np.isfinite(values) & (values > 0)):
        raise wrong(path, "LR_SCHEDULE", schedule)
    return [float(v) for v in values]
