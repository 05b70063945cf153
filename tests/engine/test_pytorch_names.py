"""PyTorch's transpose(dim0, dim1), dim/keepdim aliases, and errors that name the real cause (checked against torch)."""

from __future__ import annotations

import ast
import pathlib
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import AnomalyError, Tensor, detect_anomaly

torch = pytest.importorskip("torch")

X = np.arange(24.0).reshape(2, 3, 4) / 7 - 1.5


def _both(fn_ours, fn_torch, x=X):
    """Value and gradient (for a fixed random weighting) of fn on both engines."""
    c = np.random.default_rng(1).standard_normal(np.shape(fn_torch(torch.tensor(x)).detach().numpy()))
    a, b = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = fn_ours(a), fn_torch(b)
    np.testing.assert_allclose(ya.data, yb.detach().numpy(), rtol=1e-12)
    (ya * c).sum().backward()
    (yb * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-12)


def test_transpose_of_a_matrix_is_its_transpose():
    m = np.arange(6.0).reshape(2, 3)
    _both(lambda t: t.transpose(0, 1), lambda t: t.transpose(0, 1), m)  # was the identity (NumPy's axes=(0, 1))
    assert Tensor(m).transpose(0, 1).shape == (3, 2)
    np.testing.assert_array_equal(Tensor(m).transpose(1, 0).data, Tensor(m).T.data)


@pytest.mark.parametrize("dims", [(0, 1), (0, 2), (1, 2), (-1, 0), (2, 2)])
def test_transpose_swaps_two_axes_as_pytorch(dims):
    _both(lambda t: t.transpose(*dims), lambda t: t.transpose(*dims))


def test_T_reverses_and_permute_reorders():
    _both(lambda t: t.T, lambda t: t.permute(2, 1, 0))
    _both(lambda t: t.permute(1, 2, 0), lambda t: t.permute(1, 2, 0))


def test_transpose_refuses_a_bad_axis_naming_the_shape():
    with pytest.raises(tg.ShapeError, match=r"axis 3 .*\(2, 3, 4\).*permute"):
        Tensor(X).transpose(0, 3)


@pytest.mark.parametrize("name", ["sum", "mean", "amax"])
@pytest.mark.parametrize("dim", [0, 1, -1, (0, 2), [0, 1]])
@pytest.mark.parametrize("keepdim", [False, True])
def test_reductions_take_pytorchs_dim_and_keepdim(name, dim, keepdim):
    ours = "max" if name == "amax" else name
    torch_dim = tuple(dim) if isinstance(dim, list) else dim
    _both(
        lambda t: getattr(t, ours)(dim=dim, keepdim=keepdim),
        lambda t: getattr(torch, name)(t, dim=torch_dim, keepdim=keepdim),
    )
    # and NumPy's names, a list of axes included (it once leaked NumPy's TypeError)
    _both(lambda t: getattr(t, ours)(axis=dim, keepdims=keepdim), lambda t: getattr(torch, name)(t, torch_dim, keepdim))


def test_softmax_takes_dim_and_an_empty_axis_gives_an_empty_result():
    _both(lambda t: t.softmax(dim=1), lambda t: t.softmax(dim=1))
    _both(lambda t: t.log_softmax(dim=0), lambda t: t.log_softmax(dim=0))
    empty = np.zeros((3, 0))
    for axis in (1, 0):
        for op in ("softmax", "log_softmax"):
            ours = getattr(Tensor(empty, requires_grad=True), op)(dim=axis)
            assert ours.shape == getattr(torch.zeros(3, 0), op)(dim=axis).shape == (3, 0)
            ours.sum().backward()
    with pytest.raises(tg.ArgumentError, match="not both"):
        Tensor(X).sum(axis=0, dim=1)


def test_integer_to_a_negative_power_says_so():
    with pytest.raises(tg.MathDomainError, match=r"negative integer power.*float") as caught:
        Tensor(np.array([1, 2, 4])) ** -1
    assert isinstance(caught.value, ValueError) and "broadcast" not in str(caught.value)
    with pytest.raises(RuntimeError, match="negative"):
        torch.tensor([1, 2, 4]) ** -1
    np.testing.assert_array_equal((Tensor(np.array([1, 2, 4])) ** -1.0).data, [1.0, 0.5, 0.25])


