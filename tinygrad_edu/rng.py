"""One way to say "where randomness comes from", used by every function that draws numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ArgumentError, ArgumentTypeError

Seed = int | np.random.Generator | None
while_tracing: Any = None  # compile's refusal, set while it traces a step (numbers drawn there would freeze)


def as_generator(generator: Seed = None) -> np.random.Generator:
    """A `numpy.random.Generator` from a seed, an existing generator, or None (fresh entropy)."""
    if while_tracing is not None:
        while_tracing()
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and generator < 0:
        raise ArgumentError(f"generator: a seed must be a whole number >= 0 (NumPy's rule), got {generator}")
    if generator is None or isinstance(generator, (int, np.integer)):
        return np.random.default_rng(generator)
    raise ArgumentTypeError(
        f"generator: expected an int seed, a numpy.random.Generator or None, got {type(generator).__name__}"
    )
