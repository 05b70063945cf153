"""Several training steps of a user's update against the library's optimizer, to catch what one step hides.

A momentum buffer equals the gradient on the first step whatever μ is, so a dropped μ (the buffer
never decays) only shows from the second step on; Adam's bias correction and averages likewise.
`compare_steps` runs K steps of both from the same parameters on the same sample and reports the
first step and parameter where they part, with the update rule the user's step matches instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import TinygradEduError


@dataclass
class StepReport:
    """The first (step, parameter) where the user's parameters leave the optimizer's, and why; None if never."""

    steps: int
    optimizer: str
    first_step: int | None = None
    param: str | None = None
    diagnosis: str = ""

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
        }

    def __str__(self) -> str:
        if self.ok:
            return f"{self.steps} steps of your update match {self.optimizer} step for step"
        return f"step {self.first_step}, {self.param}: your update leaves {self.optimizer} here: {self.diagnosis}"


def describe(opt: Mapping[str, Any], lr: float) -> str:
    name = opt.get("name", "sgd").lower()
    if name == "adam":
        b1, b2 = opt.get("betas", (0.9, 0.999))
        return f"Adam(lr={lr:g}, betas=({b1:g}, {b2:g}), eps={opt.get('eps', 1e-8):g})"
    return f"SGD(lr={lr:g}, momentum={opt.get('momentum', 0.0):g})"


def compare_steps(
    model: Any,
    loss_fn: Callable[[Any, Any], Any],
    inputs: Any,
    targets: Any,
    step: Callable[[dict[str, np.ndarray], np.ndarray, np.ndarray], Mapping[str, Any]],
    optimizer: Mapping[str, Any],
    lr: float,
    steps: int,
    close: Callable[[np.ndarray, np.ndarray], bool],
) -> StepReport:
    """Run `steps` steps of `step` (stateful, called in turn) and of the library's optimizer; compare each."""
    from .. import optim
    from .compare import _autodiff

    name = str(optimizer.get("name", "sgd")).lower()
    params = list(model.parameters())
    if name == "adam":
        b1, b2 = tuple(optimizer.get("betas", (0.9, 0.999)))
        opt: Any = optim.Adam(params, lr=lr, betas=(b1, b2), eps=float(optimizer.get("eps", 1e-8)))
    elif name == "sgd":
        opt = optim.SGD(params, lr=lr, momentum=float(optimizer.get("momentum", 0.0)))
    else:
        raise TinygradEduError(f"check: OPTIMIZER name {name!r}: use 'sgd' (with momentum) or 'adam'")
    report = StepReport(steps, describe(optimizer, lr))
    mine = {k: np.array(v, dtype=np.float64) for k, v in model.state_dict().items()}
    history: list[dict[str, np.ndarray]] = []
    x, t = np.asarray(inputs, np.float64), np.asarray(targets, np.float64)
    for k in range(1, steps + 1):
        before = {key: np.array(v, dtype=np.float64) for key, v in model.state_dict().items()}
        grads = _autodiff(model, loss_fn, inputs, targets)[0]
        history.append(grads)
        opt.step()
        theirs = {key: np.array(v, dtype=np.float64) for key, v in model.state_dict().items()}
        new = step({key: v.copy() for key, v in mine.items()}, x.copy(), t.copy())
        for key in theirs:
            got = np.asarray(new.get(key, np.full(theirs[key].shape, np.nan)), dtype=np.float64)
            if got.shape != theirs[key].shape or not close(got, theirs[key]):
                report.first_step, report.param = k, key
                report.diagnosis = _why(name, optimizer, lr, key, before[key], got, history, close)
                return report
        mine = {key: np.asarray(v, dtype=np.float64) for key, v in new.items()}
    return report


def _why(
    name: str,
    opt: Mapping[str, Any],
    lr: float,
    key: str,
    before: np.ndarray,
    got: np.ndarray,
    history: list[dict[str, np.ndarray]],
    close: Callable[[np.ndarray, np.ndarray], bool],
) -> str:
    """Which known update rule turns the same gradients into the user's step."""
    g = [h[key] for h in history]
    candidates: list[tuple[str, np.ndarray]] = []
    if name == "sgd":
        mu = float(opt.get("momentum", 0.0))
        candidates.append(("plain SGD: the momentum buffer is not used (w − lr·g)", g[-1]))
        candidates.append(("the momentum buffer never decays: v = v + g instead of v = μ·v + g", sum(g)))
        buf = g[0]
        for gi in g[1:]:
            buf = mu * buf + (1 - mu) * gi
        candidates.append(("the buffer is damped: v = μ·v + (1 − μ)·g instead of v = μ·v + g", buf))
        buf = g[0]
        for gi in g[1:]:
            buf = mu * gi + buf
        candidates.append(("μ multiplies the new gradient instead of the old buffer: v = v + μ·g", buf))
    else:
        b1, b2 = tuple(opt.get("betas", (0.9, 0.999)))
        eps = float(opt.get("eps", 1e-8))
        m = v = 0.0
        for gi in g:
            m, v = b1 * m + (1 - b1) * gi, b2 * v + (1 - b2) * gi * gi
        t = len(g)
        candidates.append(
            ("the bias correction is missing: m / (√v + eps) instead of m̂ / (√v̂ + eps)", m / (np.sqrt(v) + eps))
        )
        mh = m / (1 - b1**t)
        candidates.append(("v is an average of g, not of g²", mh / (np.sqrt(np.abs(_avg(g, b2)) / (1 - b2**t)) + eps)))
        candidates.append(("√v is not taken: m̂ / (v̂ + eps)", mh / (v / (1 - b2**t) + eps)))
    for text, update in candidates:
        if close(got, before - lr * update):
            return text
    return f"the parameters differ from {describe(opt, lr)}'s, by no update rule the checker knows"


def _avg(g: list[np.ndarray], beta: float) -> np.ndarray:
    v = 0.0
    for gi in g:
        v = beta * v + (1 - beta) * gi
    return v
