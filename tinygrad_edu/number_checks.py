"""Checks on the numbers a function is given (class indices, probabilities), run through one door.

Shapes and dtypes are checked where they are used, and a compiled step's signature holds them, so a
replay never meets new ones. Numbers are different: a batch with a class index out of range can come
at any call. So each check that reads numbers goes through `check_numbers`, which a compiled step's
trace (compile/record.py) writes into its code as one line: every replay checks its own batch and
raises the error the eager step would have raised, instead of computing something else silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .tensor import Tensor


def check_numbers(check: Callable[..., None], *operands: Any) -> None:
    """`check(*operands)`, which raises the package's error for numbers it cannot take.

    An operand is a Tensor (the check gets its array) or an array (the tensor engine), a list of Values or
    numbers (the scalar engine: the check gets their numbers as a float64 array, see `numbers`), or a plain
    number such as a count. Pass the Tensor itself where there is one: the trace then knows which it is.
    """
    check(*(numbers(*x) if type(x) is list else x.data if type(x) is Tensor else x for x in operands))


def numbers(*xs: Any) -> np.ndarray:
    """Values or Python numbers as one float64 array (what a check reads on the scalar engine)."""
    return np.array([getattr(x, "data", x) for x in xs], dtype=np.float64)
