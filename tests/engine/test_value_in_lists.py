"""A scalar-engine Value anywhere inside a list given to a Tensor op or to Tensor() raises MixedEngineError, as
`t + v` does (issue 24 item 2): NumPy would otherwise read it as a plain number and its gradient would be lost."""

import numpy as np
import pytest

from tinygrad_edu import MixedEngineError, Tensor, Value, no_grad
from tinygrad_edu.tensor_functions import concatenate


def cases():
    t = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    v = Value(3.0)
    return {
        "t * [v, v]": lambda: t * [v, v],
        "[v, v] * t": lambda: [v, v] * t,
        "t + (1.0, v)": lambda: t.__add__((1.0, v)),
        "t - [[v], [1.0]]": lambda: t - [[v], [1.0]],
        "t / [v, 1]": lambda: t / [v, 1],
        "t ** [v, 2]": lambda: t ** [v, 2],
        "t @ [v, v]": lambda: t @ [v, v],
        "t < [v, v]": lambda: t < [v, v],
        "t.maximum([v, 0])": lambda: t.maximum([v, 0]),
        "Tensor([v])": lambda: Tensor([v]),
        "Tensor([[1, 2], [v, 4]])": lambda: Tensor([[1.0, 2.0], [v, 4.0]]),
        "Tensor([v], dtype=float64)": lambda: Tensor([v], dtype=np.float64),
        "Tensor(object array)": lambda: Tensor(np.array([v, 1.0], dtype=object)),
        "t + object array": lambda: t + np.array([v, v], dtype=object),
        "concatenate([t, [v]])": lambda: concatenate([t, [v]]),
    }


@pytest.mark.parametrize("case", sorted(cases()))
def test_a_value_inside_a_list_raises_like_t_plus_v(case):
    with pytest.raises(MixedEngineError, match="Value"):
        cases()[case]()


def test_the_plain_case_raises_the_same_error():
    with pytest.raises(MixedEngineError):
        Tensor([1.0]) + Value(1.0)


def test_writing_a_list_with_a_value_in_place_raises():
    t = Tensor(np.zeros(2))
    with no_grad(), pytest.raises(MixedEngineError, match="Value"):
        t[:] = [Value(1.0), 2.0]
    np.testing.assert_array_equal(t.data, [0.0, 0.0])


def test_lists_of_numbers_still_work():
    t = Tensor(np.array([1.0, 2.0]))
    np.testing.assert_array_equal((t * [2, 3]).data, [2.0, 6.0])
    np.testing.assert_array_equal(Tensor([[1, 2], [3, 4]]).data, [[1.0, 2.0], [3.0, 4.0]])
    assert Tensor([True, False]).dtype == np.float32
