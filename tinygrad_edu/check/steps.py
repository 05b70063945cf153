"""Several training steps of a user's update against the optimizer's rule, to catch what one step hides.

A momentum buffer equals the gradient on the first step whatever μ is, so a dropped μ only shows
from the second step on; Adam's bias correction, a schedule and a stale gradient likewise.
`compare_steps` runs K steps of the user's `step()` (one loaded copy, so its buffers persist) and of
`Rule` (SGD with every keyword of `optim.SGD`, Adam with those of `optim.Adam`, and Adam's "efficient"
form), autodiff giving each step's gradient. Where they part, each known mistake is made on purpose
(`MISTAKES`): the rule is rerun from the start with it, and the mistake whose steps equal the user's
is the cause.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

State = dict[str, np.ndarray]

# Adam's two forms, each as right as the other: Kingma and Ba give both (their section 2). Declared one, written
# the other, the steps pass and the report says which form the file uses.
FORMS = {
    "efficient": "in Kingma and Ba's efficient form (eps added after the step-size correction, "
    "lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m / (√v + eps)), which differs from optim.Adam only in where eps enters; "
    "declare OPTIMIZER name 'adam-efficient' to say so",
    "standard": "in PyTorch's form (eps added to √v̂, after the bias correction), which differs from the efficient "
    "form declared only in where eps enters; declare OPTIMIZER name 'adam' to say so",
}

# Each mistake: (the rules it applies to, what it means, in words)
MISTAKES: dict[str, tuple[tuple[str, ...], str]] = {
    "no-momentum": (("sgd",), "plain SGD: the momentum buffer is not used (w − lr·g)"),
    "never-decays": (("sgd",), "the momentum buffer never decays: v = v + g instead of v = μ·v + g"),
    "damped": (("sgd",), "the buffer is damped: v = μ·v + (1 − μ)·g instead of v = μ·v + g"),
    "mu-on-g": (("sgd",), "μ multiplies the new gradient instead of the old buffer: v = v + μ·g"),
    "no-nesterov": (("sgd",), "the Nesterov look-ahead is missing: the update uses v, not g + μ·v"),
    "no-bias-correction": (
        ("adam", "adam-efficient"),
        "the bias correction is missing: m / (√v + eps) instead of m̂ / (√v̂ + eps)",
    ),
    "v-of-g": (("adam", "adam-efficient"), "v is an average of g, not of g²"),
    "no-sqrt": (("adam", "adam-efficient"), "√v is not taken: m̂ / (v̂ + eps)"),
    "eps-in-sqrt": (("adam", "adam-efficient"), "eps is inside the square root: m̂ / √(v̂ + eps), not m̂ / (√v̂ + eps)"),
    "betas-swapped": (("adam", "adam-efficient"), "β1 and β2 are swapped: m averages with β2 and v with β1"),
    "t-per-parameter": (
        ("adam", "adam-efficient"),
        "the step counter t is bumped once per parameter instead of once per step, so the bias correction "
        "(1 − βᵗ) of every parameter but the first uses a t that is too large",
    ),
    "no-weight-decay": (("sgd", "adam", "adam-efficient"), "weight decay is left out: g + weight_decay · w is missing"),
    "accumulate": (
        ("sgd", "adam", "adam-efficient"),
        "the gradient is never reset between calls: each step uses the sum of every gradient so far "
        "(zero the gradient buffers at the start of each call)",
    ),
    "stale": (
        ("sgd", "adam", "adam-efficient"),
        "each step uses the gradient of the previous call (a stale gradient): compute the gradient before the "
        "update that uses it",
    ),
    "schedule-ahead": (
        ("sgd", "adam", "adam-efficient"),
        "the learning-rate schedule is one step ahead: step k uses the rate of step k + 1",
    ),
    "schedule-behind": (
        ("sgd", "adam", "adam-efficient"),
        "the learning-rate schedule is one step behind: step k uses the rate of step k − 1",
    ),
    "clip-always": (
        ("sgd", "adam", "adam-efficient"),
        "the clipping always rescales the gradient to norm CLIP, even when its norm is already below CLIP "
        "(g · c/‖g‖ only when ‖g‖ > c)",
    ),
    "no-clip": (("sgd", "adam", "adam-efficient"), "the gradient is not clipped to norm CLIP"),
}


@dataclass(frozen=True)
class Rule:
    """One optimizer's update, as `optim.SGD`/`optim.Adam` do it (or the efficient Adam), maybe with one mistake."""

    name: str  # sgd, adam, adam-efficient
    options: Mapping[str, Any]
    rates: tuple[float, ...]  # the learning rate of each step (a schedule, or one rate repeated)
    clip: float | None = None
    mistake: str | None = None

    def describe(self) -> str:
        o = self.options
        lr = f"lr={self.rates[0]:g}" if len(set(self.rates)) == 1 else "lr=LR_SCHEDULE"
        if self.name == "sgd":
            extra = "".join(f", {k}={o[k]:g}" for k in ("momentum", "dampening", "weight_decay") if o.get(k)) + (
                ", nesterov=True" if o.get("nesterov") else ""
            )
            text = f"SGD({lr}{extra})"
        else:
            b1, b2 = o.get("betas", (0.9, 0.999))
            wd = f", weight_decay={o['weight_decay']:g}" if o.get("weight_decay") else ""
            form = "Adam" if self.name == "adam" else "Adam, efficient form"
            text = f"{form}({lr}, betas=({b1:g}, {b2:g}), eps={o.get('eps', 1e-8):g}{wd})"
        return text + (f" with gradients clipped to norm {self.clip:g}" if self.clip else "")

    def run(self, start: State, gradient: Callable[[State], State], steps: int) -> list[State]:
        """The parameters after each of `steps` steps, from `start`, autodiff's `gradient` at each."""
        m = self.mistake
        p = {k: v.astype(np.float64) for k, v in start.items()}
        keys = list(p)
        memory: dict[str, Any] = {"sum": None, "previous": {k: np.zeros_like(v) for k, v in p.items()}, "buf": {}}
        memory.update(m1={k: np.zeros_like(v) for k, v in p.items()}, v={k: np.zeros_like(v) for k, v in p.items()})
        out = []
        for k in range(1, steps + 1):
            g = gradient(p)
            if m == "accumulate":
                memory["sum"] = g if memory["sum"] is None else {key: memory["sum"][key] + g[key] for key in g}
                g = memory["sum"]
            elif m == "stale":
                g, memory["previous"] = memory["previous"], g
            g = self._clipped(g)
            lr = self._rate(k)
            p = {key: self._update(key, keys.index(key), len(keys), p[key], g[key], k, lr, memory) for key in keys}
            out.append(p)
        return out

    def _rate(self, k: int) -> float:
        i = k - 1 + (1 if self.mistake == "schedule-ahead" else -1 if self.mistake == "schedule-behind" else 0)
        return self.rates[min(max(i, 0), len(self.rates) - 1)]

    def _clipped(self, g: State) -> State:
        if not self.clip or self.mistake == "no-clip":
            return g
        total = float(np.sqrt(sum(float(np.sum(v * v)) for v in g.values())))
        if total <= self.clip and self.mistake != "clip-always":
            return g
        # c/‖g‖, as written by hand; torch.nn.utils.clip_grad_norm_ divides by ‖g‖ + 1e-6 (accepted too)
        factor = self.clip / (total + (1e-6 if self.mistake == "torch-clip" else 0.0))
        return {k: v * factor for k, v in g.items()}

    def _update(
        self, key: str, index: int, count: int, p: np.ndarray, g: np.ndarray, k: int, lr: float, memory: dict
    ) -> np.ndarray:
        o, m = self.options, self.mistake
        wd = float(o.get("weight_decay", 0.0))
        if wd and m != "no-weight-decay":
            g = g + wd * p
        if self.name == "sgd":
            mu, damp = float(o.get("momentum", 0.0)), float(o.get("dampening", 0.0))
            if not mu or m == "no-momentum":
                return p - lr * g
            buf = memory["buf"].get(key)
            if buf is None:
                buf = g
            elif m == "never-decays":
                buf = buf + g
            elif m == "damped":
                buf = mu * buf + (1 - mu) * g
            elif m == "mu-on-g":
                buf = buf + mu * g
            else:
                buf = mu * buf + (1 - damp) * g
            memory["buf"][key] = buf
            step = g + mu * buf if o.get("nesterov") and m != "no-nesterov" else buf
            return p - lr * step
        b1, b2 = o.get("betas", (0.9, 0.999))
        if m == "betas-swapped":
            b1, b2 = b2, b1
        eps = float(o.get("eps", 1e-8))
        mean = memory["m1"][key] = b1 * memory["m1"][key] + (1 - b1) * g
        sq = memory["v"][key] = b2 * memory["v"][key] + (1 - b2) * (g if m == "v-of-g" else g * g)
        t = (k - 1) * count + index + 1 if m == "t-per-parameter" else k
        c1, c2 = (1.0, 1.0) if m == "no-bias-correction" else (1 - b1**t, 1 - b2**t)
        efficient = (self.name == "adam-efficient") != (m in ("efficient", "standard"))
        size, v = (lr * np.sqrt(c2) / c1, sq) if efficient else (lr, sq / c2)  # efficient: the step size corrects
        v = np.abs(v) if m == "v-of-g" else v  # an average of g can be negative; √|v| keeps it a number
        if m == "eps-in-sqrt":
            denom = np.sqrt(v + eps)
        elif m == "no-sqrt":
            denom = v + eps
        else:
            denom = np.sqrt(v) + eps
        return p - size * (mean if efficient else mean / c1) / denom


