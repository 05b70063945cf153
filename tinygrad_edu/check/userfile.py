"""Check a learner's Python file, top-down: settings, the network they describe, each check, one result.

`check_file(path, ...)` is what `tinygrad-edu check FILE` runs, in this (the parent) process:

1. the file is loaded in a child process (`usercode.UserCode`), which answers with its settings and,
   for each call the checks make, the arrays the file's functions return — never a verdict;
2. the settings are checked (`settings.read`): honoured, or refused by name (exit 2 for a wrong type
   or a misspelt name, `CannotCheckError` — exit 3 — for what the checker does not model);
3. the gradient check: autodiff on the network the settings describe against the file's gradient
   (or its first SGD step), diagnosed from the numbers (`compare.compare_gradients`);
4. the steps check: K steps of `step()` against the optimizer's rule (`steps.compare_steps`);
5. the error check, when the file defines `error()`.

Names the file may define: `gradients(state, inputs, targets)` or `step(state, inputs, targets, lr)`;
`error(state, inputs, targets)`; and the settings of `settings.NEEDS`.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import CannotCheckError, UserFileError
from . import diagnose, layout
from . import settings as settings_module
from .settings import Settings
from .usercode import UserCode

MODULES = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU", "identity": "Identity"}


@dataclass
class FileResult:
    """What `check_file` found: the gradient report, the step report, the error check; `text` for print."""

    ok: bool
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    report: Any = None  # the GradientReport, for drawing


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
    timeout: float = 60.0,
    echo: IO[str] | None = None,
) -> FileResult:
    """Every check of one file; `ok` is False when a mistake was found.

    Raises `UserFileError` for a file that cannot be run as asked, `CannotCheckError` for one whose
    code does something the checker cannot model.
    """
    if not Path(path).is_file():
        raise UserFileError(f"check: no such file {path!r}")
    with UserCode(path, timeout, echo) as code:
        given = settings_module.read(path, code.settings, code.names, {"loss": loss})
        if given.schedule is not None and not isinstance(given.schedule, list):
            given.schedule = _schedule(path, code.schedule(steps))
        in_out = layout.in_out_keys(given.state, given.sizes) if given.state is not None else set()
        square = layout.square_keys(given.state, given.sizes) if given.state is not None and not in_out else set()
        how = (engine, dtype, seed, rtol, atol, steps)
        first, refusal = _attempt(path, code, copy.deepcopy(given), in_out, how)
        if square and (first is None or not first.ok):  # square weights say no layout: try (in, out) too
            other, _ = _attempt(path, code, copy.deepcopy(given), square, how, guessed=True)
            if other is not None and (other.ok or _matching(other) > _matching(first)):
                return other  # the reading under which more gradients match (a mistake in an (in, out) file)
        if first is None:
            raise refusal  # type: ignore[misc]
        return first


def _attempt(
    path: str, code: UserCode, given: Settings, in_out: set[str], how: tuple, guessed: bool = False
) -> tuple[FileResult | None, CannotCheckError | None]:
    """One Check, the weights named in `in_out` handed to the file (in, out) (`layout`); or its refusal."""
    engine, dtype, seed, rtol, atol, steps = how
    if in_out:  # the file stores its weights (in, out): the model gets them (out, in), the file as it wrote them
        given.state = {k: (v.T.copy() if k in in_out else v) for k, v in (given.state or {}).items()}
    problem = Problem(path, given, engine, dtype, seed)
    problem.in_out, problem.in_out_guessed = sorted(in_out), guessed
    try:
        return Check(
            path, layout.InOutCode(code, in_out) if in_out else code, given, problem, rtol, atol, steps
        ).run(), None
    except CannotCheckError as error:
        return None, error


def _matching(result: FileResult | None) -> int:
    """How many parameters' gradients match: -1 without a gradient report."""
    report = None if result is None else result.report
    return -1 if report is None else sum(p.ok for p in report.params)


def _schedule(path: str, values: list[Any]) -> list[float]:
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < float("inf") for v in values):
        raise settings_module.wrong(path, "LR_SCHEDULE", values)
    return [float(v) for v in values]


# ---------------------------------------------------------------------- the network the settings describe


