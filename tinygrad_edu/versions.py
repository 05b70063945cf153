"""Version counters: how backward notices a tensor that was written in place after an op read it.

Each tensor may carry `_vc = [version, tick of the last write]`, made on its first in-place write
and shared with its `detach()`es and NumPy views (same memory, so a write to one is a write to all,
as in PyTorch). The forward pass records nothing: a node was created at tick `_order`, so an input
it read has changed since iff that input's last write is newer. `last_write[0]` is the newest write
anywhere, which lets backward skip the check with one comparison per node in the usual case (no
write since the forward pass). Nothing here imports `Tensor`: these functions read the fields only.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from .graph import tick
from .tensor_checks import modified_in_place

last_write = [-1]  # the tick of the newest in-place write to any tensor
_write_lock = threading.Lock()


def version(t: Any) -> int:
    """How many in-place writes `t`'s data has had (PyTorch's `t._version`)."""
    vc = getattr(t, "_vc", None)
    return 0 if vc is None else vc[0]


def counter(t: Any) -> list[int]:
    """`t`'s version counter, made on first use (most tensors are never written in place)."""
    vc = getattr(t, "_vc", None)
    if vc is None:
        with _write_lock:  # two threads must not each make one (a view would share the wrong one)
            vc = getattr(t, "_vc", None)
            if vc is None:
                vc = t._vc = [0, -1]
    return vc


def bump_version(*ts: Any) -> None:
    """Record an in-place write to each of `ts` (its data changed): optimizers and `load_state_dict` call this."""
    note_writes([counter(t) for t in ts])


def note_writes(counters: Any) -> None:
    """One in-place write on each of `counters`, at one tick (`bump_version`'s; a compiled step holds its own)."""
    with _write_lock:  # one clock for all threads: the newest write is always the largest tick
        now = tick()
        for vc in counters:
            vc[0] += 1
            vc[1] = now
        if counters and now > last_write[0]:  # (no counters: nothing was written)
            last_write[0] = now


def share_if_view(base: Any, result: Any) -> Any:
    """A result that is a NumPy view of `base` (reshape, permute, basic indexing) shares its version counter.

    They share memory, so an in-place write to either changes both: as in PyTorch, the write must
    be seen by the ops that saved either one.
    """
    if np.may_share_memory(result.data, base.data):
        result._vc = counter(base)
    return result


def check_versions(node: Any) -> None:
    """Raise if an input whose value this node's backward reads was written in place since the forward pass."""
    op = node._op
    parents = node._parents
    written = [
        (i, parents[i])
        for i in _read_inputs(op, node._needs, len(parents))
        if parents[i] is not None and _written_after(parents[i], node._order)
    ]
    if op.reads_out and _written_after(node, node._order):
        written.append((None, node))
    if written:
        i, tensor = written[0]
        raise modified_in_place(op.__name__, i, tensor, version(tensor))


def _read_inputs(op: Any, needs: tuple[bool, ...], n: int) -> set[int]:
    """The inputs whose values `op.backward` reads to make the gradients in `needs` (see `Op.reads`)."""
    if op.reads is None:
        return set(range(n))
    return {j for i, deps in enumerate(op.reads) if i < len(needs) and needs[i] for j in deps}


def _written_after(t: Any, order: int) -> bool:
    vc = getattr(t, "_vc", None)
    return vc is not None and vc[1] > order
