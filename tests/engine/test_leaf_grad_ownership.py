"""A leaf's `.grad` is an array of its own: kept as the op's backward made it when nothing else holds it
(`tensor_backward._sole`, PyTorch's AccumulateGrad steal), copied otherwise.

Optimizers and `backward()` itself add into `.grad` in place, so a `.grad` that shared memory with another
leaf's, with an intermediate's retained gradient, with what an op saved, or with an array the user passed
would silently change them too. Each test below compares against that independent fact (np.shares_memory,
and the numbers after an in-place write), and one shows the check fails when every array is kept.
"""

from __future__ import annotations

from sys import getrefcount
from typing import Any

import numpy as np
import pytest
from op_cases import TENSOR_OPS

import tinygrad_edu as tg
from tinygrad_edu import Tensor, ops, tensor, tensor_backward


def _leaves(seed: int) -> tuple[Tensor, Tensor]:
    rng = np.random.default_rng(seed)
    return (
        Tensor(rng.standard_normal((3, 4)), requires_grad=True),
        Tensor(rng.standard_normal((3, 4)), requires_grad=True),
    )


def _saved_arrays(saved: Any) -> list[np.ndarray]:
    items = saved if isinstance(saved, tuple) else (saved,)
    return [a for a in items if isinstance(a, np.ndarray)]


def _held_elsewhere(x: Tensor, y: Tensor, out: Tensor, saved: Any, seed: np.ndarray) -> list[tuple[str, Any]]:
    """Every array a leaf's gradient must not share memory with."""
    arrays = [("the other leaf's .grad", y.grad), ("the result's .grad", out.grad), ("the seed", seed)]
    arrays += [("the leaf's own value", x.data), ("the other leaf's value", y.data)]
    arrays += [("an array the op saved", a) for a in _saved_arrays(saved)]
    return [(what, a) for what, a in arrays if a is not None]


@pytest.mark.parametrize("name", sorted(TENSOR_OPS))
@pytest.mark.parametrize("retain", [True, False])
def test_no_leaf_grad_shares_memory_with_anything_else(name: str, retain: bool) -> None:
    x, y = _leaves(0)
    out = TENSOR_OPS[name](x, y)
    saved = out._saved
    seed = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(seed, retain_graph=retain)
    for leaf, other in ((x, y), (y, x)):
        if leaf.grad is None:
            continue
        for what, array in _held_elsewhere(leaf, other, out, saved, seed):
            assert not np.shares_memory(leaf.grad, array), f"{name}: a leaf's .grad shares memory with {what}"


@pytest.mark.parametrize("name", sorted(TENSOR_OPS))
def test_an_in_place_write_to_one_grad_changes_nothing_else(name: str) -> None:
    x, y = _leaves(2)
    out = TENSOR_OPS[name](x, y)
    seed = np.ones(out.shape)
    out.backward(seed, retain_graph=True)
    before = {k: None if v is None else v.copy() for k, v in {"y": y.grad, "out": out.grad, "seed": seed}.items()}
    if x.grad is None:
        pytest.skip(f"{name}: x gets no gradient here")
    x.grad *= 10.0  # as an optimizer's weight decay or a second backward() would
    after = {"y": y.grad, "out": out.grad, "seed": seed}
    for k, v in before.items():
        if v is not None:
            np.testing.assert_array_equal(after[k], v, err_msg=f"{name}: writing x.grad changed {k}")


class _OneArrayForBoth(ops.Op, reads=()):
    """A user's op whose backward hands one new array to both inputs."""

    @staticmethod
    def forward(x, y):
        return x + y, None

    @staticmethod
    def backward(saved, g, needs):
        both = g * 1.0
        return both, both


_KEPT = np.full((3, 4), 7.0)  # an array a module holds, handed out by an op's backward


class _HandsOutAModuleArray(ops.Op, reads=()):
    @staticmethod
    def forward(x):
        return x * 1.0, None

    @staticmethod
    def backward(saved, g, needs):
        return (_KEPT,)


def test_one_new_array_for_two_leaves_is_kept_by_one_and_copied_for_the_other() -> None:
    x, y = _leaves(3)
    tensor._apply(_OneArrayForBoth, (x, y)).sum().backward()
    assert not np.shares_memory(x.grad, y.grad)
    np.testing.assert_array_equal(x.grad, np.ones((3, 4)))
    np.testing.assert_array_equal(y.grad, np.ones((3, 4)))


def test_an_array_someone_else_holds_is_copied() -> None:
    x, _ = _leaves(4)
    tensor._apply(_HandsOutAModuleArray, (x,)).sum().backward()
    assert not np.shares_memory(x.grad, _KEPT)
    x.grad += 1.0
    assert (_KEPT == 7.0).all()


def test_the_weights_of_an_mlp_keep_the_arrays_their_op_made() -> None:
    """Where no one else holds a gradient (the usual training step), no copy is made: the speed the helper
    is for. An op's returned arrays are recorded by id only, so the spy itself holds none of them."""
    made: list[list[int]] = []
    linear_backward = ops.Linear.backward

    def spy(saved: Any, g: Any, needs: Any) -> Any:
        grads = linear_backward(saved, g, needs)
        made.append([id(a) for a in grads])
        return grads

    rng = np.random.default_rng(5)
    W1, b1 = Tensor(rng.standard_normal((4, 3)), requires_grad=True), Tensor(np.zeros(4), requires_grad=True)
    W2, b2 = Tensor(rng.standard_normal((2, 4)), requires_grad=True), Tensor(np.zeros(2), requires_grad=True)
    x = rng.standard_normal((5, 3))
    ops.Linear.backward = staticmethod(spy)
    try:
        loss = tg.linear(tg.linear(Tensor(x), W1, b1).sigmoid(), W2, b2).sum()
        loss.backward()
    finally:
        ops.Linear.backward = staticmethod(linear_backward)
    assert [id(W2.grad), id(b2.grad)] == made[0][1:]
    assert [id(W1.grad), id(b1.grad)] == made[1][1:]
    a1 = 1 / (1 + np.exp(-(x @ W1.data.T)))  # the same gradients, by hand
    np.testing.assert_allclose(W2.grad, np.ones((5, 2)).T @ a1)
    np.testing.assert_allclose(b1.grad, ((np.ones((5, 2)) @ W2.data) * a1 * (1 - a1)).sum(axis=0))


def test_the_ownership_check_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """With every array kept (no count), x + y hands one array to both leaves: the tests above would see it."""
    monkeypatch.setattr(tensor_backward, "_SOLE", 1 << 30)
    x, y = _leaves(6)
    (x + y).sum().backward()
    assert np.shares_memory(x.grad, y.grad)


def test_the_count_for_one_holder_is_this_pythons() -> None:
    """`_SOLE` is written per interpreter (CPython 3.11-3.13: 3); measured here with the call shape of
    `sole = _sole(g)`, it must agree, or every leaf gradient would be copied (or, worse, one kept that is shared)."""
    if tensor_backward._SOLE == 0:
        pytest.skip("this Python copies every leaf gradient (no count is trusted)")

    def asks(grad: Any) -> int:
        return getrefcount(grad)

    def holder() -> int:
        g = np.empty(0)
        return asks(g)

    assert holder() == tensor_backward._SOLE
