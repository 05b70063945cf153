"""Recording a step: while `fn` runs once on the eager engine, every op, backward and update is reported.

The engines call a few module-level functions for everything they do (`tensor._apply` for each
Tensor op, `value._node` for each Value op); `recording(listener)` swaps in versions that run the
original and then tell `listener`, and wraps `backward`, `Optimizer.step` and the `zero_grad`s
the same way. Nothing is patched outside a trace, so the eager engine pays nothing for it. A
trace holds a process-wide lock: two compiled steps never trace at the same time.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

from .. import fused, number_checks, optim, tensor, value
from ..errors import CompileError
from ..nn import module as nn_module
from . import refuse

_lock = threading.RLock()


class Listener:
    """What a trace reports to (the code generators implement these), and what both keep about `.grad`.

    A trace writes `p.grad = g` where the parameter's gradient was None when backward reached it, and
    `p.grad += g` where it was not; so its guard holds that state at the call's entry, unless the step
    itself clears the gradient first (`zero_grad()`), when the entry state does not matter.
    """

    def __init__(self) -> None:
        self.grad_seen: dict[int, bool] = {}  # id(param) -> its .grad was None when backward first reached it
        self.cleared: set[int] = set()  # params the step cleared (zero_grad(), p.grad = ...) before that
        self.watch: set[int] = set()  # ids of the Values whose hand-written `.grad = ...` the trace records
        self.hand_set: set[int] = set()  # params whose .grad the step set by hand
        # id(optimizer) -> (it, its buffers and its parameters at step())
        self.buffers: dict[int, tuple[Any, tuple[Any, ...], tuple[Any, ...]]] = {}
        self.reachable: list[Any] = []  # the Tensors and Values fn reaches (inputs.owners), set by the caller
        self.outside_read: list[Any] = []  # tensors made outside fn that the code reads afresh (their guard)
        self.settings: dict[int, tuple[Any, list[dict[str, Any]]]] = {}  # id(optimizer) -> (it, its settings)

    def note_grad(self, p: Any) -> None:
        if id(p) not in self.grad_seen and id(p) not in self.cleared:
            self.grad_seen[id(p)] = p.grad is None

    def note_cleared(self, owner: Any) -> None:
        groups = getattr(owner, "param_groups", None)
        params = [p for g in groups for p in g["params"]] if groups is not None else list(owner.parameters())
        self.cleared.update(id(p) for p in params if id(p) not in self.grad_seen)

    def note_buffers(self, optimizer: Any) -> None:
        """Which buffers and parameters the optimizer holds when the step first calls its `step()` (part of
        the guard: the update is written out for these)."""
        self.buffers.setdefault(id(optimizer), (optimizer, buffers(optimizer), group_params(optimizer)))

    def note_settings(self, optimizer: Any) -> None:
        """The optimizer's settings (lr, momentum, ...) when the trace first meets it (see `check_settings`)."""
        self.settings.setdefault(id(optimizer), (optimizer, settings(optimizer)))

    def check_settings(self, fn: Any) -> None:
        """Refuse a step that changed an optimizer's settings: a replay reads them at each call, but does not
        redo what fn did to them (`opt.param_groups[0]["lr"] *= 0.9` inside the step would happen once)."""
        for optimizer, before in self.settings.values():
            for i, (then, now) in enumerate(zip(before, settings(optimizer))):
                changed = sorted(k for k in {*then, *now} if then.get(k, _MISSING) != now.get(k, _MISSING))
                if changed:
                    k = changed[0]
                    raise CompileError(
                        f"compile: the step changed its optimizer's {k!r} in param_groups[{i}] "
                        f"({then.get(k)!r} -> {now.get(k)!r}) in {getattr(fn, '__qualname__', 'fn')}: a replay "
                        "reads the settings at every call but would not change them again; change them between "
                        'calls, outside the step (opt.param_groups[0]["lr"] = ... before each call)'
                    )

    def grad_set(self, p: Any, g: Any) -> None:
        """`p.grad = g` written in the step (micrograd's `p.grad = 0`, or None): the replay does it too."""
        if g is not None and (type(g) not in (int, float)):
            raise refuse.error(
                f"p.grad = <a {type(g).__name__}> by hand", "set a gradient only to None or a number (or zero_grad())"
            )
        if id(p) not in self.grad_seen:
            self.cleared.add(id(p))  # what it held at entry no longer matters
        self.hand_set.add(id(p))
        self.write_grad(p, g)

    def write_grad(self, p: Any, g: Any) -> None: ...

    def grad_at_entry(self, key: int, entry: dict[int, bool]) -> bool | None:
        """What the guard requires of this parameter's `.grad is None` at entry (None: nothing)."""
        if key not in self.grad_seen:
            return None
        seen = self.grad_seen[key]
        return None if key in entry and entry[key] != seen else seen

    def tensor_op(self, op: Any, inputs: tuple[Any, ...], args: tuple[Any, ...], kwargs: dict, out: Any) -> None: ...
    def follow(self, op: Any, inputs: tuple[Any, ...], kwargs: dict, out: Any) -> None: ...
    def value_op(self, out: Any, op: str, a: Any, b: Any, const: Any, many: Any, bias: Any) -> None: ...
    def backward(self, root: Any, gradient: Any) -> None: ...
    def step(self, optimizer: Any) -> None: ...
    def after_step(self, optimizer: Any) -> None: ...
    def zero_grad(self, owner: Any) -> None: ...
    def number_check(self, check: Any, operands: tuple[Any, ...]) -> None: ...