class Problem:
    """The model, its inputs and targets, and the loss, as the file's settings describe them."""

    def __init__(self, path: str, given: Settings, engine: str, dtype: str, seed: int) -> None:
        from . import article

        self.path, self.given, self.engine, self.dtype, self.seed = path, given, engine, dtype, seed
        self.in_out: list[str] = []  # weights the file's STATE stores (in, out) (`layout`)
        self.in_out_guessed = False  # square weights, read (in, out) because only that layout fits the numbers
        sizes = given.sizes
        default_x = article.INPUTS if sizes[0] == 2 else np.linspace(-1, 1, sizes[0])
        default_t = article.TARGETS if sizes[-1] == 2 else np.linspace(0.1, 0.9, sizes[-1])
        self.inputs = np.asarray(default_x if given.inputs is None else given.inputs, dtype=np.float64)
        targets = np.asarray(default_t if given.targets is None else given.targets, dtype=np.float64)
        self.class_targets = targets.ndim == self.inputs.ndim - 1 and sizes[-1] > 1
        self.loss_from_targets = self.class_targets and "LOSS" not in given.declared
        if self.loss_from_targets and not given.loss.startswith("cross-entropy"):
            given.loss = "cross-entropy"  # class indices say so; the header says why
        self.class_targets = self.class_targets and given.loss.startswith("cross-entropy")
        if self.class_targets:  # class indices: the loss compares with their one-hot rows
            labels = targets.astype(np.int64)
            if not np.all(labels == targets) or labels.min() < 0 or labels.max() >= sizes[-1]:
                raise UserFileError(f"check: {path}: TARGETS must be class indices 0..{sizes[-1] - 1}")
            targets = np.eye(sizes[-1])[labels]
        self.targets = targets  # what the loss compares with (one-hot for class indices)
        if (
            self.inputs.shape[-1:] != (sizes[0],)
            or self.targets.shape[-1:] != (sizes[-1],)
            or self.inputs.ndim != self.targets.ndim
            or self.inputs.ndim > 2
        ):
            raise UserFileError(
                f"check: {path}: INPUTS {self.inputs.shape} and TARGETS {np.shape(given.targets)} must be one sample "
                f"({sizes[0]},) → ({sizes[-1]},) or a batch (N, {sizes[0]}) → (N, {sizes[-1]}) for SIZES {sizes}"
            )
        if given.loss.startswith("bce") and not np.all((self.targets >= 0) & (self.targets <= 1)):
            raise UserFileError(f"check: {path}: LOSS {given.loss!r} needs TARGETS in [0, 1]")

    def model(self, activations: list[str] | None = None, relu_tie: float = 0.0, dtype: str | None = None) -> Any:
        """`Sequential(Linear, act, Linear, act, ...)` with the file's STATE (the article's for [2, 2, 2])."""
        from .. import nn
        from . import article

        sizes, acts = self.given.sizes, activations or self.given.activations
        layers: list[Any] = []
        seeds: set[int] = set()
        for (n_in, n_out), act in zip(itertools.pairwise(sizes), acts):
            # a seed per layer: two layers of one width must not get the same weights (a δ sent back through the
            # wrong layer's W would pass)
            seed = self.seed + n_in
            while seed in seeds:
                seed += 7919
            seeds.add(seed)
            linear = nn.Linear(n_in, n_out, dtype=np.dtype(dtype or self.dtype), engine=self.engine, generator=seed)
            layers += [linear, ReLUTieOne() if act == "relu" and relu_tie else getattr(nn, MODULES[act])()]
        model = nn.Sequential(*layers)
        state = self.given.state
        if state is None and sizes == [2, 2, 2]:
            state = article.state_dict()
        if state is not None:
            try:
                model.load_state_dict({k: np.asarray(v, dtype=np.dtype(dtype or self.dtype)) for k, v in state.items()})
            except Exception as error:
                raise UserFileError(f"check: {self.path}: STATE does not fit SIZES {sizes}: {error}") from None
        return model

    def state(self) -> dict[str, np.ndarray]:
        return {k: np.array(v, dtype=np.float64) for k, v in self.model().state_dict().items()}

    def user_targets(self, targets: np.ndarray) -> np.ndarray:
        """The targets as the file expects them: class indices when it gave class indices."""
        return np.asarray(targets).argmax(axis=-1) if self.class_targets else np.asarray(targets)

    def loss_fn(self) -> Callable[[Any, Any], Any]:
        from .compare import loss_function

        return loss_function(self.given.loss)

    def rates(self, steps: int) -> tuple[float, ...]:
        schedule = self.given.schedule
        if schedule is None:
            return (self.given.lr,) * steps
        return tuple(schedule[min(k, len(schedule) - 1)] for k in range(steps))


def _relu_tie_one_module() -> Any:
    from .. import nn
    from ..nn import _lists

    class ReLUTieOne(nn.Module):
        """max(s, 0) whose derivative at s = 0 is 1 (`>=`), written x + relu(−x): the other valid choice at the tie."""

        def forward(self, x: Any) -> Any:
            if hasattr(x, "shape"):
                return x + (-x).relu()
            return _lists.elementwise(x, lambda v: v + (-v).relu())

    return ReLUTieOne


def ReLUTieOne() -> Any:  # noqa: N802 (builds a module, named like one)
    return _relu_tie_one_module()()