@dataclass
class StepReport:
    """The first (step, parameter) where the user's parameters leave the rule's, and why; None if never."""

    steps: int
    optimizer: str
    first_step: int | None = None
    param: str | None = None
    diagnosis: str = ""
    known: bool = True  # False: no mistake the checker models explains the steps
    tolerance: str = ""  # what "equal" meant, in words
    form: str = ""  # Adam written in its other form (`FORMS`), which is as right

    @property
    def ok(self) -> bool:
        return self.first_step is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "steps": self.steps,
            "optimizer": self.optimizer,
            "first_step": self.first_step,
            "param": self.param,
            "diagnosis": self.diagnosis,
            "tolerance": self.tolerance,
            "known": self.known,
            "form": self.form,
        }

    def __str__(self) -> str:
        tol = f" ({self.tolerance})" if self.tolerance else ""
        if self.ok:
            form = f", {self.form}" if self.form else ""
            return f"{self.steps} steps of your update match {self.optimizer} step for step{form}{tol}"
        return f"step {self.first_step}, {self.param}: your update leaves {self.optimizer} here: {self.diagnosis}{tol}"


def compare_steps(
    start: State,
    gradient: Callable[[State], State],
    user_steps: Callable[[int], list[State]],
    rule: Rule,
    steps: int,
    close: Callable[[np.ndarray, np.ndarray], bool],
) -> StepReport:
    """Compare `steps` steps of the user's update (`user_steps(k)`: their parameters after steps 1..k) with `rule`."""
    report = StepReport(steps, rule.describe())
    theirs = user_steps(steps)
    where = _first_difference(theirs, rule.run(start, gradient, steps), close)
    if where is not None and rule.clip:  # PyTorch's clip_grad_norm_ (‖g‖ + 1e-6) is as right as c/‖g‖
        torch_form = replace(rule, mistake="torch-clip").run(start, gradient, steps)
        where = where if _first_difference(theirs, torch_form, close) is not None else None
    if where is not None and rule.name in ("adam", "adam-efficient"):  # the other form is Adam as well
        other = "efficient" if rule.name == "adam" else "standard"
        if _first_difference(theirs, replace(rule, mistake=other).run(start, gradient, steps), close) is None:
            where, report.form = None, FORMS[other]
    if where is None:
        return report
    report.first_step, report.param = where[0] + 1, where[1]
    candidates = [m for m, (rules, _) in MISTAKES.items() if rule.name in rules and _applies(m, rule)]
    runs = {m: replace(rule, mistake=m).run(start, gradient, steps) for m in candidates}
    # a mistake that gives every one of the user's steps wins; else those that give the steps up to the first
    # difference, and when several do, all are named (never one picked silently)
    fits = [m for m in candidates if _first_difference(theirs, runs[m], close) is None]
    if not fits:
        upto = where[0] + 1
        fits = [m for m in candidates if _first_difference(theirs[:upto], runs[m][:upto], close) is None]
    if len(fits) == 1:
        report.diagnosis = MISTAKES[fits[0]][1]
    elif fits:
        report.diagnosis = "this fits more than one mistake (the steps cannot tell them apart): " + "; or ".join(
            MISTAKES[m][1] for m in fits
        )
    else:
        report.known = False
        report.diagnosis = f"the parameters differ from {rule.describe()}'s, by no update rule the checker knows"
    return report


