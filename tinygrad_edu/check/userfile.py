"""Check a learner's Python file: load it, build the network it describes, run every check, one result.

`check_file(path, ...)` runs the file's code in this process; the `check` command calls it in a
child process with a time limit (see `tinygrad_edu/commands/check.py`). Any mistake in the file
itself (syntax, a crash, a bad `SIZES`, a result that is not a dict of arrays) becomes a
`UserFileError` naming the file and line, never a traceback.

Names the file may define: `gradients(state, inputs, targets)` or `step(state, inputs, targets, lr)`;
`error(state, inputs, targets)` (the error your code reports for this sample, checked against the
loss); `SIZES`, `LOSS` (a name of `compare.CONVENTIONS`), `ACTIVATION` ("sigmoid", "tanh", "relu"),
`STATE`, `INPUTS`, `TARGETS`, `LR`, and
`OPTIMIZER` (`{"name": "sgd", "momentum": 0.9}` or `{"name": "adam"}`) for `--steps`.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import UserFileError

ACTIVATIONS = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU"}


@dataclass
class FileResult:
    """What `check_file` found: the gradient report, the step report, the error check; `text` for print."""

    ok: bool
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    report: Any = None  # the GradientReport, for drawing


def load(path: str) -> ModuleType:
    """Import the user's file as a fresh module (each call runs it again, so module-level state restarts)."""
    file = Path(path)
    if not file.is_file():
        raise UserFileError(f"check: no such file {path!r}")
    source = file.read_bytes()
    if b"\0" in source:
        line = source[: source.index(b"\0")].count(b"\n") + 1
        raise UserFileError(f"check: {path}, line {line}: the file contains a NUL byte; is it a Python source file?")
    spec = importlib.util.spec_from_file_location(f"_tinygrad_edu_user_{file.stem}", file)
    if spec is None or spec.loader is None:
        raise UserFileError(f"check: cannot import {path!r} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up there
    folder = str(file.parent.resolve())
    sys.path.insert(0, folder)
    try:
        _guard(path, "loading the file", lambda: spec.loader.exec_module(module))  # type: ignore[union-attr]
    finally:
        sys.path.remove(folder)
    return module


def _guard(path: str, what: str, call: Callable[[], Any]) -> Any:
    """Run user code; anything it raises (SystemExit and RecursionError too) becomes one line with file:line."""
    try:
        return call()
    except SyntaxError as error:
        raise UserFileError(f"check: {path}, line {error.lineno}: syntax error: {error.msg}") from None
    except (Exception, SystemExit) as error:
        if isinstance(error, SystemExit):
            raise UserFileError(
                f"check: {path}{_line(error, path)}: the file called exit({error.code!r}) while {what}; "
                "the check needs it to return (guard a script part with `if __name__ == '__main__':`)"
            ) from None
        kind = "infinite recursion (RecursionError)" if isinstance(error, RecursionError) else type(error).__name__
        text = str(error).splitlines()[0] if str(error) else ""
        raise UserFileError(f"check: {path}{_line(error, path)}: {kind} while {what}: {text}".rstrip(": ")) from None


def _line(error: BaseException, path: str) -> str:
    target = os.path.abspath(path)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if os.path.abspath(f.filename) == target]
    return f", line {frames[-1].lineno}" if frames else ""


def _sizes(user: ModuleType, path: str) -> list[int]:
    sizes = getattr(user, "SIZES", [2, 2, 2])
    ok = isinstance(sizes, (list, tuple)) and len(sizes) >= 2
    ok = ok and all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and 0 < n <= 4096 for n in sizes)
    if not ok:
        raise UserFileError(
            f"check: {path}: SIZES = {sizes!r}; it must list at least two layer widths, whole numbers from 1 to "
            "4096, e.g. SIZES = [2, 2, 2] (inputs, hidden, outputs)"
        )
    return [int(n) for n in sizes]


def _array(user: ModuleType, name: str, default: Any, path: str) -> np.ndarray:
    try:
        value = np.asarray(getattr(user, name, default), dtype=np.float64)
    except (TypeError, ValueError):
        raise UserFileError(f"check: {path}: {name} must be numbers (a list or an array)") from None
    if not np.all(np.isfinite(value)):
        raise UserFileError(f"check: {path}: {name} holds a NaN or an infinity")
    return value