# ---------------------------------------------------------------------- the file's functions as the checks call them


class GradientCall:
    """The file's gradient, for `compare_gradients`: `gradients()`, or the first SGD `step()` turned into one.

    A step gives (old − new)/lr = g + weight_decay·w (× (1 + μ) with Nesterov); this returns the new
    parameters such that `compare` reads back g, with `lr` so it can tell lr mistakes from others.
    Every call loads the file afresh, so buffers it keeps between calls start empty.
    """

    def __init__(self, code: UserCode, entry: str, problem: Problem, lr: float, decay: float = 0.0) -> None:
        self.code, self.entry, self.problem, self.lr = code, entry, problem, lr
        self.decay = decay  # a gradients() that adds weight decay's wd·w itself: taken off before comparing

    def with_lr(self, lr: float) -> GradientCall:
        return GradientCall(self.code, self.entry, self.problem, lr, self.decay)

    def __call__(self, state: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> Any:
        answer = self.code.call(self.entry, state, x, self.problem.user_targets(t), self.lr)
        result = _as_dict(answer, self.entry, self.code.path)
        if self.entry == "gradients":
            if self.decay:
                result = {
                    k: v - self.decay * state[k] if k in state and np.shape(v) == state[k].shape else v
                    for k, v in result.items()
                }
            return result
        opt = self.problem.given.optimizer
        wd, mu = float(opt.get("weight_decay", 0.0)), float(opt.get("momentum", 0.0))
        scale = 1.0 + mu if opt.get("nesterov") else 1.0
        adjusted = {}
        for key, new in result.items():
            old = state.get(key)
            if old is None or np.shape(new) != old.shape or (not wd and scale == 1.0):
                adjusted[key] = new
                continue
            g = ((old - np.asarray(new, np.float64)) / self.lr - wd * old) / scale
            adjusted[key] = (old - self.lr * g).astype(np.asarray(new).dtype)
        return adjusted, self.lr


def _arithmetic(steps: list[dict[str, np.ndarray]]) -> set[str]:
    """The dtypes of the user's results, and "float32-in-float64" when every float64 number is a float32 one."""
    from .compare import float32_values

    arrays = [np.asarray(v) for step in steps for v in step.values()]
    dtypes = {a.dtype.name for a in arrays if a.dtype.kind == "f"}
    wide = [a for a in arrays if a.dtype == np.float64 and not np.all(a == np.round(a))]
    if wide and all(float32_values(a) for a in wide):
        dtypes.add("float32-in-float64")
    return dtypes


GENERIC = ("differs with no simple pattern", "follows from the wrong δ", "manual gives no gradient")


def _caused(p: Any) -> bool:
    """A wrong parameter whose diagnosis names a cause (not "no simple pattern", not a bare factor)."""
    bare = p.diagnosis.startswith("manual is exactly") and ": " not in p.diagnosis
    return bool(p.diagnosis) and not p.diagnosis.startswith(GENERIC) and not bare


def _explained(report: Any, following: bool = False) -> bool:
    """Every wrong parameter has a named cause (not only a factor or "no simple pattern").

    `following`: a parameter wrong only because the δ it receives is ("follows from the wrong δ") counts too,
    when a named cause above it explains that δ: the whole story is told.
    """
    wrong = [p for p in report.params if not p.ok]
    if following:
        return any(_caused(p) for p in wrong) and all(_caused(p) or p.diagnosis.startswith(GENERIC[1]) for p in wrong)
    return all(p.diagnosis and not p.diagnosis.startswith(GENERIC[:2]) and ": " in p.diagnosis for p in wrong)


def _named(report: Any) -> bool:
    """Some wrong parameter has a named cause: part of the story is told (a sign flip seen in 3 of 4 gradients)."""
    return any(not p.ok and _caused(p) for p in report.params)


def _one_cause(report: Any, text: str) -> None:
    """`text` names the one mistake behind every wrong parameter: it is each one's diagnosis and the finding,
    and no single first wrong quantity is pointed at (the mistake is in the whole gradient, not one line)."""
    for p in report.params:
        if not p.ok:
            p.diagnosis = text
    report.findings = [f for f in report.findings if f.startswith("wrong: ")] + [text]
    report.first_wrong = report.first_param = report.first_name = None


def _as_dict(result: Any, entry: str, path: str = "") -> dict[str, np.ndarray]:
    """The user's result must be a dict of arrays of numbers; say so in one line when it is not."""
    if not isinstance(result, dict):
        raise UserFileError(
            f"check: {path or 'the file'}: {entry}() returned {_kind(result)}; it must return a dict "
            "name -> array, keyed like the state dict ('0.weight', '0.bias', ...)"
        )
    out = {}
    for key, value in result.items():
        if not isinstance(value, np.ndarray) and not isinstance(value, (int, float)):
            raise UserFileError(
                f"check: {path or 'the file'}: {entry}() returned {_kind(value)} for {key!r}; "
                "each value must be an array of numbers"
            )
        out[str(key)] = np.asarray(value)
    return out


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"[:60]


# ---------------------------------------------------------------------- the checks, in order


class Check:
    """One run of every check on one file; `run()` returns the `FileResult`."""

    def __init__(
        self,
        path: str,
        code: UserCode,
        given: Settings,
        problem: Problem,
        rtol: float | None,
        atol: float | None,
        steps: int,
    ) -> None:
        self.path, self.code, self.given, self.problem = path, code, given, problem
        self.rtol, self.atol, self.steps = rtol, atol, steps
        self.entry = "step" if "step" in code.entries else "gradients" if "gradients" in code.entries else None
        self.grad_entry = self.entry  # what the gradient check calls: gradients() when the file has one
        if self.entry is None and "error" not in code.entries:
            raise UserFileError(
                f"check: {path} defines neither gradients(state, inputs, targets) nor step(state, inputs, targets, "
                "lr); see `tinygrad-edu check --help` for the entry points"
            )
        self.parts: list[str] = []
        self.data: dict[str, Any] = {"sizes": given.sizes}
        self.ok = True
        self.report: Any = None
        self.decay = 0.0  # weight decay that gradients() adds itself (`_decay_in_gradient`)
        self.refusal: CannotCheckError | None = None  # the first step fits no modelled loss: said unless the update

    def run(self) -> FileResult:
        self.parts = [self.header(), ""]
        sgd = self.given.optimizer_name == "sgd" and not self.given.clip
        # the gradient: gradients() when the file has one (a step() often calls it), else a first SGD step
        self.grad_entry = "gradients" if "gradients" in self.code.entries else None
        if self.grad_entry is None and self.entry == "step" and sgd:
            self.grad_entry = "step"
        if self.grad_entry:
            self.gradient_check()
        if self.entry == "step" and not self.ok and self.grad_entry == "step":
            self.optimizer_story()  # a first step off because of the update rule, not the backprop
            if self.refusal is not None and "steps" not in self.data:
                raise self.refusal
        elif self.entry == "step" and self.ok and (self.grad_entry != "step" or not sgd or self.steps > 1):
            self.steps_check()
            if not self.ok and sgd and self.grad_entry == "gradients" and not self.data["steps"]["known"]:
                self.first_step_as_gradient()
        if "error" in self.code.entries:
            self.error_check()
        text = "\n".join(p for i, p in enumerate(self.parts) if p or (i and self.parts[i - 1]))  # one blank line
        return FileResult(self.ok, text, self.data, self.report)

    def header(self) -> str:
        g = self.given
        acts = g.activations[0] if len(set(g.activations)) == 1 else "/".join(g.activations)
        if g.loss.startswith("cross-entropy"):
            acts = ("/".join(g.activations[:-1]) or "no hidden layer") + ", softmax output"
        lr = f"lr {g.lr}" if g.schedule is None else "lr LR_SCHEDULE"
        if self.problem.in_out and self.problem.in_out_guessed:
            lr += (
                f" (STATE's square {', '.join(self.problem.in_out)} read as (in, out), the layout your numbers fit: "
                "your functions get it so)"
            )
        elif self.problem.in_out:
            lr += f" (STATE stores {', '.join(self.problem.in_out)} (in, out): your functions get it so)"
        if self.problem.loss_from_targets:
            lr += " (LOSS is not declared: TARGETS are class indices, so a softmax with cross-entropy)"
        return (
            f"{self.path}: network {g.sizes}, {acts}, {self.problem.engine} engine, {self.problem.dtype}, "
            f"loss {g.loss}: {settings_module.LOSSES[g.loss]}, {lr}"
        )

    # ------------------------------------------------------------------ 3. the gradient

    def gradient_check(self) -> None:
        report = self._compare(self.problem.model())
        if not report.ok and self.grad_entry == "gradients" and self.given.optimizer.get("weight_decay"):
            report = self._decay_in_gradient(report)
        if not report.ok and self.grad_entry == "gradients" and self._stale(report):
            pass  # the second call is right: the first returned what an earlier call left behind
        elif not report.ok and "relu" in self.given.activations:
            report = self._relu_tie(report)
        if not report.ok and not _explained(report) and self.problem.inputs.ndim == 2:
            self._samples(report)
        open_ = {"LOSS", "ACTIVATION"} - self.given.declared  # a loss is tried even when a mistake explains the numbers
        if not report.ok and open_ and ("LOSS" in open_ or not _explained(report)):
            try:
                report = self._undeclared(report)
            except CannotCheckError as error:
                if self.grad_entry != "step":
                    raise
                self.refusal = error  # unless a mistake in the update rule explains the first step (`run`)
        if report.ok and self.grad_entry == "gradients":
            self._repeat_call(report)
        elif report.first_wrong:
            where = self._source_line(report)
            if where:
                report.findings.append(where)
        self.parts.append(str(report))
        self.data["gradients"] = report.to_dict()
        self.ok = self.ok and report.ok
        self.report = report

    def _compare(self, model: Any) -> Any:
        from .compare import compare_gradients

        manual = GradientCall(self.code, self.grad_entry or "gradients", self.problem, self._rate(1), self.decay)
        report = compare_gradients(
            model,
            self.problem.loss_fn(),
            self.problem.inputs,
            self.problem.targets,
            manual,
            rtol=self.rtol,
            atol=self.atol,
            convention=self.given.loss,
        )
        report.article = self.given.sizes == [2, 2, 2]  # the article's names beside the state-dict keys
        return report

    def _samples(self, report: Any) -> None:
        """Is the gradient the batch's sum with some samples left out or counted twice (an off-by-one slice)?

        Autodiff on each sample alone gives its part g_n of the batch gradient; the manual gradient is solved
        for as Σ c_n g_n. Whole numbers c_n other than all ones name the samples left out (0) or counted twice (2).
        """
        from .compare import CONVENTIONS, autodiff

        x, t = self.problem.inputs, self.problem.targets
        n, k = t.shape
        if n < 2 or any(p.manual is None or p.manual.shape != p.autodiff.shape for p in report.params):
            return
        factor = CONVENTIONS[self.given.loss][1]
        model, loss_fn = self.problem.model(), self.problem.loss_fn()
        # The fit below is a float64 analysis (to 1e-6): the model's numbers, in a float64 twin of it.
        wide = self.problem.model(dtype="float64")
        wide.load_state_dict({k: np.asarray(v, np.float64) for k, v in model.state_dict().items()})
        parts = []
        for i in range(n):
            g = autodiff(wide, loss_fn, x[i : i + 1], t[i : i + 1])[0]
            scale = factor(n, k) / factor(1, k)
            parts.append(np.concatenate([g[p.name].reshape(-1) * scale for p in report.params]))
        autodiff(model, loss_fn, x, t)  # leave .grad as the whole batch's
        a = np.stack(parts, axis=1)
        manual = np.concatenate([p.manual.reshape(-1) for p in report.params])
        if a.shape[0] <= n:
            return
        c = np.linalg.lstsq(a, manual, rcond=None)[0]
        whole = np.round(c)
        fitted = a @ whole
        if not np.all((whole >= 0) & (whole <= 2)) or np.all(whole == 1):
            return
        if not np.allclose(fitted, manual, rtol=1e-6, atol=1e-9 * float(np.max(np.abs(manual), initial=1.0))):
            return
        left = [int(i) for i in np.flatnonzero(whole == 0)]
        twice = [int(i) for i in np.flatnonzero(whole == 2)]
        said = []
        if left:
            said.append(
                f"sample(s) {', '.join(map(str, left))} of the batch (rows of INPUTS, from 0) are left out of "
                "the gradient"
            )
        if twice:
            said.append(f"sample(s) {', '.join(map(str, twice))} are counted twice")
        text = (
            f"{' and '.join(said)}: the batch gradient is the sum over every sample; an off-by-one minibatch slice "
            "(X[i:i + B − 1], range(0, N − 1, B)) or a loop that stops early does this"
        )
        _one_cause(report, text)

    def _decay_in_gradient(self, report: Any) -> Any:
        """OPTIMIZER has weight decay and gradients() adds wd·w itself (the gradient of an L2 term): as right."""
        self.decay = float(self.given.optimizer["weight_decay"])
        with_decay = self._compare(self.problem.model())
        if not with_decay.ok:
            self.decay = 0.0
            return report
        with_decay.findings.append(
            f"your gradients() includes weight decay's {self.decay:g}·w (the gradient of an L2 term "
            f"½·{self.decay:g}·‖w‖²); compared with it taken off, as OPTIMIZER's weight_decay adds it in the update"
        )
        return with_decay

    def _relu_tie(self, report: Any) -> Any:
        """ReLU written with `>=`: at s = 0 exactly its derivative is 1, as valid as 0 (the subgradient is [0, 1])."""
        tie = self._compare(self.problem.model(relu_tie=1.0))
        if not tie.ok:
            return report
        tie.findings = [
            f"all {len(tie.params)} parameters match autodiff where ReLU's derivative at s = 0 is taken as 1: your "
            "gradients differ from autodiff's (which takes 0) only where s = 0 exactly: 0 and 1 are both valid there",
            *[f for f in tie.findings if not f.startswith("all ")],
        ]
        return tie

    def _rate(self, k: int) -> float:
        return self.problem.rates(k)[k - 1]

    def _undeclared(self, report: Any) -> Any:
        """LOSS or ACTIVATION not declared: every modelled one tried, the one that fits named (`undeclared.fit`)."""
        from . import undeclared

        def tried_as(loss: str, acts: tuple[str, ...]) -> Any:
            saved = self.given.loss, self.given.activations
            self.given.loss, self.given.activations = loss, list(acts)
            try:
                report = self._compare(self.problem.model())
                return self._relu_tie(report) if not report.ok and "relu" in acts else report
            finally:
                self.given.loss, self.given.activations = saved

        def matching(loss: str, acts: tuple[str, ...]) -> int:
            """Autodiff alone (the tensor engine, float64) against the file's gradients: how many match."""
            from .compare import autodiff, within_tolerance

            saved = self.given.loss, self.given.activations, self.problem.engine, self.problem.dtype
            self.given.loss, self.given.activations = loss, list(acts)
            self.problem.engine, self.problem.dtype = "tensor", "float64"
            try:
                x, t, loss_fn = self.problem.inputs, self.problem.targets, self.problem.loss_fn()
                ties = (0.0, 1.0) if "relu" in acts else (0.0,)
                counts = []
                for tie in ties:
                    auto = autodiff(self.problem.model(relu_tie=tie), loss_fn, x, t)[0]
                    counts.append(
                        sum(
                            p.manual is not None
                            and p.manual.shape == auto[p.name].shape
                            and within_tolerance(p.manual, auto[p.name], report.tolerance)
                            for p in report.params
                        )
                    )
                return max(counts)
            finally:
                self.given.loss, self.given.activations, self.problem.engine, self.problem.dtype = saved

        unit = bool(np.all((self.problem.targets >= 0) & (self.problem.targets <= 1)))
        kept, (loss, acts), said = undeclared.fit(
            self.path, self.given, report, tried_as, lambda r: _explained(r, following=True), _named, unit, matching
        )
        self.given.loss, self.given.activations = loss, list(acts)
        self.parts[0] = self.header()
        if said:
            kept.findings.append(said)
        return kept

    def _stale(self, report: Any) -> bool:
        """The first call wrong, a second call on the same loaded file right: a gradient from the previous call."""
        state = self.problem.state()
        x, t = self.problem.inputs, self.problem.user_targets(self.problem.targets)
        self.code.call("gradients", state, x, t, fresh=True)
        second = _as_dict(self.code.call("gradients", state, x, t, fresh=False), "gradients", self.path)
        for p in report.params:
            got = second.get(p.name)
            if got is None or np.shape(got) != p.autodiff.shape:
                return False
            if not np.allclose(got, p.autodiff, rtol=1e-4, atol=1e-7 * float(np.max(np.abs(p.autodiff), initial=1))):
                return False
        text = (
            "each call returns the gradient of the previous call (a stale gradient): the first call gives what was "
            "there before (here zero or left over), a second call with the same arguments gives autodiff's; compute "
            "the gradient before returning it"
        )
        _one_cause(report, text)
        return True

    def _repeat_call(self, report: Any) -> None:
        """Call gradients() twice on one loaded copy: a gradient kept from the last call shows on the second."""
        state = self.problem.state()
        x, t = self.problem.inputs, self.problem.user_targets(self.problem.targets)
        first = _as_dict(self.code.call("gradients", state, x, t, fresh=True), "gradients", self.path)
        second = _as_dict(self.code.call("gradients", state, x, t, fresh=False), "gradients", self.path)
        wrong = [k for k in first if k in second and np.shape(first[k]) == np.shape(second[k])]
        auto = {p.name: p.autodiff for p in report.params}
        doubled = [k for k in wrong if k in auto and np.allclose(second[k], 2 * auto[k], rtol=1e-4, atol=1e-12)]
        same = all(np.allclose(first[k], second[k], rtol=1e-6, atol=1e-12) for k in wrong)
        if same:
            return
        for p in report.params:
            if p.name in second and not np.allclose(second[p.name], p.autodiff, rtol=1e-4, atol=1e-10):
                p.ok = False
                p.diagnosis = (
                    "the gradient is never reset between calls: a second call returns twice autodiff's "
                    "(zero the gradient buffers at the start of each call)"
                    if p.name in doubled
                    else "a second call with the same arguments returns another gradient: state kept between calls"
                )
        wrong_now = [p.name for p in report.params if not p.ok]
        report.findings = [
            f"wrong: {', '.join(wrong_now)}",
            "the first call matches autodiff, but a second call on the same loaded file does not",
            *[f for f in report.findings if not f.startswith("all ")],
        ]

    def _source_line(self, report: Any) -> str:
        """`computed at FILE, line N: ...` for the first wrong quantity, when a local of the file holds it."""
        key, what = report.first_param, report.first_name  # read from the report's fields, never its text
        try:
            check = report[key]
        except KeyError:
            return ""
        if check.manual is None or check.manual.shape != check.autodiff.shape:
            return ""
        d = check.diagnosis
        if any(cause in d for cause in diagnose.ELSEWHERE):  # the line that fills it is right; its making is not
            return (
                f"{what} is the first quantity that goes wrong (walking back from the loss); the mistake is where "
                "its rows were made, not on the line that fills them, so no line is pointed at"
            )
        if d.startswith("differs with no simple pattern") or (d.startswith("manual is exactly") and ": " not in d):
            # no formula explains it: the line holding the first bad value may be right and a value it uses wrong
            return (
                f"{what} is the first quantity that goes wrong (walking back from the loss); no line is pointed at, "
                "as the line that computes it may be right and a value it uses wrong"
            )
        state = self.problem.state()
        lr = self._rate(1)
        wanted = [check.manual] + ([state[key] - lr * check.manual] if self.grad_entry == "step" else [])
        found = self.code.locate(
            self.grad_entry or "gradients",
            state,
            self.problem.inputs,
            self.problem.user_targets(self.problem.targets),
            lr if self.grad_entry == "step" else None,
            wanted,
        )
        if found is None:
            return ""
        return f"{what} is first computed at {self.path}, line {found[0]}: {found[1]}"

    # ------------------------------------------------------------------ 4. the steps

    def first_step_as_gradient(self) -> None:
        """gradients() is right but step() is not, by no update rule known: read its first step as a gradient.

        (old − new)/lr against autodiff names what the step does to a right gradient (lr twice, lr left out, a
        bias updated once per input). If the first step is right, the steps report stands.
        """
        kept = (list(self.parts), dict(self.data), self.report)
        self.parts, self.ok, self.grad_entry = [self.parts[0], ""], True, "step"
        self.gradient_check()
        if self.ok:  # the first step is right: the steps report says where it parts
            self.parts, self.data, self.report = kept
            self.ok = False
        else:
            self.parts[1:1] = ["", "* your gradients() matches autodiff; your step() does not:"]

    def optimizer_story(self) -> None:
        """The first step's gradient is off: if a known update-rule mistake explains every step, that is the story.

        (A forgotten weight decay or Nesterov term, a stale or never-reset gradient, an off-by-one schedule all
        change the first step; the gradient table would blame the backprop.) Else the gradient report stands.
        """
        report = self.step_report()
        if not report.known:
            return
        self.parts = [self.parts[0], "", f"* {report}"]
        if not report.ok:
            self.parts.append(
                "* the backprop itself is not the cause: the gradient is right once this mistake in the update is "
                "undone"
            )
        self.data.pop("gradients", None)
        self.data["steps"] = report.to_dict()
        self.report = None
        self.ok = report.ok  # a step that is right read another way (minibatches inside step()) passes

    def steps_check(self) -> None:
        report = self.step_report()
        self.parts += ["", f"* {report}"]
        self.data["steps"] = report.to_dict()
        self.ok = self.ok and report.ok

    def step_report(self) -> Any:
        from .compare import autodiff, tolerance_for, within_tolerance
        from .steps import Rule, compare_steps, minibatch_size

        model, loss_fn = self.problem.model(), self.problem.loss_fn()
        x, t = self.problem.inputs, self.problem.targets
        dtype = np.dtype(self.problem.dtype)

        def gradient(state: Mapping[str, np.ndarray], rows: slice = slice(None)) -> dict[str, np.ndarray]:
            model.load_state_dict({k: np.asarray(v, dtype=dtype) for k, v in state.items()})
            return autodiff(model, loss_fn, x[rows], t[rows])[0]

        rates = self.problem.rates(self.steps)

        def user_steps(count: int) -> list[dict[str, np.ndarray]]:
            mine, out = self.problem.state(), []
            for k in range(count):
                new = self.code.call("step", mine, x, self.problem.user_targets(t), rates[k], fresh=k == 0)
                new = _as_dict(new, "step", self.path)
                out.append(new)
                mine = {key: np.asarray(new.get(key, v), dtype=np.float64) for key, v in mine.items()}
            return out

        opt = dict(self.given.optimizer)
        rule = Rule(str(opt.pop("name")), opt, rates, self.given.clip)
        theirs = user_steps(self.steps)
        tol = tolerance_for(
            {self.problem.dtype} | _arithmetic(theirs), self.rtol, self.atol, None, {}
        )  # the precision of the arithmetic done: float32 numbers in float64 lists count as float32
        report = compare_steps(
            self.problem.state(),
            gradient,
            lambda count: theirs[:count],
            rule,
            self.steps,
            lambda a, b: within_tolerance(a, b, tol),
        )
        report.tolerance = f"parameters compared with rtol {tol['rtol']:.3g}, atol {tol['atol']:.3g}: {tol['why']}"
        if not report.ok and x.ndim == 2 and len(x) > 1:  # minibatch SGD inside step(): one update per slice
            found = minibatch_size(
                self.problem.state(), gradient, len(x), rule, theirs, lambda a, b: within_tolerance(a, b, tol)
            )
            if found is not None and not found[1]:
                report.first_step, report.param, report.diagnosis, report.known = None, None, "", True
                report.form = (
                    f"each call making one update per minibatch of {found[0]} rows of INPUTS, in order "
                    f"({-(-len(x) // found[0])} updates per call, each with its minibatch's gradient)"
                )
            elif found is not None:
                report.known = True
                report.diagnosis = (
                    f"your step() makes one update per minibatch of {found[0]} rows, but the slicing is off by "
                    f"one: {found[1]} (an off-by-one minibatch slice)"
                )
        return report

    # ------------------------------------------------------------------ 5. the error

    def error_check(self) -> None:
        from .compare import autodiff

        if self.given.loss in ("half-sum", "mean", "sum"):
            declared: dict[str, float] = {}
        else:  # the file's own loss, on the one-hot targets the check gives error()
            x, t = self.problem.inputs, self.problem.targets
            onehot = np.eye(t.shape[-1])[np.atleast_2d(t).argmax(axis=1)].reshape(t.shape)
            loss = autodiff(self.problem.model(), self.problem.loss_fn(), x, onehot)[1]
            declared = {f"the declared loss ({settings_module.LOSSES[self.given.loss]})": loss}
        finding = check_error(
            self.code,
            self.problem.model(),
            self.problem.inputs,
            self.problem.targets,
            self.path,
            declared,
            self.problem.user_targets,
        )
        self.parts += ["", f"* {finding['text']}"]
        self.data["error"] = finding
        self.ok = self.ok and finding["ok"]


# ---------------------------------------------------------------------- the error the user's code reports


def check_error(
    code: Any,
    model: Any,
    inputs: np.ndarray,
    targets: np.ndarray,
    path: str,
    declared: Mapping[str, float] | None = None,
    user_targets: Callable[[np.ndarray], np.ndarray] | None = None,
) -> dict:
    """The user's reported error against the same outputs' error with one-hot targets, and what it matches instead.

    `code` is the file's `UserCode` or its `error` function itself. The check uses one-hot targets
    (the class of the largest target), as classification code builds them from labels (given to the file as
    class indices where it takes those: `user_targets`); `declared` adds the file's own loss (name -> value).
    """
    from ..nn import engine_of
    from .compare import as_input

    x = np.atleast_2d(inputs)
    onehot = np.zeros((x.shape[0], np.atleast_2d(targets).shape[1]))
    labels = np.atleast_2d(targets).argmax(axis=1)
    onehot[np.arange(len(labels)), labels] = 1.0
    engine = engine_of(model, "tensor")
    out = model(x.tolist() if engine == "value" else as_input(model, x))
    outputs = np.array(
        [[v.data for v in row] for row in out] if isinstance(out, list) else out.data, dtype=np.float64
    ).reshape(onehot.shape)
    state = {k: np.array(v, dtype=np.float64) for k, v in model.state_dict().items()}
    t_in = onehot if np.ndim(targets) == 2 else onehot[0]
    t_in = user_targets(t_in) if user_targets is not None else t_in
    x_in = x if np.ndim(inputs) == 2 else x[0]
    if hasattr(code, "call"):  # the file's UserCode (or its (in, out) view)
        value = code.call("error", state, x_in.copy(), np.array(t_in))
    else:
        value = code(state, x_in.copy(), np.array(t_in))
    try:
        value = float(np.asarray(value).reshape(-1)[0]) if np.size(value) == 1 else float(value)
    except (TypeError, ValueError):
        raise UserFileError(f"check: {path}: error() returned {type(value).__name__}; return one number") from None
    return _error_verdict(value, outputs, onehot, labels, declared or {})


def _error_verdict(
    value: float, outputs: np.ndarray, onehot: np.ndarray, labels: np.ndarray, declared: Mapping[str, float]
) -> dict:
    diff = outputs - onehot
    per = {
        "½ Σ (output − target)²": 0.5 * np.sum(diff**2),
        "the mean of (output − target)²": np.mean(diff**2),
        "Σ (output − target)²": np.sum(diff**2),
        **declared,
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
