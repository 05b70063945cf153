"""The tensor engine: every op's value against NumPy and its gradient against finite differences (float64).

Shapes and values come from hypothesis, broadcasting pairs included; `gradcheck` perturbs every input
element and compares with `backward()`, so each op's backward is checked on the shapes drawn.
"""

import numpy as np
import pytest
import strategies as S
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import Tensor, gradcheck

TOL = {"atol": 1e-6, "rtol": 1e-6}


def check(fn, reference, *arrays, value_tol=1e-12):
    """fn on Tensors equals `reference` on the arrays (NumPy), and its gradient passes gradcheck."""
    out = fn(*[Tensor(a) for a in arrays])
    expected = np.asarray(reference(*arrays))
    assert out.shape == expected.shape
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=value_tol, atol=value_tol)
    assert gradcheck(fn, [Tensor(a) for a in arrays], **TOL)


# ---------------------------------------------------------------------- elementwise, binary, broadcasting

BINARY = {
    "add": (lambda x, y: x + y, np.add, S.arrays, S.arrays),
    "sub": (lambda x, y: x - y, np.subtract, S.arrays, S.arrays),
    "mul": (lambda x, y: x * y, np.multiply, S.arrays, S.arrays),
    "div": (lambda x, y: x / y, np.divide, S.arrays, lambda s: S.arrays(s, kinks=(0.0,), lo=-3, hi=3)),
    "pow": (lambda x, y: x**y, np.power, S.positive, lambda s: S.arrays(s, -2, 2)),
    "maximum": (lambda x, y: x.maximum(y), np.maximum, S.distinct, S.distinct),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(shapes=S.broadcast_pairs(), data=st.data())
@example(shapes=((1, 3, 1, 7, 1), (2, 1, 5, 1, 8)), data=None)
def test_binary_broadcasting(name, shapes, data):
    fn, reference, left, right = BINARY[name]
    if data is None:  # the fixed example: values from a seeded generator
        rng = np.random.default_rng(0)
        x = rng.uniform(0.5, 1.5, shapes[0])
        y = rng.uniform(0.5, 1.5, shapes[1]) * rng.choice([-1, 1], shapes[1])
        if name == "pow":
            y = y.clip(-2, 2)
    else:
        x, y = data.draw(left(shapes[0])), data.draw(right(shapes[1]))
    check(fn, reference, x, y)


CONSTANT_OPERANDS = {
    "2 + x": (lambda x: 2 + x, lambda x: 2 + x),
    "x - 0.5": (lambda x: x - 0.5, lambda x: x - 0.5),
    "1 - x": (lambda x: 1 - x, lambda x: 1 - x),
    "3 * x": (lambda x: 3 * x, lambda x: 3 * x),
    "x / 4": (lambda x: x / 4, lambda x: x / 4),
    "2 / x": (lambda x: 2 / x, lambda x: 2 / x),
    "x ** 2": (lambda x: x**2, lambda x: x**2),
    "x ** 3": (lambda x: x**3, lambda x: x**3),
    "x ** -1.5": (lambda x: x**-1.5, lambda x: x**-1.5),
    "2 ** x": (lambda x: 2**x, lambda x: 2**x),
    "ndarray * x": (lambda x: np.arange(1.0, 4.0) * x, lambda x: np.arange(1.0, 4.0) * x),
    "x - ndarray": (lambda x: x - np.arange(3.0), lambda x: x - np.arange(3.0)),
    "ndarray ** x": (lambda x: np.full(3, 1.5) ** x, lambda x: np.full(3, 1.5) ** x),
    "x.maximum(0.1)": (lambda x: x.maximum(0.1), lambda x: np.maximum(x, 0.1)),
}


@pytest.mark.parametrize("name", sorted(CONSTANT_OPERANDS))
@given(x=S.arrays(st.sampled_from([(3,), (2, 3)]), 0.2, 2.0, kinks=(0.1,)))
def test_numbers_and_arrays_as_operands(name, x):
    fn, reference = CONSTANT_OPERANDS[name]
    check(fn, reference, x)


# ---------------------------------------------------------------------- elementwise, unary

UNARY = {
    "neg": (lambda x: -x, np.negative, S.arrays),
    "exp": (lambda x: x.exp(), np.exp, S.arrays),
    "log": (lambda x: x.log(), np.log, S.positive),
    "tanh": (lambda x: x.tanh(), np.tanh, S.arrays),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x)), lambda s: S.arrays(s, -6, 6)),
    "relu": (lambda x: x.relu(), lambda x: np.where(x > 0, x, 0.0), lambda s: S.arrays(s, kinks=(0.0,))),
    "abs": (lambda x: x.abs(), np.abs, lambda s: S.arrays(s, kinks=(0.0,))),
    "clip": (lambda x: x.clip(-0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), lambda s: S.arrays(s, kinks=(-0.5, 0.5))),
    "clip min": (lambda x: x.clip(min=0.25), lambda x: np.maximum(x, 0.25), lambda s: S.arrays(s, kinks=(0.25,))),
    "clip max": (lambda x: x.clip(max=0.25), lambda x: np.minimum(x, 0.25), lambda s: S.arrays(s, kinks=(0.25,))),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data(), shape=S.shapes())
