"""matmul and linear do not promote dtypes, as in PyTorch (issue 24 item 3): `torch.mm`/`matmul`/`F.linear` raise
"expected m1 and m2 to have the same dtype", so a float32 model fed float64 data is refused, not silently run in
float64. Checked against torch over a grid of dtypes and shapes; a NumPy array with axes counts as a tensor of its
dtype (`torch.from_numpy`), as in the promotion grid. Data handed to a layer as a NumPy array or a list is read in
the layer's dtype, and `fit`, `evaluate` and the checker feed each batch in the model's dtype."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import DTypeError, DTypeMismatchError, ShapeError, Tensor, matmul, nn
from tinygrad_edu.nn import functional as F

DTYPES = [np.float16, np.float32, np.float64, np.int32, np.int64]
SHAPES = [((2, 3), (3, 2)), ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((4, 2, 3), (3, 2)), ((2, 3), (4, 3, 2))]


def data(shape, dtype, seed):
    return (np.random.default_rng(seed).integers(-3, 4, size=shape)).astype(dtype)


def torch_answer(torch, fn, *arrays):
    """PyTorch's result as an array, "refused" for its dtype RuntimeError, None where it has no kernel."""
    try:
        return fn(*(torch.from_numpy(a.copy()) if a is not None else None for a in arrays)).numpy()
    except RuntimeError as error:
        if "same dtype" in str(error) or "Found dtype" in str(error):
            return "refused"
        return None  # e.g. an integer kernel this build of torch lacks
    except NotImplementedError:
        return None


def ours(fn, *args):
    try:
        return fn(*args)
    except DTypeMismatchError:
        return "refused"


def compare(want, got, where):
    if want is None:
        return None
    if isinstance(want, str) or isinstance(got, str):
        return None if want == got else f"{where}: ours {got if isinstance(got, str) else got.dtype}, PyTorch {want}"
    if got.dtype != want.dtype or got.shape != want.shape:
        return f"{where}: ours {got.dtype}{got.shape}, PyTorch {want.dtype}{want.shape}"
    if not np.allclose(got.data.astype(np.float64), want.astype(np.float64), rtol=1e-3):
        return f"{where}: ours {got.data}, PyTorch {want}"
    return None


def test_matmul_of_tensors_and_arrays_of_every_dtype_pair_follows_pytorch():
    torch = pytest.importorskip("torch")
    wrong, compared, refused = [], 0, 0
    for a_shape, b_shape in SHAPES:
        for da in DTYPES:
            for db in DTYPES:
                a, b = data(a_shape, da, 1), data(b_shape, db, 2)
                want = torch_answer(torch, torch.matmul, a, b)
                if want is None:
                    continue
                where = f"{np.dtype(da)}{a_shape} @ {np.dtype(db)}{b_shape}"
                for name, got in (
                    ("Tensor @ Tensor", ours(lambda: Tensor(a) @ Tensor(b))),
                    ("Tensor @ array", ours(lambda: Tensor(a) @ b)),
                    ("array @ Tensor", ours(lambda: a @ Tensor(b))),
                    ("matmul()", ours(lambda: matmul(Tensor(a), Tensor(b)))),
                ):
                    compared += 1
                    refused += got == "refused" if isinstance(got, str) else 0
                    found = compare(want, got, f"{name}: {where}")
                    if found:
                        wrong.append(found)
    assert compared > 400 and refused > 200
    assert not wrong, f"{len(wrong)} of {compared} differ from PyTorch:\n" + "\n".join(wrong[:30])


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape", [(2, 3), (3,), (5, 2, 3)])
def test_linear_refuses_an_input_of_another_dtype_as_pytorch_does(x_shape, bias):
    torch = pytest.importorskip("torch")
    wrong = []
    for layer_dtype in (np.float32, np.float64):
        for x_dtype in DTYPES:
            x = data(x_shape, x_dtype, 3)
            layer = nn.Linear(3, 4, bias=bias, generator=0, dtype=layer_dtype)
            w = layer.weight.data
            b = layer.bias.data if bias else None
            want = torch_answer(torch, torch.nn.functional.linear, x, w, b)
            if want is None:
                continue
            where = f"Linear({np.dtype(layer_dtype)}) on {np.dtype(x_dtype)}{x_shape}"
            for name, fn in (
                ("layer", lambda: layer(Tensor(x))),
                ("F.linear", lambda: F.linear(Tensor(x), layer.weight, layer.bias)),
            ):
                found = compare(want, ours(fn), f"{name}: {where}")
                if found:
                    wrong.append(found)
    assert not wrong, "\n".join(wrong)


