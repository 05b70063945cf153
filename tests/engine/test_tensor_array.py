"""`np.array(t)` follows PyTorch (issue 24 item 10): a float array for a Tensor that does not require grad, a clear
error naming .detach() and .data for one that does (never an object array of Tensors)."""

import numpy as np
import pytest

from tinygrad_edu import GraphError, Tensor


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_np_array_of_a_plain_tensor_is_its_values(dtype):
    t = Tensor(np.arange(6, dtype=dtype).reshape(2, 3))
    for array in (np.array(t), np.asarray(t)):
        assert isinstance(array, np.ndarray) and array.dtype == dtype and array.shape == (2, 3)
        np.testing.assert_array_equal(array, t.data)
    copied = np.array(t)
    copied[0, 0] = 99
    assert t.data[0, 0] == 0  # np.array copies, as it does for an ndarray
    assert np.array(t, dtype=np.float64).dtype == np.float64


def test_np_array_of_a_tensor_that_requires_grad_says_what_to_do():
    t = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(GraphError, match=r"requires grad.*detach\(\).*t\.data"):
        np.array(t)
    with pytest.raises(GraphError):
        np.asarray(t * 2)
    np.testing.assert_array_equal(np.array(t.detach()), np.ones((2, 2)))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's own __array__ predates NumPy 2's copy=
def test_pytorch_gives_the_same_answers():
    torch = pytest.importorskip("torch")
    plain = torch.arange(4.0)
    assert np.array(plain).dtype == np.float32
    with pytest.raises(RuntimeError, match="detach"):
        np.array(torch.ones(2, requires_grad=True))