# How a loop over minibatches of B rows can slice them: right, or off by one (the last row of each slice left
# out, or the loop stopping one row short of the end).
SLICINGS = {
    "": lambda rows, size: [slice(i, i + size) for i in range(0, rows, size)],
    "X[i:i + B − 1] leaves out the last row of each minibatch": lambda rows, size: [
        slice(i, i + size - 1) for i in range(0, rows, size) if size > 1
    ],
    "range(0, N − 1, B) stops one row short, so the last minibatch is never used": lambda rows, size: [
        slice(i, i + size) for i in range(0, rows - 1, size)
    ],
}


def minibatch_size(
    start: State,
    gradient_of_rows: Callable[[State, slice], State],
    rows: int,
    rule: Rule,
    theirs: Sequence[Mapping[str, Any]],
    close: Callable[[np.ndarray, np.ndarray], bool],
) -> tuple[int, str] | None:
    """(B, "" or the off-by-one) for which each call of the user's step() is one pass of `rule` over minibatches.

    Minibatch SGD written inside step(): one update per slice of B rows, in order, each with autodiff's gradient
    of that slice alone (a mean loss averages over the slice); the slicing right or off by one (`SLICINGS`).
    None when no B below `rows` and no slicing gives the user's steps.
    """
    steps = len(theirs)
    for size in range(1, rows):
        for mistake, slicing in SLICINGS.items():
            one = slicing(rows, size)
            if not one or (mistake and one == SLICINGS[""](rows, size)):
                continue
            per = len(one)
            one_pass = replace(rule, rates=tuple(r for r in rule.rates[:steps] for _ in range(per)))
            ours = one_pass.run(start, _in_turn(gradient_of_rows, one * steps), steps * per)
            if _first_difference(theirs, ours[per - 1 :: per], close) is None:
                return size, mistake
    return None