def test_unary(name, data, shape):
    fn, reference, strategy = UNARY[name]
    check(fn, reference, data.draw(strategy(shape)))


def test_kinks_follow_pytorch_conventions():
    """At the kink: relu'(0) = 0, |x|'(0) = 0, clip' = 1 on the bounds (all as in PyTorch)."""
    x = Tensor(np.array([0.0, -0.5, 0.5, 2.0]), requires_grad=True)
    (x.relu() + x.abs() + x.clip(-0.5, 0.5)).sum().backward()
    relu = np.array([0.0, 0.0, 1.0, 1.0])
    absolute = np.array([0.0, -1.0, 1.0, 1.0])
    clip = np.array([1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(x.grad, relu + absolute + clip)


# ---------------------------------------------------------------------- matmul and linear


@given(shapes=S.matmul_pairs(), data=st.data())
@example(shapes=((3,), (3,)), data=None)
@example(shapes=((3,), (2, 3, 4)), data=None)
@example(shapes=((2, 1, 2, 3), (3,)), data=None)
@example(shapes=((2, 1, 2, 3), (3, 3, 2)), data=None)
def test_matmul(shapes, data):
    if data is None:
        rng = np.random.default_rng(1)
        x, y = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    else:
        x, y = data.draw(S.arrays(shapes[0])), data.draw(S.arrays(shapes[1]))
    check(lambda a, b: a @ b, np.matmul, x, y)
    check(lambda a, b: tg.matmul(a, b), np.matmul, x, y)


def test_one_tensor_on_both_sides_of_matmul_matches_a_hand_derivation():
    """sum(sigmoid(x) @ x): x's gradient is the sum of its two uses, written out by hand."""
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = Tensor(x, requires_grad=True)
    (t.sigmoid() @ t).sum().backward()
    s = 1 / (1 + np.exp(-x))
    ones = np.ones((2, 2))
    # d/dx sum(s(x) @ x) = (1 @ x^T) * s (1 - s)  +  s^T @ 1
    np.testing.assert_allclose(t.grad, (ones @ x.T) * s * (1 - s) + s.T @ ones, rtol=1e-12)


@pytest.mark.parametrize("x_shape", [(4,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
@given(data=st.data())
def test_linear(x_shape, bias, data):
    x = data.draw(S.arrays(x_shape))
    w = data.draw(S.arrays((5, 4)))
    if bias:
        b = data.draw(S.arrays((5,)))
        check(lambda x, w, b: tg.linear(x, w, b), lambda x, w, b: x @ w.T + b, x, w, b)
    else:
        check(lambda x, w: tg.linear(x, w), lambda x, w: x @ w.T, x, w)


# ---------------------------------------------------------------------- reductions


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@pytest.mark.parametrize("keepdims", [False, True])
@given(data=st.data(), shape=S.shapes())
def test_reductions(name, keepdims, data, shape):
    axis = data.draw(S.axes(len(shape)))
    x = data.draw(S.distinct(shape) if name == "max" else S.arrays(shape))
    check(
        lambda t: getattr(t, name)(axis=axis, keepdims=keepdims),
        lambda a: getattr(np, name)(a, axis=axis, keepdims=keepdims),
        x,
    )


def test_max_splits_the_gradient_evenly_between_ties():
    """torch.amax's rule: a maximum shared by k elements sends g/k to each."""
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)


# ---------------------------------------------------------------------- shape


@given(shape=S.shapes(min_dims=1), data=st.data())
def test_reshape(shape, data):
    size = int(np.prod(shape))
    target = data.draw(st.sampled_from([(-1,), (size, 1), (1, *shape), shape[::-1], (1, -1)]))
    check(lambda t: t.reshape(target), lambda a: a.reshape(target), data.draw(S.arrays(shape)))
    check(lambda t: t.reshape(*target), lambda a: a.reshape(target), data.draw(S.arrays(shape)))


@given(shape=S.shapes(min_dims=1), data=st.data())
@example(shape=(2, 3, 4), data=None)
def test_permute_transpose_and_T(shape, data):
    if data is None:  # a regression: permute(-1, 0, 1) once sent the gradient back with the wrong inverse
        x, axes = np.random.default_rng(3).standard_normal(shape), (-1, 0, 1)
    else:
        x = data.draw(S.arrays(shape))
        order = data.draw(st.permutations(range(len(shape))))
        negative = data.draw(st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)))
        axes = tuple(a - len(shape) if neg else a for a, neg in zip(order, negative))  # permute(-1, 0) is allowed
    check(lambda t: t.permute(axes), lambda a: np.transpose(a, axes), x)
    check(lambda t: t.permute(*axes), lambda a: np.transpose(a, axes), x)
    check(lambda t: t.T, lambda a: a.T, x)
    # PyTorch's transpose(dim0, dim1) swaps two axes (NumPy's swapaxes), negative axes too
    check(lambda t: t.transpose(axes[0], axes[-1]), lambda a: np.swapaxes(a, axes[0], axes[-1]), x)


# ---------------------------------------------------------------------- indexing


@given(shape=S.shapes(min_dims=1), data=st.data())
def test_basic_indexing(shape, data):
    """Ints (negative too), slices (with steps), None and Ellipsis."""
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    check(lambda t: t[index] * 2.0, lambda a: a[index] * 2.0, data.draw(S.arrays(shape)))


@given(shape=S.shapes(min_dims=1), data=st.data())
def test_integer_array_indexing_with_repeats(shape, data):
    index = data.draw(hnp.integer_array_indices(shape, result_shape=S.shapes(min_dims=1, max_side=5)))
    check(lambda t: t[index], lambda a: a[index], data.draw(S.arrays(shape)))


@given(shape=S.shapes(min_dims=1), data=st.data())
def test_boolean_mask_indexing(shape, data):
    mask = data.draw(hnp.arrays(bool, shape))
    x = data.draw(S.arrays(shape))
    check(lambda t: t[mask], lambda a: a[mask], x)
    check(lambda t: t[Tensor(mask)], lambda a: a[mask], x)  # a boolean Tensor works as a mask


def test_repeated_indices_accumulate_gradient():
    x = Tensor(np.array([10.0, 20.0, 30.0]), requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])
    y = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (y[:, np.array([2, 2])] * np.array([1.0, 10.0])).sum().backward()  # slice and array together
    np.testing.assert_array_equal(y.grad, [[0, 0, 11.0], [0, 0, 11.0]])


@pytest.mark.parametrize(
    "index",
    [
        0,
        -1,
        (1, 2),
        (slice(None), 1),
        (Ellipsis, 0),
        (np.array([1, 0, 1]), slice(0, 2)),
        (None, 1, slice(None, None, -1)),
    ],
    ids=repr,
)
def test_mixed_indices(index):
    x = np.random.default_rng(2).standard_normal((2, 3))
    check(lambda t: t[index], lambda a: a[index], x)


def test_integer_tensor_as_index():
    x = np.arange(5.0) ** 2
    idx = Tensor(np.array([4, 4, 1]), dtype=np.int64)
    check(lambda t: t[idx], lambda a: a[np.array([4, 4, 1])], x)


# ---------------------------------------------------------------------- joining


@given(
    base=S.shapes(min_dims=1, max_dims=3),
    sizes=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    data=st.data(),
)
def test_concatenate(base, sizes, data):
    axis = data.draw(st.integers(-len(base), len(base) - 1))
    shapes = []
    for n in sizes:
        s = list(base)
        s[axis] = n
        shapes.append(tuple(s))
    xs = [data.draw(S.arrays(s)) for s in shapes]
    check(lambda *ts: tg.concatenate(ts, axis=axis), lambda *a: np.concatenate(a, axis=axis), *xs)


@given(shape=S.shapes(max_dims=3), n=st.integers(1, 3), data=st.data())
def test_stack(shape, n, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    xs = [data.draw(S.arrays(shape)) for _ in range(n)]
    check(lambda *ts: tg.stack(list(ts), axis=axis), lambda *a: np.stack(a, axis=axis), *xs)


def test_concatenate_with_a_constant():
    x = np.arange(3.0)
    check(lambda t: tg.concatenate([t, np.ones(2), t * 2]), lambda a: np.concatenate([a, np.ones(2), a * 2]), x)


# ---------------------------------------------------------------------- softmax family


def _softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@given(shape=S.shapes(min_dims=1), data=st.data())
def test_softmax_and_log_softmax(shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(S.arrays(shape, -4, 4))
    check(lambda t: t.softmax(axis), lambda a: _softmax(a, axis), x)
    check(lambda t: t.log_softmax(axis=axis), lambda a: np.log(_softmax(a, axis)), x)


def test_softmax_does_not_overflow():
    x = Tensor(np.array([1000.0, 1000.0, -1000.0]), requires_grad=True)
    out = x.log_softmax()
    out[0].backward()
    np.testing.assert_allclose(out.data, [-np.log(2), -np.log(2), -2000 - np.log(2)], rtol=1e-12)
    np.testing.assert_allclose(x.grad, [0.5, -0.5, 0.0], atol=1e-15)


@given(batch=st.integers(1, 4), classes=st.integers(1, 4), data=st.data())
def test_cross_entropy(batch, classes, data):
    logits = data.draw(S.arrays((batch, classes), -4, 4))
    target = np.array(data.draw(st.lists(st.integers(0, classes - 1), min_size=batch, max_size=batch)))

    def reference(a):
        return -np.log(_softmax(a, 1))[np.arange(batch), target].mean()

    check(lambda t: tg.cross_entropy(t, target), reference, logits)
    check(lambda t: tg.cross_entropy(t, Tensor(target, dtype=np.int64)), reference, logits)


def test_cross_entropy_gradient_closed_form():
    """dL/dx = (softmax(x) - onehot(target)) / batch."""
    logits = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]])
    target = np.array([2, 0])
    t = Tensor(logits, requires_grad=True)
    tg.cross_entropy(t, target).backward()
    onehot = np.eye(3)[target]
    np.testing.assert_allclose(t.grad, (_softmax(logits, 1) - onehot) / 2, rtol=1e-13)


# ---------------------------------------------------------------------- comparisons


def test_comparisons_are_plain_boolean_tensors():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for result, expected in [
        (x < 2, [True, False, False]),
        (x <= 2, [True, True, False]),
        (x > 2, [False, False, True]),
        (x >= 2, [False, True, True]),
        (x == 2, [False, True, False]),
        (x != Tensor(np.array([1.0, 0.0, 3.0])), [False, True, False]),
    ]:
        assert result.dtype == bool
        assert not result.requires_grad
        np.testing.assert_array_equal(result.data, expected)
