"""A file that does not declare LOSS or ACTIVATION: every modelled one is tried, and the report says which one fits.

Never the default silently. The gradient is compared under each modelled loss (½ Σ and its kin, binary
cross-entropy on a sigmoid output, softmax with cross-entropy) and each activation the file leaves open;
then, in this order:

1. the numbers fit one exactly: when a known mistake under the default explains them just as well (a
   sigmoid output's δ without σ′ is binary cross-entropy's δ), both are named and the verdict stands;
   else (or when the two are one cross-entropy summed or averaged) the check goes on as the one that
   fits, and says so;
2. else the one under which the most gradients match is the one checked (the default first among equals),
   named when it is not the default; when a known mistake explains the default's numbers, only another
   reading that a known mistake explains can replace it (one mistake in the hidden layer of a binary
   cross-entropy file, not a missing σ′ at its output and a hidden layer wrong besides);
3. under none does any gradient match or a known mistake explain any of the numbers: `CannotCheckError` (exit 3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import CannotCheckError
from .settings import ACTIVATIONS, Settings

Candidate = tuple[str, tuple[str, ...]]  # (loss, one activation per layer)
OTHER_LOSSES = ("bce", "bce-mean", "cross-entropy", "cross-entropy-mean")


def candidates(given: Settings, targets_in_unit_range: bool) -> list[Candidate]:
    """Every (loss, activations) the file's declarations leave open, the current one first."""
    layers = len(given.activations)
    losses = [given.loss]
    if "LOSS" not in given.declared:
        losses += [
            loss
            for loss in OTHER_LOSSES
            if loss != given.loss
            and (targets_in_unit_range or not loss.startswith("bce"))
            and (given.sizes[-1] > 1 or not loss.startswith("cross-entropy"))
        ]
    declared = "ACTIVATION" in given.declared
    hidden_choices = [tuple(given.activations[:-1])] if declared else [(a,) * (layers - 1) for a in ACTIVATIONS]
    out = [(given.loss, tuple(given.activations))]
    for loss in losses:
        for hidden in hidden_choices:
            for last in _lasts(loss, hidden, given.activations[-1], declared):
                if (loss, (*hidden, last)) not in out:
                    out.append((loss, (*hidden, last)))
    return out


def _lasts(loss: str, hidden: tuple[str, ...], declared_last: str, declared: bool) -> tuple[str, ...]:
    if loss.startswith("bce"):
        return ("sigmoid",)
    if loss.startswith("cross-entropy"):
        return ("identity",)  # the softmax belongs to the loss
    if declared:
        return (declared_last,)
    if not hidden:
        return ACTIVATIONS
    return tuple(dict.fromkeys((hidden[0], "identity", "sigmoid")))  # the same as the hidden layers, or linear


def fit(
    path: str,
    given: Settings,
    report: Any,
    tried_as: Callable[[str, tuple[str, ...]], Any],
    explained: Callable[[Any], bool],
    named: Callable[[Any], bool],
    targets_in_unit_range: bool,
    matching: Callable[[str, tuple[str, ...]], int],
) -> tuple[Any, Candidate, str]:
    """(the report to keep, the (loss, activations) it was made under, the sentence that says so or "").

    `explained(report)`: a known mistake explains every wrong gradient; `named(report)`: at least one.
    `matching(loss, acts)`: how many of the file's gradients autodiff gives under that reading (a quick look,
    no diagnosis); the full comparison, `tried_as`, runs only where that count says it can matter.
    """
    current = (given.loss, tuple(given.activations))
    tried = {current: report}
    others = [c for c in candidates(given, targets_in_unit_range) if c != current]
    quick = {c: matching(*c) for c in others}
    top = max(quick.values(), default=0)
    whole = [c for c in others if quick[c] == len(report.params)]
    look = whole or [c for c in others if top and quick[c] == top]
    if not top and not named(report):
        look = others  # before refusing, every reading is compared in full (a cause may be named under one)
    for candidate in look:
        tried[candidate] = tried_as(*candidate)
    open_ = [name for name in ("LOSS", "ACTIVATION") if name not in given.declared]
    unsaid = f"{' and '.join(open_)} {'are' if len(open_) > 1 else 'is'} not declared"
    fits = [c for c, r in tried.items() if r.ok]
    if fits and explained(report) and not _kin(fits[0][0], current[0]):
        return (
            report,
            current,
            (
                f"{unsaid}: your numbers are also exactly those of a correct file with {_words(fits[0])}; if that is "
                f"what your file computes, declare {_declare(fits[0], open_)} (the report above reads it as "
                f"{_words(current)})"
            ),
        )
    if fits:
        return (
            tried[fits[0]],
            fits[0],
            (
                f"{unsaid}: the numbers fit {_words(fits[0])} (checked as that; declare {_declare(fits[0], open_)} "
                "to say so)"
            ),
        )
    # (gradients that match, a known mistake explains every other, one explains some)
    score = {c: (sum(p.ok for p in r.params), explained(r), named(r)) for c, r in tried.items()}
    if score[current][1]:  # a known mistake explains the numbers: only another such story, matching more, wins
        score = {c: s for c, s in score.items() if s[1]}
    best = max(score, key=lambda c: score[c])  # max keeps the first of equals: the current one
    if score[best] == (0, False, False):
        raise CannotCheckError(
            f"{path}: {unsaid}, and under none of the {len(others) + 1} modelled losses and activations tried does any "
            "gradient match or a known mistake explain the numbers; declare LOSS and ACTIVATION if the network is "
            "one the checker models"
        )
    if best == current:
        return report, current, ""
    return (
        tried[best],
        best,
        (
            f"{unsaid}: checked as {_words(best)}, under which the most gradients match "
            f"({score[best][0]} of {len(tried[best].params)}); declare {_declare(best, open_)} to be sure"
        ),
    )


def _kin(loss: str, other: str) -> bool:
    """Two conventions of one cross-entropy (summed or averaged): a file that declares neither may use either."""
    family = ("bce", "cross-entropy")
    return loss.startswith(family) and loss.split("-mean")[0] == other.split("-mean")[0]


def _declare(candidate: Candidate, open_: list[str]) -> str:
    """`LOSS = 'bce'` and/or `ACTIVATION = 'tanh'` (a list when the layers differ), for what the file left open."""
    loss, acts = candidate
    said = [f"LOSS = {loss!r}"] if "LOSS" in open_ else []
    if "ACTIVATION" in open_:
        said.append(f"ACTIVATION = {acts[0] if len(set(acts)) == 1 else list(acts)!r}")
    return " and ".join(said)


def _words(candidate: Candidate) -> str:
    """`loss bce with tanh/sigmoid layers`."""
    loss, acts = candidate
    return f"loss {loss} with {'/'.join(acts) if len(set(acts)) > 1 else acts[0]} layers"