def settings(optimizer: Any) -> list[dict[str, Any]]:
    """Each param group's settings, all but its parameters (those are `group_params`')."""
    return [{k: v for k, v in dict.items(group) if k != "params"} for group in optimizer.param_groups]


def buffers(optimizer: Any) -> tuple[Any, ...]:
    """The names of the buffers each parameter has in `optimizer.state`, for those that have any.

    SGD's first step with momentum makes the momentum buffer and Adam's first step makes its averages:
    another branch of the update than the steps after it, so a change here traces again.
    """
    return tuple(map(tuple, filter(None, optimizer.state.values())))


def group_params(optimizer: Any) -> tuple[tuple[Any, ...], ...]:
    """The parameters each of `optimizer`'s groups holds: one added, removed or put in another's place
    (`param_groups[0]["params"].append(p)`, a new group) changes what its step updates."""
    return tuple(tuple(group["params"]) for group in optimizer.param_groups)


@contextlib.contextmanager
def recording(listener: Listener) -> Iterator[None]:
    """Run the block with every engine entry point reporting to `listener`, and the refusals armed."""
    with _lock:
        saved: list[tuple[Any, str, Any]] = []

        def swap(owner: Any, name: str, new: Any) -> None:
            saved.append((owner, name, owner.__dict__.get(name, _MISSING)))
            setattr(owner, name, new)

        apply, node, check_numbers = tensor._apply, value._node, number_checks.check_numbers
        tensor_backward, value_backward = tensor.Tensor.backward, value.Value.backward
        step, opt_zero, module_zero = optim.Optimizer.step, optim.Optimizer.zero_grad, nn_module.Module.zero_grad
        depth = [0]  # > 0 while an optimizer step runs (its in-place writes are the allowed ones)
        engine = [0]  # > 0 while the engine itself runs (backward, zero_grad, step): its .grad writes are its own
        grad_slot = value.Value.__dict__["grad"]
        grad_set = grad_slot.__set__

        def set_grad(self: Any, g: Any) -> None:  # a Value's `.grad = g` while fn runs
            grad_set(self, g)
            if not engine[0] and id(self) in listener.watch:
                listener.grad_set(self, g)

        watched_grad = property(grad_slot.__get__, set_grad)

        @contextlib.contextmanager
        def engine_runs(fast: bool = False) -> Iterator[None]:
            engine[0] += 1
            if fast:  # the engine's own backward: the plain slot, no check on each write
                value.Value.grad = grad_slot
            try:
                yield
            finally:
                engine[0] -= 1
                if fast:
                    value.Value.grad = watched_grad

        def recorded_apply(op: Any, inputs: tuple[Any, ...], *args: Any, **kwargs: Any) -> Any:
            with refuse.engine_reads():
                out = apply(op, inputs, *args, **kwargs)
            listener.tensor_op(op, inputs, args, kwargs, out)
            return out

        def recorded_node(data: float, op: str, a: Any, da: float, b: Any = None, db: float = 0.0, many: Any = None):
            out = node(data, op, a, da, b, db, many)
            bias = sys._getframe(1).f_locals.get("bias") if many is not None else None  # weighted_sum's number
            listener.value_op(out, op, a, b, db if b is None else None, many, bias)
            return out

        def recorded_tensor_backward(self: Any, gradient: Any = None, retain_graph: Any = None, create_graph=False):
            refuse.no_create_graph(create_graph)
            listener.backward(self, gradient)
            with refuse.engine_reads():
                return tensor_backward(self, gradient, retain_graph, create_graph)

        def recorded_value_backward(self: Any, gradient: float = 1.0, create_graph: bool = False) -> None:
            refuse.no_create_graph(create_graph)
            listener.backward(self, gradient)
            with engine_runs(fast=True):
                return value_backward(self, gradient, create_graph)

        def recorded_step(self: Any, closure: Any = None) -> Any:
            refuse.no_closure(closure)
            listener.note_settings(self)
            listener.note_buffers(self)
            listener.step(self)
            depth[0] += 1
            try:
                with refuse.engine_reads(), engine_runs():
                    return step(self, None)
            finally:
                depth[0] -= 1
                listener.after_step(self)

        def recorded_check(check: Any, *operands: Any) -> None:  # a check on the numbers: each replay runs it too
            with refuse.engine_reads():
                check_numbers(check, *operands)
            listener.number_check(check, operands)

        def recorded_opt_zero(self: Any) -> None:
            listener.note_settings(self)
            listener.zero_grad(self)
            with engine_runs():
                opt_zero(self)

        def recorded_module_zero(self: Any) -> None:
            listener.zero_grad(self)
            with engine_runs():
                module_zero(self)

        swap(tensor, "_apply", recorded_apply)
        swap(value, "_node", recorded_node)
        swap(fused, "_node", recorded_node)
        swap(tensor.Tensor, "backward", recorded_tensor_backward)
        swap(value.Value, "backward", recorded_value_backward)
        swap(optim.Optimizer, "step", recorded_step)
        swap(optim.Optimizer, "zero_grad", recorded_opt_zero)
        swap(nn_module.Module, "zero_grad", recorded_module_zero)
        swap(value.Value, "grad", watched_grad)
        swap(number_checks, "check_numbers", recorded_check)
        for owner, name, new in refuse.patches(lambda: depth[0] > 0):
            swap(owner, name, new)
        try:
            yield
        finally:
            for owner, name, old in reversed(saved):
                if old is _MISSING:
                    delattr(owner, name)
                else:
                    setattr(owner, name, old)


_MISSING = object()


@contextlib.contextmanager
def following(listener: Listener) -> Iterator[None]:
    """Run the block with each tensor op reported to `listener.follow` only: the second call's eager step,
    which must treat what it computes from array arguments alone as the trace did (tensor_code.py)."""
    with _lock:
        apply = tensor._apply

        def followed_apply(op: Any, inputs: tuple[Any, ...], *args: Any, **kwargs: Any) -> Any:
            out = apply(op, inputs, *args, **kwargs)
            listener.follow(op, inputs, kwargs, out)
            return out

        tensor._apply = followed_apply
        try:
            yield
        finally:
            tensor._apply = apply