def test_a_bias_of_another_dtype_is_refused_too():
    torch = pytest.importorskip("torch")
    x, w, b = np.ones((2, 3), np.float32), np.ones((4, 3), np.float32), np.ones(4, np.float64)
    assert torch_answer(torch, torch.nn.functional.linear, x, w, b) == "refused"
    with pytest.raises(DTypeMismatchError, match="linear"):
        F.linear(Tensor(x), Tensor(w), Tensor(b))


def test_the_refusal_names_the_op_both_dtypes_and_shapes_and_the_fix():
    layer = nn.Linear(3, 4)
    with pytest.raises(DTypeMismatchError) as caught:
        layer(Tensor(np.ones((2, 3))))
    text = str(caught.value)
    for part in ("linear", "float64 (2, 3)", "float32 (4, 3)", "astype(np.float32)", "dtype=np.float64"):
        assert part in text, (part, text)
    # the exported family: a DTypeError (a TypeError) and, as PyTorch raises, a RuntimeError
    assert isinstance(caught.value, DTypeError) and isinstance(caught.value, RuntimeError)
    with pytest.raises(DTypeMismatchError) as caught:
        Tensor(np.ones((2, 3), np.float32)) @ Tensor(np.ones((3, 5)))
    text = str(caught.value)
    for part in ("matmul", "float32 (2, 3)", "float64 (3, 5)", "astype(np.float64)"):
        assert part in text, (part, text)


def test_numbers_and_lists_keep_their_own_rules():
    """A number is not a matrix (a ShapeError, as before); a list is read as Tensor(list) does: float32."""
    with pytest.raises(ShapeError, match="at least one axis"):
        Tensor(np.ones(3, np.float32)) @ np.float64(2.0)
    with pytest.raises(ShapeError, match="at least one axis"):
        Tensor(np.ones(3, np.float32)) @ np.array(2.0)
    out = Tensor(np.array([[1.0, 2.0]], np.float32)) @ [[3.0], [4.0]]
    assert out.dtype == np.float32 and out.data.tolist() == [[11.0]]
    out = [[1.0, 2.0]] @ Tensor(np.array([[3.0], [4.0]], np.float32))
    assert out.dtype == np.float32 and out.data.tolist() == [[11.0]]


def test_a_layer_reads_a_numpy_array_or_a_list_in_its_own_dtype():
    """Data, not a tensor: read in the layer's dtype, as Keras layers do (PyTorch takes only Tensors)."""
    for dtype in (np.float32, np.float64):
        layer = nn.Linear(2, 1, generator=0, dtype=dtype)
        w, b = layer.weight.data.astype(np.float64), layer.bias.data.astype(np.float64)
        want = np.array([[1.0, 2.0]]) @ w.T + b
        for x in (np.array([[1.0, 2.0]]), [[1, 2]], np.array([[1, 2]], np.int64)):
            out = layer(x)
            assert out.dtype == dtype
            np.testing.assert_allclose(out.data, want, rtol=1e-6)


def test_fit_and_evaluate_feed_float64_data_to_a_float32_model_in_its_dtype():
    from tinygrad_edu import optim
    from tinygrad_edu.train import evaluate, fit, predict

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 2)), rng.normal(size=(16, 1))  # float64, as NumPy makes them
    model = nn.Sequential(nn.Linear(2, 3, generator=1), nn.Tanh(), nn.Linear(3, 1, generator=2))
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), X, y, epochs=2, batch_size=4, progress=False)
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    out = predict(model, X)
    assert out.dtype == np.float32
    want = ((model(X.astype(np.float32)).data.astype(np.float64) - y) ** 2).mean()
    np.testing.assert_allclose(evaluate(model, nn.MSELoss(), X, y, metrics=())["loss"], want, rtol=1e-5)
