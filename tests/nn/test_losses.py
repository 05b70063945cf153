"""Losses on both engines against NumPy formulas, analytic gradients, and PyTorch when installed."""

import math
import warnings

import numpy as np
import pytest

from tinygrad_edu import ArgumentError, DTypeError, MathDomainError, ShapeError, Tensor, Value, nn
from tinygrad_edu.nn import functional as F

rng = np.random.default_rng(0)
OUT = rng.uniform(0.05, 0.95, size=(4, 3))
TARGET = rng.uniform(0, 1, size=(4, 3))
LOGITS = rng.normal(size=(5, 4)) * 3
LABELS = np.array([0, 3, 1, 1, 2])


def values(array):
    return [[Value(float(a)) for a in row] for row in array]


def value_grad(vs):
    return np.array([[v.grad for v in row] for row in vs])


# ---------------------------------------------------------------------- MSE


@pytest.mark.parametrize(
    ("reduction", "scale"),
    [("mean", 1 / OUT.size), ("sum", 1.0), ("half_sum", 0.5)],
)
def test_mse_both_engines(reduction, scale):
    expected = scale * ((OUT - TARGET) ** 2).sum()
    expected_grad = scale * 2 * (OUT - TARGET)
    loss_fn = nn.MSELoss(reduction=reduction)

    t = Tensor(OUT, requires_grad=True)
    loss = loss_fn(t, TARGET)
    loss.backward()
    assert math.isclose(loss.item(), expected, rel_tol=1e-13)
    np.testing.assert_allclose(t.grad, expected_grad, rtol=1e-13)

    vs = values(OUT)
    loss = loss_fn(vs, TARGET.tolist())
    loss.backward()
    assert math.isclose(loss.data, expected, rel_tol=1e-13)
    np.testing.assert_allclose(value_grad(vs), expected_grad, rtol=1e-13)


def test_half_sum_is_the_articles_error_and_its_gradient_is_output_minus_target():
    outputs = [Value(0.753), Value(0.839)]
    E = nn.MSELoss(reduction="half_sum")(outputs, [0.1, 0.9])
    assert math.isclose(E.data, 0.5 * ((0.1 - 0.753) ** 2 + (0.9 - 0.839) ** 2), rel_tol=1e-15)
    E.backward()
    np.testing.assert_allclose([o.grad for o in outputs], [0.753 - 0.1, 0.839 - 0.9], rtol=1e-14)


def test_mse_refuses_shapes_that_would_broadcast():
    with pytest.raises(ShapeError, match="reshape the target"):
        F.mse_loss(Tensor(np.zeros((4, 1))), np.zeros(4))
    with pytest.raises(ShapeError, match="3 elements"):
        F.mse_loss([Value(1.0)] * 3, [1.0, 2.0])
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


# ---------------------------------------------------------------------- cross entropy


def log_softmax_np(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def test_cross_entropy_both_engines():
    n = len(LABELS)
    expected = -log_softmax_np(LOGITS)[np.arange(n), LABELS].mean()
    probs = np.exp(log_softmax_np(LOGITS))
    expected_grad = (probs - np.eye(4)[LABELS]) / n

    t = Tensor(LOGITS, requires_grad=True)
    loss = nn.CrossEntropyLoss()(t, LABELS)
    loss.backward()
    assert math.isclose(loss.item(), expected, rel_tol=1e-13)
    np.testing.assert_allclose(t.grad, expected_grad, rtol=1e-12, atol=1e-15)
    assert math.isclose(F.cross_entropy(Tensor(LOGITS), Tensor(LABELS)).item(), expected, rel_tol=1e-13)
    assert math.isclose(F.cross_entropy(Tensor(LOGITS), LABELS, reduction="sum").item(), n * expected, rel_tol=1e-13)

    vs = values(LOGITS)
    loss = nn.CrossEntropyLoss()(vs, LABELS.tolist())
    loss.backward()
    assert math.isclose(loss.data, expected, rel_tol=1e-13)
    np.testing.assert_allclose(value_grad(vs), expected_grad, rtol=1e-12, atol=1e-15)
    one = F.cross_entropy([Value(v) for v in LOGITS[1]], 3)  # one sample, one label
    assert math.isclose(one.data, -log_softmax_np(LOGITS[1:2])[0, 3], rel_tol=1e-13)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0]])
    assert math.isclose(F.cross_entropy(Tensor(logits), np.array([1])).item(), 1000.0, rel_tol=1e-12)
    vs = [Value(v) for v in logits[0]]
    assert math.isclose(F.cross_entropy(vs, 1).data, 1000.0, rel_tol=1e-12)


