"""`detect_anomaly()`: stop at the first op whose forward or backward produces NaN or inf.

Like `torch.autograd.detect_anomaly`. While it is on, every op remembers where in the user's code it
was created, and the engines check each result and each gradient; the error names the op, the
input shapes and that line. Off (the default), it costs one flag test per op. Only the sites of the
most recent ops are kept (`SITES_KEPT`), so a long run under it does not grow without bound.
"""

from __future__ import annotations

import math
import sys
import traceback
from collections import OrderedDict
from typing import Any

import numpy as np

from .errors import AnomalyError
from .graph import Mode, Node, Switch

_intern = sys.intern  # one string per source line, however many ops it makes

_PACKAGE_DIR = __file__.rsplit("/", 1)[0]


SITES_KEPT = 1 << 16  # the creation sites of the last 65,536 ops are kept while anomaly mode is on


class _AnomalyMode(Mode):
    """This thread's anomaly mode (off in every new thread) and where its recent ops were created."""

    def __init__(self) -> None:  # runs once in every thread that reads it
        super().__init__(False, f"{__name__}.anomaly_mode")
        # node.order -> "file:line in function", oldest first; bounded, so a long run under
        # detect_anomaly does not keep one entry per op ever made (ticks are never reused).
        self.sites: OrderedDict[int, str] = OrderedDict()


anomaly_mode = _AnomalyMode()


class detect_anomaly(Switch):  # noqa: N801 (PyTorch's name)
    """Context manager and decorator: raise `AnomalyError` at the first NaN or inf in a forward or backward pass.

    It switches only the calling thread, as grad mode does.
    """

    def __init__(self) -> None:
        super().__init__(anomaly_mode, True)

    def __exit__(self, *exc_info: object) -> None:
        super().__exit__(*exc_info)
        if not anomaly_mode.enabled:
            anomaly_mode.sites.clear()


def record_site(order: int) -> None:
    """Remember the first stack frame outside tinygrad_edu: the user's line that made this node."""
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not frame.filename.startswith(_PACKAGE_DIR):
            sites = anomaly_mode.sites
            sites[order] = _intern(f"{frame.filename}:{frame.lineno} in {frame.name}")
            if len(sites) > SITES_KEPT:
                sites.popitem(last=False)  # forget the oldest
            return


def is_bad(x: Any) -> bool:
    """True if `x` (a float or an array) holds a NaN or an inf."""
    if isinstance(x, float):
        return not math.isfinite(x)
    x = np.asarray(x)
    return x.dtype.kind in "fc" and not bool(np.isfinite(x).all())


def report(where: str, op: str, shapes: list[Any], order: int) -> AnomalyError:
    site = anomaly_mode.sites.get(
        order, f"an unknown place (created before detect_anomaly was on, or more than {SITES_KEPT} ops ago)"
    )
    shape_text = ", ".join(str(s) for s in shapes) or "no tensor inputs"
    return AnomalyError(
        f"detect_anomaly: {where} of {op} produced NaN or inf (inputs: {shape_text}); the op was created at "
        f"{site}. Check that op's inputs: a log or division of zero, an overflowing exp, or a too-large learning rate"
    )


def check_forward(op: str, out: Any, inputs: list[Any], shapes: list[Any], order: int) -> None:
    """Remember where this op was made; stop at a NaN or inf it produced from inputs that had none."""
    record_site(order)
    if is_bad(out) and not any(is_bad(x) for x in inputs if x is not None):
        raise report("forward", op, shapes, order)


def check_backward(op: str, grads: Any, shapes: list[Any], order: int) -> None:
    """Stop at a NaN or inf among the gradients an op's backward passes to its inputs."""
    if any(g is not None and is_bad(g) for g in grads):
        raise report("backward", op, shapes, order)


def check_tensor_backward(node: Any, grads: tuple[Any, ...]) -> None:
    """`check_backward` for a tensor node before it is released (`tensor_backward`): arrays, its inputs' shapes."""
    shapes = [None if p is None else p.shape for p in node._parents]
    check_backward(node._op.__name__, [d.data if isinstance(d, Node) else d for d in grads], shapes, node._order)
