"""The optimizer's update on the scalar engine, written out: its own `_update` run once on stand-ins.

The article ends its derivation with the update, w5′ = w5 − α · ∂E/∂w5; the compiled step should
show that line, not a call. At trace time each parameter's `_update` (optim.py, where the rule is
written once) runs on `Sym`s: the parameter's number, its gradient and the learning rate become
names, so `lr * grad` and `p - lr * grad` come out as the expression the replay evaluates. The
learning rate is read from `param_groups` at every call (a schedule that sets `lr` works); every
other setting the rule reads (weight decay, momentum) is checked first (`traced_group.py`, shared with
the tensor engine), and where one differs, or the learning rate's type does, the replay calls
`optimizer.step()` instead: the optimizer then
takes its own branch. A rule that reads its state (SGD's momentum buffer, Adam's moments and step
count) is not written out: the code calls `optimizer.step()`, which reads that state at every call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import optim
from ..errors import UpdateReadsState
from .expr import Expr, Sym, Var, render
from .traced_group import TracedGroup, settings_changed, writable


class _State(dict):
    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise UpdateReadsState

    __getitem__ = __setitem__ = __contains__ = __len__ = update = setdefault = pop = get = _refuse  # type: ignore[assignment]


class _Param:
    """What `_update` reads of a parameter: `.data`, a name in the code."""

    def __init__(self, data: Var) -> None:
        self.data = Sym(data)


def written_update(
    optimizer: Any, holders: dict[int, str], name: str, new_name: Callable[[str], str], loss: str
) -> list[tuple[str, str]] | None:
    """The lines of `optimizer.step()` as float arithmetic, or None where it cannot be written out.

    `holders` maps id(parameter) to how the code reaches it (`params.w5`), for every parameter whose
    gradient this step wrote. `name` is the optimizer's name in the code, `new_name(hint)` gives a fresh
    variable name, `loss` the loss's name for the comments (`w5 ← w5 - lr * ∂E/∂w5`).
    """
    if not writable(optimizer):
        return None
    groups = [TracedGroup(g, Sym(Var(new_name("lr"))), new_name("group")) for g in optimizer.param_groups]
    updates: list[tuple[str, str]] = []
    recorded: list[tuple[_Param, Any]] = []
    original = optim._subtract
    optim._subtract = lambda param, delta: recorded.append((param, delta))  # p -= delta, noted, not done
    try:
        for group in groups:
            for p in dict.__getitem__(group, "params"):
                if p.grad is None:
                    continue
                holder = holders.get(id(p))
                if holder is None:
                    return None  # a gradient this step did not write: it may be None at the next call
                data, grad = Var(f"{holder}.data"), Var(f"{holder}.grad")
                param = _Param(data)
                recorded.clear()
                try:
                    optimizer._update(param, Sym(grad), _State(), group)
                except UpdateReadsState:
                    return None
                if len(recorded) != 1 or recorded[0][0] is not param:
                    return None
                delta = recorded[0][1]
                new = param.data - delta  # optim._subtract's arithmetic: p = p - delta
                short = holder.rsplit(".", 1)[-1]
                shown = {data: Var(short), grad: Var(f"∂{loss}/∂{short}")}
                line = f"{holder}.data = {render(new.expr, _plain)}"
                updates.append((line, f"{short} ← {render(new.expr, shown.get)}"))
    finally:
        optim._subtract = original
    changed = settings_changed(groups)
    if not updates or changed is None:
        return None  # nothing to write (no gradient reached a parameter), or a setting repr() cannot spell
    return _with_guard(groups, updates, name, changed)


def _plain(v: Var) -> Expr | None:
    return None


def _with_guard(
    groups: list[TracedGroup], updates: list[tuple[str, str]], name: str, changed: str
) -> list[tuple[str, str]]:
    """Read each group's settings, check the ones the written branch assumed, then the updates."""
    lines = []
    for i, group in enumerate(groups):
        lines.append((f"{group.name} = {name}.param_groups[{i}]", "its settings, read now"))
        lines.append(
            (f"{group.lr.expr.text} = {group.name}['lr']", "the learning rate, read now (a schedule may set it)")
        )
    lines.append((f"if {changed}:", "not the branch of the rule written below"))
    lines.append((f"    {name}.step()", "so the optimizer runs its own"))
    lines.append(("else:", ""))
    lines += [(f"    {line}", comment) for line, comment in updates]
    return lines
