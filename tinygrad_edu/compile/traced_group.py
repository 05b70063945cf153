"""A param group as an optimizer's `_update` sees it while the update is written out as code.

Both engines' update writers (tensor_update.py, scalar_update.py) run the optimizer's own rule on
stand-ins. The rule reads its settings from the group: the learning rate comes back as the engine's
stand-in for a name the code reads at every call (so a schedule that sets `lr` works), and every other
setting it reads is noted, so that the code checks them first and calls `optimizer.step()` where one
changed (the rule would take another branch).
"""

from __future__ import annotations

import math
from typing import Any

from .. import optim


def writable(optimizer: Any) -> bool:
    """Whether `optimizer.step()` can be written out: its step is `Optimizer.step` (one of its own has other
    arithmetic than `_update`'s) and every learning rate a Python number (a NumPy scalar computes in its
    own dtype). Otherwise the code calls `optimizer.step()`."""
    if type(optimizer).step is not optim.Optimizer.step:
        return False
    return all(type(group["lr"]) in (float, int) for group in optimizer.param_groups)


class TracedGroup(dict):
    """`group` with `lr` handed out as the stand-in `lr`; `name` is the code's variable for the live group."""

    def __init__(self, group: dict[str, Any], lr: Any, name: str) -> None:
        super().__init__(group)
        self.lr, self.name = lr, name
        self.read: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        value = dict.__getitem__(self, key)
        if key == "lr":
            return self.lr
        if key != "params":
            self.read[key] = value
        return value

    def get(self, key: str, default: Any = None) -> Any:
        return self.__getitem__(key) if dict.__contains__(self, key) else default  # never dict.get's raw lr


def settings_changed(groups: list[TracedGroup]) -> str | None:
    """The test under which the written rule is not the one to run: a setting it read differs from its value
    at trace time, or a learning rate's type does (a NumPy scalar computes in its own dtype). None where a
    setting cannot be written as a Python literal (a NumPy scalar, inf): then the rule is not written out."""
    reads = [(f"{group.name}[{key!r}]", value) for group in groups for key, value in group.read.items()]
    if not all(type(value) in (bool, int, float) and math.isfinite(value) for _, value in reads):
        return None
    # one comparison after another, no tuples built: the test runs at every replay
    changes = [f"{text} != {value!r}" for text, value in reads]
    changes += [f"type({group.name}['lr']) is not {type(dict.__getitem__(group, 'lr')).__name__}" for group in groups]
    return " or ".join(changes)
