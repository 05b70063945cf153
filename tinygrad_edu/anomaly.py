"""`detect_anomaly()`: stop at the first op whose forward or backward produces NaN or inf.

Like `torch.autograd.detect_anomaly`. While it is on, every op remembers where in the user's code it
was created, and the engines check each result and each gradient; the error names the op, the
input shapes and that line. Off (the default), it costs one flag test per op.
"""

from __future__ import annotations

import math
import traceback
from typing import Any

import numpy as np

from .errors import TinygradEduError

_PACKAGE_DIR = __file__.rsplit("/", 1)[0]


class AnomalyError(TinygradEduError, RuntimeError):
    """An op produced NaN or inf while `detect_anomaly()` was on."""


class _AnomalyMode:
    __slots__ = ("enabled", "sites")

    def __init__(self) -> None:
        self.enabled = False
        self.sites: dict[int, str] = {}  # node._order -> "file:line in function" (ticks are never reused)


anomaly_mode = _AnomalyMode()


class detect_anomaly:  # noqa: N801 (PyTorch's name)
    """Context manager: raise `AnomalyError` at the first NaN or inf in a forward or backward pass."""

    def __enter__(self) -> detect_anomaly:
        self._previous = anomaly_mode.enabled
        anomaly_mode.enabled = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        anomaly_mode.enabled = self._previous
        if not self._previous:
            anomaly_mode.sites.clear()


def record_site(order: int) -> None:
    """Remember the first stack frame outside tinygrad_edu: the user's line that made this node."""
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not frame.filename.startswith(_PACKAGE_DIR):
            anomaly_mode.sites[order] = f"{frame.filename}:{frame.lineno} in {frame.name}"
            return


def is_bad(x: Any) -> bool:
    """True if `x` (a float or an array) holds a NaN or an inf."""
    if isinstance(x, float):
        return not math.isfinite(x)
    x = np.asarray(x)
    return x.dtype.kind in "fc" and not bool(np.isfinite(x).all())


def report(where: str, op: str, shapes: list[Any], order: int) -> AnomalyError:
    site = anomaly_mode.sites.get(order, "an unknown place (created before detect_anomaly was on)")
    shape_text = ", ".join(str(s) for s in shapes) or "no tensor inputs"
    return AnomalyError(
        f"detect_anomaly: {where} of {op} produced NaN or inf (inputs: {shape_text}); the op was created at "
        f"{site}. Check that op's inputs: a log or division of zero, an overflowing exp, or a too-large learning rate"
    )
