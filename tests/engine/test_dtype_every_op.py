"""dtype promotion beyond the binary ops (issue 24's hunt), against torch: the functions of real numbers (exp, log,
tanh, sigmoid, softmax, log_softmax) of integer and bool tensors give the default float32 (NumPy gives float64 or
float16), clip of an integer tensor to a float bound gives float32, and `concatenate`/`stack` of tensors of
several dtypes give `torch.cat`'s dtype (float32 with int64: float32, where NumPy gives float64)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.nn import functional as F

INTS = [np.int32, np.int64, np.bool_]
DTYPES = [np.float16, np.float32, np.float64, np.int32, np.int64]


def data(dtype):
    return np.array([[0, 1, 2], [3, 1, 0]]).astype(dtype)


UNARY = {
    "exp": (lambda t: t.exp(), lambda torch, x: torch.exp(x)),
    "log": (lambda t: t.log(), lambda torch, x: torch.log(x)),
    "tanh": (lambda t: t.tanh(), lambda torch, x: torch.tanh(x)),
    "sigmoid": (lambda t: t.sigmoid(), lambda torch, x: torch.sigmoid(x)),
    "F.sigmoid": (F.sigmoid, lambda torch, x: torch.sigmoid(x)),
    "softmax": (lambda t: t.softmax(axis=-1), lambda torch, x: torch.softmax(x, -1)),
    "log_softmax": (lambda t: t.log_softmax(axis=-1), lambda torch, x: torch.log_softmax(x, -1)),
    "clip(0.5, 2)": (lambda t: t.clip(0.5, 2), lambda torch, x: torch.clip(x, 0.5, 2)),
    "clip(1, 2)": (lambda t: t.clip(1, 2), lambda torch, x: torch.clip(x, 1, 2)),
    "clip(None, 1.5)": (lambda t: t.clip(None, 1.5), lambda torch, x: torch.clip(x, None, 1.5)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", [*INTS, np.float16, np.float32, np.float64])
def test_functions_of_integer_and_bool_tensors_give_pytorchs_dtype(name, dtype):
    torch = pytest.importorskip("torch")
    ours, theirs = UNARY[name]
    x = data(dtype)
    try:
        want = theirs(torch, torch.from_numpy(x.copy())).numpy()
    except (RuntimeError, NotImplementedError):  # no integer softmax in PyTorch: ours is that of x.float()
        assert name.endswith("softmax") and x.dtype.kind in "biu"
        want = theirs(torch, torch.from_numpy(x.copy()).float()).numpy()
    got = ours(Tensor(x))
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got.data.astype(np.float64), want.astype(np.float64), rtol=2e-3)


@pytest.mark.parametrize("join", ["concatenate", "stack"])
def test_joining_tensors_of_several_dtypes_gives_torch_cats_dtype(join):
    torch = pytest.importorskip("torch")
    ours, theirs = (tg.concatenate, torch.cat) if join == "concatenate" else (tg.stack, torch.stack)
    wrong = []
    for a in DTYPES:
        for b in DTYPES:
            x, y = data(a), data(b)
            want = theirs([torch.from_numpy(x.copy()), torch.from_numpy(y.copy())]).numpy()
            got = ours([Tensor(x), Tensor(y)])
            if got.dtype != want.dtype or not np.array_equal(got.data.astype(np.float64), want.astype(np.float64)):
                wrong.append(f"{np.dtype(a)} with {np.dtype(b)}: ours {got.dtype}, PyTorch {want.dtype}")
    assert not wrong, "\n".join(wrong)


def test_a_joined_gradient_goes_back_in_each_inputs_dtype():
    torch = pytest.importorskip("torch")
    x = Tensor(np.array([1.5, -2.0], np.float32), requires_grad=True)
    y = Tensor(np.array([0.25, 4.0]), requires_grad=True)  # float64
    n = Tensor(np.array([3, 1], np.int64))
    out = tg.concatenate([x, y, n])
    assert out.dtype == np.float64
    weights = np.arange(1.0, 7.0)
    (out * weights).sum().backward()
    tx = torch.tensor([1.5, -2.0], requires_grad=True)
    ty = torch.tensor([0.25, 4.0], dtype=torch.float64, requires_grad=True)
    (torch.cat([tx, ty, torch.tensor([3, 1])]) * torch.from_numpy(weights)).sum().backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    np.testing.assert_array_equal(y.grad, ty.grad.numpy())
    z = tg.stack([x, n])  # float32 with int64: float32, and the gradient reaches x
    assert z.dtype == np.float32
    x.grad = None
    z.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones(2, np.float32))