def test_an_index_out_of_range_names_the_shape():
    with pytest.raises(tg.IndexOutOfRangeError, match=r"shape \(2, 3, 4\)") as caught:
        Tensor(X)[5]
    assert isinstance(caught.value, IndexError) and isinstance(caught.value, tg.TinygradEduError)
    with pytest.raises(tg.IndexOutOfRangeError):
        Tensor(X)[0, 0, 0, 0]


CASES = {  # x -> f(x), with the inputs that leave the finite range
    "log": (lambda t: t.log(), np.array([0.0, -1.0, 2.0])),
    "div": (lambda t: t / Tensor(np.array([0.0, 0.0, 2.0])), np.array([1.0, 0.0, 2.0])),
    "rdiv": (lambda t: 1.0 / t, np.array([0.0, 1.0, 2.0])),
    "exp": (lambda t: t.exp(), np.array([1000.0, 0.0, -1000.0])),
    "pow": (lambda t: t**-1.0, np.array([0.0, 1.0, -2.0])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_inf_and_nan_come_quietly_as_in_pytorch_and_anomaly_mode_stops_them(name):
    fn, x = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy RuntimeWarning would fail the test
        t = Tensor(x, requires_grad=True)
        y = fn(t)
        y.sum().backward()
    tt = torch.tensor(x, requires_grad=True)
    yt = fn(tt) if name != "div" else tt / torch.tensor([0.0, 0.0, 2.0])
    yt.sum().backward()
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12)  # same infs and nans
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-12)
    with detect_anomaly(), pytest.raises(AnomalyError, match="NaN or inf"):
        fn(Tensor(x, requires_grad=True))


PLAIN = {"TypeError", "ValueError", "IndexError", "RuntimeError", "KeyError"}


def test_the_engine_raises_only_tinygrad_edu_errors():
    # The README promises every error derives from TinygradEduError; these files raise no bare builtin.
    package = pathlib.Path(tg.__file__).parent
    files = [package / "tensor.py", package / "ops.py", package / "optim.py", *sorted((package / "nn").glob("*.py"))]
    bare = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = getattr(node.exc.func, "id", None)
                if name in PLAIN:
                    bare.append(f"{path.name}:{node.lineno} {name}")
    assert bare == []


# More argument errors (clip, concatenate, SGD([]), Linear(2, 0), ...) are rows of test_errors.py's table.
@pytest.mark.parametrize(
    ("call", "kind", "words"),
    [
        (lambda: Tensor.from_numpy([1.0]), tg.ArgumentTypeError, "from_numpy: expected a numpy.ndarray, got list"),
        (lambda: tg.stack([]), tg.ArgumentError, "stack: needs at least one tensor"),
        (lambda: tg.optim.SGD([object()], lr=0.1), tg.ArgumentTypeError, r"model\.parameters\(\)"),
    ],
)
def test_argument_errors_are_tinygrad_edu_errors_and_builtins(call, kind, words):
    with pytest.raises(kind, match=words):
        call()


@pytest.mark.parametrize(
    ("call", "kind", "builtin", "words"),
    [
        (lambda: bool(Tensor([1.0, 2.0])), tg.ShapeError, ValueError, "truth value"),
        (lambda: len(Tensor(1.0)), tg.ArgumentTypeError, TypeError, "0-d"),
        (lambda: Tensor([1.0, 2.0]) < Tensor([1.0, 2.0, 3.0]), tg.ShapeError, ValueError, r"\(2,\) and \(3,\)"),
        (lambda: Tensor([1.0]) >= "a", tg.ArgumentTypeError, TypeError, "str"),
        (lambda: Tensor.zeros(-1), tg.ShapeError, ValueError, "negative"),
        (lambda: Tensor.randn(2.5), tg.ArgumentTypeError, TypeError, "not a shape"),
        (lambda: Tensor(np.array(["a"])), tg.DTypeError, TypeError, "<U1"),
        (lambda: Tensor([1.0, 2.0]).sum(axis=1.5), tg.ArgumentTypeError, TypeError, "axis"),
        (lambda: Tensor(np.array([True])) - Tensor(np.array([True])), tg.DTypeError, TypeError, "bool"),
        (lambda: Tensor([[1.0]]).reshape("a"), tg.ArgumentTypeError, TypeError, "not a shape"),
    ],
)
def test_numpy_errors_do_not_leak(call, kind, builtin, words):
    # each of these once raised NumPy's own ValueError / TypeError, naming neither the op nor the fix
    with pytest.raises(kind, match=words) as caught:
        call()
    assert isinstance(caught.value, builtin)