def _in_turn(gradient_of_rows: Callable[[State, slice], State], slices: list[slice]) -> Callable[[State], State]:
    """A gradient that takes the next slice of rows at each call."""
    turn = iter(slices)
    return lambda p: gradient_of_rows(p, next(turn))


def _applies(mistake: str, rule: Rule) -> bool:
    """A mistake that would change nothing for this rule (no momentum to drop) is not a candidate."""
    o = rule.options
    if mistake in ("no-momentum", "never-decays", "damped", "mu-on-g"):
        return bool(o.get("momentum"))
    if mistake == "no-nesterov":
        return bool(o.get("nesterov"))
    if mistake == "no-weight-decay":
        return bool(o.get("weight_decay"))
    if mistake in ("schedule-ahead", "schedule-behind"):
        return len(set(rule.rates)) > 1
    if mistake in ("clip-always", "no-clip"):
        return bool(rule.clip)
    return True


def _first_difference(
    theirs: Sequence[Mapping[str, Any]], ours: Sequence[State], close: Callable[[np.ndarray, np.ndarray], bool]
) -> tuple[int, str] | None:
    for k, (mine, want) in enumerate(zip(theirs, ours)):
        for key in want:
            got = np.asarray(mine.get(key, np.full(want[key].shape, np.nan)), dtype=np.float64)
            if got.shape != want[key].shape or not close(got, want[key]):
                return k, key
    return None
