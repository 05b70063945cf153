"""`quiet()` is `np.errstate(all="ignore")`, cheaper: the same state inside, the caller's state back after."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

from tinygrad_edu import Tensor
from tinygrad_edu.quiet import quiet, quietly


def test_inside_it_numpy_is_in_errstate_ignore_and_after_it_in_the_callers_state() -> None:
    with np.errstate(all="ignore"):
        expected = np.geterr()
    before = np.geterr()
    with quiet():
        assert np.geterr() == expected
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.exp(np.float64(1000.0)) == np.inf  # no RuntimeWarning
    assert np.geterr() == before


def test_the_callers_own_state_comes_back_after_an_error_and_when_nested() -> None:
    with np.errstate(over="raise"):
        inner = np.geterr()
        with pytest.raises(KeyError), quiet():
            with quiet():
                pass
            raise KeyError("inside")
        assert np.geterr() == inner
        with pytest.raises(FloatingPointError):
            np.exp(np.float64(1000.0))


def test_another_thread_keeps_its_own_state() -> None:
    seen: list[dict[str, str]] = []
    with quiet():
        worker = threading.Thread(target=lambda: seen.append(np.geterr()))
        worker.start()
        worker.join()
    assert seen[0]["over"] == "warn"


def test_a_decorated_function_runs_quietly_and_keeps_its_name() -> None:
    @quietly
    def overflow(x: float) -> float:
        """Docs."""
        return float(np.exp(np.float64(x)))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert overflow(1000.0) == np.inf
    assert overflow.__name__ == "overflow" and overflow.__doc__ == "Docs."


def test_the_engine_stays_quiet_where_it_was() -> None:
    """sigmoid's e^-x and backward: inf and NaN flow through without a warning, as in PyTorch."""
    x = Tensor(np.array([-1000.0, 0.0, 1000.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = x.sigmoid()  # e^1000 overflows
        y.backward(np.array([np.inf, 1.0, 1.0]))  # inf * s(1 - s) = inf * 0: NaN
    np.testing.assert_array_equal(y.data, [0.0, 0.5, 1.0])
    assert np.isnan(x.grad[0]) and x.grad[1] == 0.25
