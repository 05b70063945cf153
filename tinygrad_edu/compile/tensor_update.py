"""The optimizer's update written out as NumPy calls: its own `_update` run once on stand-ins.

`optimizer.step()` loops over the groups and parameters in Python and allocates `lr * grad` for
each; a replay can do without both. At trace time each parameter's `_update` (optim.py: the rule
written once) runs on a copy of its array and its gradient as `Staged` arrays, with the group's
settings handed out by `TracedGroup`: the learning rate as a number read at every replay (a schedule that
sets `param_groups[0]["lr"]` works), every other setting it reads recorded, so that the code checks
them first and runs `optimizer.step()` itself when one changed (another branch of the rule). An
update that reads its state (momentum, Adam's moments and step count) is not written out: the code
calls `optimizer.step()`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import optim
from ..tensor import Tensor
from ..versions import counter, note_writes
from .tape import Named, Staged, Tape
from .traced_group import TracedGroup, settings_changed, writable


class _State(dict):
    """A parameter's optimizer state: reading or writing it makes the update not written out."""

    def __init__(self, tape: Tape, state: dict[str, Any]) -> None:
        super().__init__(state)
        self.tape = tape

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        self.tape.impure = "the update reads its state"

    __getitem__ = __setitem__ = update = setdefault = pop = _refuse  # type: ignore[assignment]


def stage_update(step: Any, optimizer: Any) -> bool:
    """Write `optimizer.step()` as NumPy calls into `step`'s tape; False where it cannot (then nothing is written)."""
    if not writable(optimizer):
        return False
    tape: Tape = step.tape
    start = len(tape.items)
    many = len(optimizer.param_groups) > 1
    groups = [
        TracedGroup(group, Named(group["lr"], f"lr_{i}" if i else "lr"), f"group_{i}" if many else "group")
        for i, group in enumerate(optimizer.param_groups)
    ]
    name = step.code.ref(optimizer, "optimizer")
    for i, group in enumerate(groups):
        tape.text(f"{group.name} = {name}.param_groups[{i}]", "its settings, read now")
    guard = tape.text("", "")  # the settings check, written once they are known
    tape.text("else:", "")
    tape.indent = "    "
    for group in groups:
        tape.text(f"{group.lr.text} = {group.name}['lr']", "the learning rate, read now")
    bumped: list[Any] = []
    written: list[Tensor] = []
    original = optim.bump_version
    optim.bump_version = bumped.append  # noted, and written below as the replay's line
    try:
        for group in groups:
            for p in group["params"]:
                if p.grad is not None and not _one(step, optimizer, p, group, bumped, written):
                    del tape.items[start:]
                    return False
        if written:  # (the counters, made now if new, are each parameter's for good: views and detach share them)
            note = step.code.ref(note_writes, "note_writes")
            versions = step.code.ref(tuple(counter(p) for p in written), "versions")
            names = ", ".join(step.code.param(p, "p") for p in written)
            tape.text(f"{note}({versions})", f"the in-place writes above, noted as step() notes them ({names})")
    finally:
        optim.bump_version = original
        tape.indent = ""
        tape.impure = ""
    changed = settings_changed(groups)  # the settings the written rule assumed, and the learning rate's type
    if changed is None:
        del tape.items[start:]
        return False
    guard.line = f"if {changed}:"
    guard.comment = "not the branch of the rule written below: the optimizer runs its own"
    tape.items.insert(start + len(groups) + 1, _indented(tape, f"{name}.step()"))
    return True


def _indented(tape: Tape, line: str) -> Any:
    item = tape.text(line, "")
    tape.items.pop()
    item.indent = "    "
    return item


def _one(step: Any, optimizer: Any, p: Tensor, group: TracedGroup, bumped: list[Any], written: list[Tensor]) -> bool:
    """Record `optimizer._update` for one parameter; False if the tape cannot write it."""
    tape: Tape = step.tape
    label = step.operand(p)
    fake = Tensor.__new__(Tensor)
    fake.data = tape.stage(np.array(p.data), label.var.name, "external")
    fake.data.var = label.var  # writes go to the parameter's own variable (a copy of its numbers, for now)
    fake.grad = step.grad_var(p)
    fake.requires_grad, fake.name = True, None
    with tape.recording("d"):
        try:
            optimizer._update(fake, fake.grad, _State(tape, optimizer.state.get(p, {})), group)
        except Exception as error:  # a branch the stand-ins cannot take
            tape.impure = tape.impure or f"{type(error).__name__}: {error}"
    if tape.impure:
        return False
    written.extend(p for t in bumped if t is fake)
    bumped.clear()
    return isinstance(fake.data, Staged)