def check_file(
    path: str,
    *,
    engine: str = "tensor",
    seed: int = 0,
    rtol: float | None = None,
    atol: float | None = None,
    loss: str | None = None,
    steps: int = 3,
    dtype: str = "float64",
) -> FileResult:
    """Every check of one file; `ok` is False when a mistake was found. Raises `UserFileError` on a bad file."""
    from .. import nn
    from . import article
    from .compare import CONVENTIONS, _close, _tolerance, compare_gradients, loss_function
    from .steps import compare_steps

    user = load(path)
    if loss is None:  # the command line wins; else the file's LOSS; else the article's ½ Σ
        loss = str(getattr(user, "LOSS", "half-sum"))
    if loss not in CONVENTIONS:
        raise UserFileError(f"check: {path}: loss {loss!r}: choose one of {', '.join(CONVENTIONS)}")
    sizes = _sizes(user, path)
    act_name = str(getattr(user, "ACTIVATION", "sigmoid")).lower()
    if act_name not in ACTIVATIONS:
        raise UserFileError(f"check: {path}: ACTIVATION = {act_name!r}; use one of {', '.join(ACTIVATIONS)}")
    act = getattr(nn, ACTIVATIONS[act_name])

    def build() -> Any:
        layers: list[Any] = []
        for n_in, n_out in itertools.pairwise(sizes):
            layers += [nn.Linear(n_in, n_out, dtype=np.dtype(dtype), engine=engine, generator=seed + n_in), act()]
        model = nn.Sequential(*layers)
        state = getattr(user, "STATE", article.state_dict() if sizes == [2, 2, 2] else None)
        if state is not None:
            try:
                model.load_state_dict({k: np.asarray(v, dtype=np.dtype(dtype)) for k, v in dict(state).items()})
            except Exception as error:
                raise UserFileError(f"check: {path}: STATE does not fit SIZES {sizes}: {error}") from None
        return model

    inputs = _array(user, "INPUTS", article.INPUTS if sizes[0] == 2 else np.linspace(-1, 1, sizes[0]), path)
    targets = _array(user, "TARGETS", article.TARGETS if sizes[-1] == 2 else np.linspace(0.1, 0.9, sizes[-1]), path)
    if inputs.shape[-1:] != (sizes[0],) or targets.shape[-1:] != (sizes[-1],) or inputs.ndim != targets.ndim:
        raise UserFileError(
            f"check: {path}: INPUTS {inputs.shape} and TARGETS {targets.shape} must be one sample ({sizes[0]},) → "
            f"({sizes[-1]},) or a batch (N, {sizes[0]}) → (N, {sizes[-1]}) for SIZES {sizes}"
        )
    lr = float(getattr(user, "LR", article.LR))
    optimizer = getattr(user, "OPTIMIZER", None) or {"name": "sgd"}
    adam = str(dict(optimizer).get("name", "sgd")).lower() == "adam"
    loss_fn = loss_function(loss)
    entry = "step" if hasattr(user, "step") else "gradients" if hasattr(user, "gradients") else None
    if entry is None and not hasattr(user, "error"):
        raise UserFileError(
            f"check: {path} defines neither gradients(state, inputs, targets) nor step(state, inputs, targets, lr); "
            "see `tinygrad-edu check --help` for the entry points"
        )

    def fresh_step() -> Callable[..., Any]:
        step = load(path).step

        def guarded(state: dict, x: Any, t: Any, rate: float) -> Any:
            result = _guard(path, "running step()", lambda: step(state, x, t, rate))
            return _as_dict(result, "step", path)

        return guarded

    header = (
        f"{path}: network {sizes}, {act_name}, {engine} engine, {dtype}, loss {loss}: {CONVENTIONS[loss][0]}, lr {lr}"
    )
    parts, data, ok, kept = [header, ""], {"sizes": sizes}, True, None
    if entry == "gradients" or (entry == "step" and not adam):
        if entry == "gradients":
            raw = user.gradients

            def manual(state: dict, x: Any, t: Any) -> Any:
                return _as_dict(_guard(path, "running gradients()", lambda: raw(state, x, t)), "gradients", path)

            manual.lr = lr  # type: ignore[attr-defined]  (to recognise a gradient that already includes lr)

        else:
            manual = _FreshStep(fresh_step, lr)
        report = compare_gradients(build(), loss_fn, inputs, targets, manual, rtol=rtol, atol=atol, convention=loss)
        if report.first_wrong:
            where = _source_line(path, entry, report, inputs, targets, lr)
            if where:
                report.findings.append(where)
        parts.append(str(report))
        data["gradients"] = report.to_dict()
        ok = ok and report.ok
        kept = report
    if entry == "step" and (adam or (steps > 1 and ok)):  # a wrong first step is already explained above
        model = build()
        tol = _tolerance({dtype}, rtol, atol, None, {})
        step = fresh_step()
        sr = compare_steps(
            model,
            loss_fn,
            inputs,
            targets,
            lambda s, x, t: step(s, x, t, lr),
            dict(optimizer),
            lr,
            steps,
            lambda a, b: _close(a, b, tol),
        )
        parts += ["", f"* {sr}"]
        data["steps"] = sr.to_dict()
        ok = ok and sr.ok
    if hasattr(user, "error"):
        finding = check_error(user.error, build(), inputs, targets, path)
        parts += ["", f"* {finding['text']}"]
        data["error"] = finding
        ok = ok and finding["ok"]
    return FileResult(ok, "\n".join(parts), data, kept)