NONFINITE = np.array(
    [
        [1.0, np.nan, 2.0],  # a NaN that is not the row's largest
        [np.nan, np.nan, np.nan],
        [np.inf, 0.0, 1.0],
        [np.inf, np.nan, 0.0],
        [-np.inf, -np.inf, -np.inf],
        [-np.inf, 0.0, 3.0],
        [0.5, -1.0, 2.0],  # finite: the rows above must not spoil it
    ]
)


def test_cross_entropy_with_nan_and_inf_logits_matches_the_max_shift_row_by_row():
    """The tensor engine shifts by `np.fmax.reduce` (quicker than `max`); a NaN or inf gives the same loss and
    gradient as the textbook shift by `max` (checked one row at a time, so each row is seen on its own), without
    a NumPy warning."""
    for row, label in zip(NONFINITE, [0, 1, 2, 0, 1, 2, 1]):
        x = row[None, :]
        with np.errstate(all="ignore"):
            shifted = x - x.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            loss = float(np.log(e.sum()) - shifted[0, label])
            grad = e / e.sum(axis=1, keepdims=True)
        grad[0, label] -= 1
        t = Tensor(x, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # inf and NaN flow through quietly, as in PyTorch
            out = F.cross_entropy(t, np.array([label]))
            out.backward()
        np.testing.assert_array_equal(out.data, loss)  # (NaN equals NaN here)
        np.testing.assert_array_equal(t.grad, grad)


def test_cross_entropy_with_nan_and_inf_logits_matches_pytorch():
    torch = pytest.importorskip("torch", reason="needs PyTorch: pip install -e '.[torch]' (CPU build: README)")
    labels = np.array([0, 1, 2, 0, 1, 2, 1])
    tt = torch.tensor(NONFINITE, requires_grad=True)
    mean = F.cross_entropy(Tensor(NONFINITE, requires_grad=True), labels)
    assert np.isnan(mean.item()) and np.isnan(torch.nn.functional.cross_entropy(tt, torch.tensor(labels)).item())
    for i, label in enumerate(labels):  # each row alone: its loss and gradient, as PyTorch gives them
        t = Tensor(NONFINITE[i : i + 1], requires_grad=True)
        loss = F.cross_entropy(t, labels[i : i + 1])
        loss.backward()
        tt = torch.tensor(NONFINITE[i : i + 1], requires_grad=True)
        ref = torch.nn.functional.cross_entropy(tt, torch.tensor([label]))
        ref.backward()
        np.testing.assert_allclose(loss.data, ref.detach().numpy(), rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-12, equal_nan=True)


def test_cross_entropy_errors():
    with pytest.raises(DTypeError, match="integer"):
        F.cross_entropy(Tensor(LOGITS), LABELS.astype(float))
    with pytest.raises(MathDomainError, match="outside"):
        F.cross_entropy([Value(1.0), Value(2.0)], 2)
    with pytest.raises(ShapeError, match="targets"):
        F.cross_entropy(values(LOGITS), [0, 1])


# ---------------------------------------------------------------------- binary cross entropy


def test_bce_both_engines():
    t_labels = (TARGET > 0.5).astype(float)
    expected = -(t_labels * np.log(OUT) + (1 - t_labels) * np.log(1 - OUT)).mean()
    expected_grad = (OUT - t_labels) / (OUT * (1 - OUT)) / OUT.size

    t = Tensor(OUT, requires_grad=True)
    loss = nn.BCELoss()(t, t_labels)
    loss.backward()
    assert math.isclose(loss.item(), expected, rel_tol=1e-13)
    np.testing.assert_allclose(t.grad, expected_grad, rtol=1e-12)

    vs = values(OUT)
    loss = nn.BCELoss()(vs, t_labels.tolist())
    loss.backward()
    assert math.isclose(loss.data, expected, rel_tol=1e-13)
    np.testing.assert_allclose(value_grad(vs), expected_grad, rtol=1e-12)


def test_bce_clamps_the_log_at_minus_100():
    p = np.array([0.0, 1.0, 0.5])
    t = np.array([1.0, 0.0, 1.0])
    expected = (100 + 100 + math.log(2)) / 3
    x = Tensor(p, requires_grad=True)
    loss = F.binary_cross_entropy(x, t)
    loss.backward()
    assert math.isclose(loss.item(), expected, rel_tol=1e-12)
    # A clamped term is the constant 100 and passes no gradient (documented; PyTorch's differs there);
    # the last term is -log p / 3, whose derivative is -1 / (3 p) = -2/3 at p = 0.5.
    expected_grad = [0.0, 0.0, -1 / (3 * 0.5)]
    np.testing.assert_allclose(x.grad, expected_grad, rtol=1e-12, atol=0)
    vs = [Value(a) for a in p]
    value_loss = F.binary_cross_entropy(vs, t.tolist())
    assert math.isclose(value_loss.data, expected, rel_tol=1e-12)
    value_loss.backward()
    np.testing.assert_allclose([v.grad for v in vs], expected_grad, rtol=1e-12, atol=0)
    with pytest.raises(MathDomainError, match="probabilit"):
        F.binary_cross_entropy(Tensor(np.array([1.5])), np.array([1.0]))


def test_bce_refuses_nan_on_both_engines_as_pytorch_does():
    # Before, a NaN Tensor input passed the range check (NaN < 0 and NaN > 1 are both False) and the
    # loss came out NaN, while the value engine refused it; PyTorch refuses it too.
    with pytest.raises(MathDomainError, match="nan is not a probability"):
        F.binary_cross_entropy(Tensor(np.array([0.5, math.nan])), np.array([1.0, 0.0]))
    with pytest.raises(MathDomainError, match="nan is not a probability"):
        F.binary_cross_entropy([Value(0.5), Value(math.nan)], [1.0, 0.0])


# ---------------------------------------------------------------------- max margin (micrograd's demo loss)

SCORES = np.array([[0.5], [-2.0], [1.5], [-0.2], [1.0]])
SIGNS = np.array([1.0, -1.0, -1.0, 1.0, 1.0])  # margins 0.5, 3, -1.5, -0.2, 1 -> terms 0.5, 0, 2.5, 1.2, 0


@pytest.mark.parametrize(("reduction", "scale"), [("mean", 1 / 5), ("sum", 1.0)])
def test_max_margin_loss_module_and_function_on_both_engines(reduction, scale):
    expected = scale * 4.2
    expected_grad = scale * np.where(1 - SIGNS * SCORES[:, 0] > 0, -SIGNS, 0.0)
    loss_fn = nn.MaxMarginLoss(reduction=reduction)

    t = Tensor(SCORES, requires_grad=True)
    loss = loss_fn(t, SIGNS.astype(int))  # (batch,) int labels against (batch, 1) scores: matched in order
    loss.backward()
    assert math.isclose(loss.item(), expected, rel_tol=1e-15)
    np.testing.assert_array_equal(t.grad[:, 0], expected_grad)

    vs = values(SCORES)
    loss = F.max_margin_loss(vs, SIGNS.tolist(), reduction)
    loss.backward()
    assert math.isclose(loss.data, expected, rel_tol=1e-15)
    np.testing.assert_array_equal(value_grad(vs)[:, 0], expected_grad)


def test_max_margin_loss_keeps_its_import_paths_and_checks_sizes():
    from tinygrad_edu.nn.losses import max_margin_loss as from_losses
    from tinygrad_edu.train import max_margin_loss as from_train

    assert from_train is from_losses is nn.max_margin_loss is F.max_margin_loss
    with pytest.raises(ShapeError, match=r"max_margin_loss: scores are \(5, 1\) but targets are \(4,\)"):
        F.max_margin_loss(Tensor(SCORES), SIGNS[:4])
    with pytest.raises(ShapeError, match="max_margin_loss: the output has 5 elements but the target has 4"):
        F.max_margin_loss(values(SCORES), SIGNS[:4].tolist())
    with pytest.raises(ArgumentError, match="reduction"):
        nn.MaxMarginLoss(reduction="half_sum")


def test_max_margin_loss_takes_numpy_int_and_bool_labels_in_a_list():
    # Value ops refuse NumPy ints and bools as constants; micrograd-style label lists often hold them.
    scores = [Value(0.5), Value(-0.3)]
    assert F.max_margin_loss(scores, [np.int64(1), np.int32(-1)]).data == pytest.approx((0.5 + 0.7) / 2)
    assert F.max_margin_loss(scores, [True, False]).data == pytest.approx((0.5 + 1.0) / 2)


# ---------------------------------------------------------------------- against PyTorch


def test_losses_match_torch_in_float64():
    torch = pytest.importorskip("torch", reason="needs PyTorch: pip install -e '.[torch]' (CPU build: README)")
    tf = torch.nn.functional
    t_labels = (TARGET > 0.5).astype(float)
    cases = [
        (lambda x: F.mse_loss(x, TARGET), lambda x: tf.mse_loss(x, torch.from_numpy(TARGET)), OUT),
        (
            lambda x: F.mse_loss(x, TARGET, "sum"),
            lambda x: tf.mse_loss(x, torch.from_numpy(TARGET), reduction="sum"),
            OUT,
        ),
        (lambda x: F.cross_entropy(x, LABELS), lambda x: tf.cross_entropy(x, torch.from_numpy(LABELS)), LOGITS),
        (
            lambda x: F.cross_entropy(x, LABELS, "sum"),
            lambda x: tf.cross_entropy(x, torch.from_numpy(LABELS), reduction="sum"),
            LOGITS,
        ),
        (
            lambda x: F.binary_cross_entropy(x, t_labels),
            lambda x: tf.binary_cross_entropy(x, torch.from_numpy(t_labels)),
            OUT,
        ),
        (  # relu(1 - y·score) is PyTorch's hinge embedding loss of y·score with label -1 (margin 1);
            # the last sample sits on the kink, where the two pick different subgradients, so it is left out
            lambda x: F.max_margin_loss(x, SIGNS[:4]),
            lambda x: tf.hinge_embedding_loss(x[:, 0] * torch.from_numpy(SIGNS[:4]), -torch.ones(4, dtype=x.dtype)),
            SCORES[:4],
        ),
    ]
    for ours, theirs, data in cases:
        x = Tensor(data, requires_grad=True)
        loss = ours(x)
        loss.backward()
        xt = torch.tensor(data, requires_grad=True)
        ref = theirs(xt)
        ref.backward()
        assert math.isclose(loss.item(), ref.item(), rel_tol=1e-12)
        np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-14)
        vs = values(data)
        v_loss = ours(vs)
        v_loss.backward()
        assert math.isclose(v_loss.data, ref.item(), rel_tol=1e-12)
        np.testing.assert_allclose(value_grad(vs), xt.grad.numpy(), rtol=1e-10, atol=1e-14)
