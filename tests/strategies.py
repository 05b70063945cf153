"""Hypothesis strategies shared by the tests: small float64 arrays, shapes, axes, broadcasting pairs.

Finite differences with eps = 1e-6 are wrong within eps of a kink (relu and abs at 0, clip at its
bounds, ties in max), so the strategies for those ops keep values a safe gap away from the kinks.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# Sizes stay small: gradcheck runs two forward passes per input element.
MAX_SIDE = 3
MAX_DIMS = 4


def shapes(
    min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1, max_side: int = MAX_SIDE
) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def floats(lo: float = -2.0, hi: float = 2.0, kinks: tuple[float, ...] = (), gap: float = 0.05) -> st.SearchStrategy:
    """Floats in [lo, hi], at least `gap` away from each of `kinks`."""
    elements = st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    if kinks:
        elements = elements.filter(lambda v: all(abs(v - k) > gap for k in kinks))
    return elements


def arrays(shape, lo: float = -2.0, hi: float = 2.0, kinks: tuple[float, ...] = ()) -> st.SearchStrategy:
    """float64 arrays of `shape` (a tuple or a strategy) with elements from `floats(lo, hi, kinks)`."""
    return hnp.arrays(np.float64, shape, elements=floats(lo, hi, kinks))


def distinct(shape) -> st.SearchStrategy:
    """float64 arrays with no two elements closer than 1/16: no ties for max, maximum and sorting."""
    return hnp.arrays(np.float64, shape, elements=st.integers(-200, 200).map(lambda k: k / 16), unique=True)


def positive(shape, lo: float = 0.2, hi: float = 3.0) -> st.SearchStrategy:
    return arrays(shape, lo, hi)


def axes(ndim: int) -> st.SearchStrategy:
    """What a reduction accepts: None, one axis (negative too) or a tuple of distinct axes."""
    if ndim == 0:
        return st.none()
    return st.one_of(
        st.none(),
        st.integers(-ndim, ndim - 1),
        st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple),
    )


def broadcast_pairs(max_dims: int = 4, max_side: int = MAX_SIDE) -> st.SearchStrategy:
    """Two shapes that broadcast together, with unequal ndim and size-1 axes on both sides."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims, max_side=max_side).map(
        lambda b: b.input_shapes
    )


def matmul_pairs() -> st.SearchStrategy:
    """Shapes for x @ y: 1-D, 2-D and batched N-D, batch axes broadcast (NumPy's matmul signature)."""
    return hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature, max_dims=3, min_side=1, max_side=MAX_SIDE
    ).map(lambda b: b.input_shapes)