def _source_line(path: str, entry: str, report: Any, inputs: np.ndarray, targets: np.ndarray, lr: float) -> str:
    """`computed at FILE, line N: ...` for the first wrong quantity, when a local of the file holds it."""
    from .locate import locate

    first = report.first_wrong
    key = f"{first.split()[3]}.bias" if first.startswith("δ of layer ") else first
    try:
        check = report[key]
    except KeyError:
        return ""
    if check.manual is None or check.manual.shape != check.autodiff.shape:
        return ""
    state = {k: np.array(v, dtype=np.float64) for k, v in report._graph["model"].state_dict().items()}
    targets_ = [check.manual] + ([state[key] - lr * check.manual] if entry == "step" else [])
    user = load(path)
    fn = getattr(user, entry)
    args = (state, inputs.copy(), targets.copy(), lr) if entry == "step" else (state, inputs.copy(), targets.copy())
    found = locate(path, lambda: fn(*args), targets_)
    if found is None:
        return ""
    what = first.split(" (")[0]
    return f"{what} is first computed at {path}, line {found[0]}: {found[1]}"


class _FreshStep:
    """A step-form manual whose every use starts from a freshly loaded file (its own buffers reset)."""

    def __init__(self, fresh: Callable[[], Callable[..., Any]], lr: float) -> None:
        self.fresh, self.lr = fresh, lr

    def with_lr(self, lr: float) -> _FreshStep:
        return _FreshStep(self.fresh, lr)

    def __call__(self, state: dict, x: Any, t: Any) -> Any:
        return self.fresh()(state, x, t, self.lr), self.lr


def _as_dict(result: Any, entry: str, path: str) -> dict[str, np.ndarray]:
    """The user's result must be a dict of arrays of numbers; say so in one line when it is not."""
    if not isinstance(result, dict):
        raise UserFileError(
            f"check: {path}: {entry}() returned {type(result).__name__} {_short(result)}; it must return a dict "
            "name -> array, keyed like the state dict ('0.weight', '0.bias', ...)"
        )
    out = {}
    for key, value in result.items():
        try:
            arr = np.asarray(value)
            if arr.dtype.kind not in "fiu":
                raise TypeError
        except (TypeError, ValueError):
            raise UserFileError(
                f"check: {path}: {entry}() returned {type(value).__name__} {_short(value)} for {key!r}; "
                "each value must be an array of numbers"
            ) from None
        out[str(key)] = arr
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------------- the error the user's code reports


def check_error(error_fn: Callable[..., Any], model: Any, inputs: np.ndarray, targets: np.ndarray, path: str) -> dict:
    """The user's reported error against the same outputs' error with one-hot targets, and what it matches instead.

    The check uses one-hot targets (the class of the largest target), as classification code builds them from labels.
    """
    from ..nn import engine_of
    from ..tensor import Tensor

    x = np.atleast_2d(inputs)
    onehot = np.zeros((x.shape[0], np.atleast_2d(targets).shape[1]))
    labels = np.atleast_2d(targets).argmax(axis=1)
    onehot[np.arange(len(labels)), labels] = 1.0
    engine = engine_of(model, "tensor")
    out = model(x.tolist() if engine == "value" else Tensor(x))
    outputs = np.array(
        [[v.data for v in row] for row in out] if isinstance(out, list) else out.data, dtype=np.float64
    ).reshape(onehot.shape)
    state = {k: np.array(v, dtype=np.float64) for k, v in model.state_dict().items()}
    t_in = onehot if np.ndim(targets) == 2 else onehot[0]
    x_in = x if np.ndim(inputs) == 2 else x[0]
    value = _guard(path, "running error()", lambda: error_fn(state, x_in.copy(), t_in.copy()))
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise UserFileError(f"check: {path}: error() returned {type(value).__name__}; return one number") from None
    diff = outputs - onehot
    per = {
        "½ Σ (output − target)²": 0.5 * np.sum(diff**2),
        "the mean of (output − target)²": np.mean(diff**2),
        "Σ (output − target)²": np.sum(diff**2),
    }
    for name, expect in per.items():
        if np.isclose(value, expect, rtol=1e-6, atol=1e-12):
            return {
                "ok": True,
                "reported": value,
                "text": f"your error() is {name} of the one-hot targets: ok ({value:.6g})",
            }
    wrong = {
        "your error compares the outputs with the class labels, not the one-hot targets": outputs - labels[:, None],
        "your error compares the targets with themselves or the outputs with the outputs": np.zeros_like(outputs),
    }
    for text, d in wrong.items():
        for name, f in (("mean", np.mean), ("½ Σ", lambda a: 0.5 * np.sum(a)), ("Σ", np.sum)):
            if np.isclose(value, f(d**2), rtol=1e-6, atol=1e-12):
                return {
                    "ok": False,
                    "reported": value,
                    "text": f"{text} ({name} of the squares gives your {value:.6g}; with the one-hot targets "
                    f"{onehot[0].tolist()} the error is {per['the mean of (output − target)²']:.6g} as the mean, "
                    f"{per['½ Σ (output − target)²']:.6g} as ½ Σ)",
                }
    return {
        "ok": False,
        "reported": value,
        "text": f"your error() gives {value:.6g}, but the outputs' error against the one-hot targets is "
        f"{per['½ Σ (output − target)²']:.6g} (½ Σ) or {per['the mean of (output − target)²']:.6g} (mean)",
    }
