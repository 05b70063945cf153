"""`train --graph-step first|last|N`: which training step `train --graph` draws, and saying which.

After training on moons the max-margin loss is exactly 0, so every gradient of the last step is 0 and
the drawing teaches nothing; the first step (the initial weights) is where gradients flow. So
`--graph` draws the first step by default; `last` draws the trained weights, and N the weights after
N epochs. Each is one forward and one backward pass, with no update, on one batch in data order.
"""

from __future__ import annotations

import argparse
import copy
from typing import Any

from ..errors import ArgumentError


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--graph-step",
        type=_which,
        default="first",
        metavar="first|last|N",
        help="which step --graph draws: first (the initial weights, the default), last (the trained weights) "
        "or N (the weights after N epochs)",
    )


def _which(text: str) -> str | int:
    if text in ("first", "last"):
        return text
    if text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(f"{text!r}: use first, last or a number of epochs (0, 1, 2, ...)")


class Snapshot:
    """Keeps a copy of the model at the chosen step, by counting the optimizer's updates."""

    def __init__(
        self, which: str | int, model: Any, optimizer: Any, epochs: int, steps_per_epoch: int, compiled: bool = False
    ) -> None:
        if isinstance(which, int) and which > epochs:
            raise ArgumentError(f"--graph-step {which}: training runs {epochs} epochs; use 0 … {epochs}, first or last")
        which = compiled_step(which, epochs) if compiled else which
        self.which, self.model = which, None
        target = 0 if which == "first" else None if which == "last" else which * steps_per_epoch
        if target == 0:
            self.model = copy.deepcopy(model)
        elif target is not None:
            step, count = optimizer.step, [0]

            def counted() -> None:  # an instance attribute: the class and other optimizers are untouched
                step()
                count[0] += 1
                if count[0] == target:
                    self.model = copy.deepcopy(model)

            optimizer.step = counted

    def chosen(self, trained: Any) -> Any:
        """The model to draw: the copy taken at the chosen step, or the trained one."""
        return trained if self.model is None else self.model

    def says(self, n_samples: int, in_order: str) -> str:
        """What the drawing shows, for the line `train` prints and the page's title."""
        which = {"first": "the first training step (the initial weights)", "last": "the trained weights"}.get(
            self.which, f"the weights after {self.which} epoch{'s' if self.which != 1 else ''}"
        )
        samples = "sample" if n_samples == 1 else f"{n_samples} samples"
        return f"{which}, on the {in_order} {samples}" if n_samples != 1 else f"{which}, on the {in_order} sample"


def compiled_step(which: str | int, epochs: int) -> str | int:
    """`--graph-step` under `--compile`: the first and the last weights only.

    A compiled step runs the optimizer's update inside its generated code, so no `optimizer.step()`
    call marks the end of epoch N to copy the weights at. N = 0 is the first step, N = epochs the last;
    any other N is refused before training rather than drawing the wrong weights.
    """
    if not isinstance(which, int) or which == 0:
        return which
    if which == epochs:
        return "last"
    raise ArgumentError(
        f"--graph-step {which} with --compile: a compiled step updates the weights inside its generated code, "
        f"so there is no epoch {which} to copy them at; use --graph-step first or last ({epochs}), "
        "or leave out --compile to draw that epoch"
    )
