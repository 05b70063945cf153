"""What backward, no_grad, retain_graph, detach and dtypes promise, each checked against numbers worked out here."""

import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import GraphError, Tensor, Value, no_grad

# ---------------------------------------------------------------------- accumulation


def test_value_leaf_gradients_accumulate_across_backward_calls():
    a, b = Value(3.0), Value(-2.0)
    out = a * b + a.exp()
    out.backward()
    out.backward()
    assert a.grad == pytest.approx(2 * (-2.0 + math.exp(3.0)), rel=1e-15)
    assert b.grad == 2 * 3.0
    a.grad = None  # the documented reset
    (a * 5).backward()
    assert a.grad == 5.0


def test_tensor_leaf_gradients_accumulate_across_backward_calls():
    x = np.array([0.5, -1.0, 2.0])
    t = Tensor(x, requires_grad=True)
    (t * t).sum().backward()
    (t.tanh()).sum().backward()
    np.testing.assert_allclose(t.grad, 2 * x + (1 - np.tanh(x) ** 2), rtol=1e-15)


def test_value_intermediate_gradient_shows_only_the_latest_pass():
    a = Value(2.0)
    h = a * 3.0
    (h * h).backward()  # d/dh h^2 = 2h = 12
    assert h.grad == 12.0
    (h * 10.0).backward()  # this pass alone: 10
    assert h.grad == 10.0
    assert a.grad == 12.0 * 3 + 10.0 * 3  # the leaf keeps both


def test_tensor_intermediate_gradient_shows_only_the_latest_pass():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = a * 3.0
    (h * h).sum().backward(retain_graph=True)
    np.testing.assert_array_equal(h.grad, 2 * np.array([3.0, 6.0]))
    (h * 10.0).sum().backward(retain_graph=True)  # without it, h.grad is released with the graph
    np.testing.assert_array_equal(h.grad, [10.0, 10.0])
    np.testing.assert_array_equal(a.grad, 2 * np.array([3.0, 6.0]) * 3 + 30.0)


def test_tensor_intermediate_gradient_is_let_go_without_retain_graph():
    # as in PyTorch (non-leaf .grad is None): a gradient passed on is freed at once, so a big
    # graph's backward does not hold every intermediate gradient until it ends
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = a * 3.0
    (h * h).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(a.grad, 2 * np.array([3.0, 6.0]) * 3)


# ---------------------------------------------------------------------- no_grad and requires_grad


def test_no_grad_context_records_no_graph_for_either_engine():
    v = Value(2.0)
    t = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with no_grad():
        assert not tg.is_grad_enabled()
        w = v * 3 + 1
        u = (t * 3 + 1).sum()
    assert tg.is_grad_enabled()
    assert w.data == 7.0 and not w.requires_grad and w._parents == ()
    assert u.item() == 4.0 + 7.0 and not u.requires_grad and u._parents == () and u.is_leaf
    with pytest.raises(GraphError):
        u.backward()
    with pytest.raises(GraphError):
        w.backward()
    assert t.grad is None and v.grad is None


def test_no_grad_as_decorator_and_restores_after_exceptions():
    @no_grad()
    def step(t):
        return t * 2

    t = Tensor(np.array([1.5]), requires_grad=True)
    out = step(t)
    np.testing.assert_array_equal(out.data, [3.0])
    assert not out.requires_grad
    assert tg.is_grad_enabled()
    with pytest.raises(ZeroDivisionError), no_grad():
        _ = 1 / 0
    assert tg.is_grad_enabled()
    with no_grad(), no_grad():
        pass
    assert tg.is_grad_enabled()


def test_requires_grad_propagates_from_any_input():
    a = Tensor(np.array([1.0, 2.0]))  # constant by default, as in PyTorch
    b = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    assert not (a * 2).requires_grad
    c = a * b
    assert c.requires_grad and not c.is_leaf
    c.sum().backward()
    assert a.grad is None
    np.testing.assert_array_equal(b.grad, [1.0, 2.0])
    # Scalar engine: leaves track by default, requires_grad=False makes a constant.
    k, x = Value(4.0, requires_grad=False), Value(5.0)
    assert not (k * 2).requires_grad
    (k * x).backward()
    assert x.grad == 4.0 and k.grad is None


def test_requires_grad_underscore_on_a_leaf():
    t = Tensor(np.array([1.0, -1.0])).requires_grad_()
    (t * t * t).sum().backward()
    np.testing.assert_array_equal(t.grad, 3 * np.array([1.0, 1.0]))


# ---------------------------------------------------------------------- retain_graph


def test_default_backward_frees_the_graph_and_a_second_pass_raises():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])), rtol=1e-15)
    with pytest.raises(GraphError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])), rtol=1e-15)
    with pytest.raises(GraphError):
        y.backward()


def test_value_backward_can_always_run_again():
    """The scalar engine keeps one float per edge, nothing to free: a second backward just accumulates."""
    x = Value(0.3)
    y = x.sigmoid()
    y.backward()
    y.backward()
    s = 1 / (1 + math.exp(-0.3))
    assert x.grad == pytest.approx(2 * s * (1 - s), rel=1e-15)


def test_backward_with_explicit_gradient():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    g = np.array([[1.0, 0.0], [0.5, 2.0]])
    (x * x).backward(gradient=g)
    np.testing.assert_array_equal(x.grad, 2 * x.data * g)
    v = Value(3.0)
    (v * v).backward(0.5)
    assert v.grad == 3.0


# ---------------------------------------------------------------------- detach, from_numpy, aliasing


def test_detach_shares_memory_and_cuts_the_graph():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 2
    d = h.detach()
    assert np.shares_memory(d.data, h.data)
    assert not d.requires_grad and d.is_leaf
    (h.sum() + (d * x).sum()).backward()
    np.testing.assert_array_equal(x.grad, 2 + h.data)  # d counts as a constant: no path through it
    d.data[0] = 100.0
    assert h.data[0] == 100.0


def test_from_numpy_shares_memory_and_tensor_copies():
    array = np.array([1.0, 2.0])
    shared = Tensor.from_numpy(array, requires_grad=True)
    copied = Tensor(array)
    array[0] = 5.0
    assert shared.data[0] == 5.0
    assert copied.data[0] == 1.0
    assert shared.dtype == np.float64
    (shared * shared).sum().backward()
    np.testing.assert_array_equal(shared.grad, [10.0, 4.0])


def test_leaf_gradients_never_alias_each_other():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad, b.grad)
    a.grad *= 10.0  # an optimizer updating one leaf's grad in place
    a.grad += 1.0
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    np.testing.assert_array_equal(a.grad, [11.0, 11.0])


def test_leaf_gradient_is_writable_and_not_a_broadcast_view():
    """sum's backward broadcasts g; the leaf must still own a normal writable array."""
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    a.sum().backward()
    assert a.grad.flags.writeable and a.grad.flags.owndata
    a.grad[0, 0] = 7.0
    np.testing.assert_array_equal(a.grad, [[7.0, 1.0, 1.0], [1.0, 1.0, 1.0]])


def test_ndarray_times_tensor_is_a_tensor_with_a_gradient():
    w = np.array([2.0, 3.0])
    t = Tensor(np.array([1.0, 1.0]), requires_grad=True)
    out = w * t
    assert isinstance(out, Tensor) and out.requires_grad
    (out + w).sum().backward()
    np.testing.assert_array_equal(t.grad, w)
    for result in (w + t, w - t, w / t, w**t, w @ t):
        assert isinstance(result, Tensor) and result.requires_grad


# ---------------------------------------------------------------------- dtypes


def test_dtype_rules():
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(3.0).dtype == np.float32
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert Tensor(np.array([1.0])).dtype == np.float64
    assert Tensor(np.array([1.0], dtype=np.float32)).dtype == np.float32
    assert Tensor(np.array([1, 2])).dtype == np.array([1, 2]).dtype  # an int ndarray keeps its dtype
    assert Tensor.zeros(2, 3).dtype == np.float32 and Tensor.zeros(2, 3).shape == (2, 3)
    assert Tensor.ones((2,), dtype=np.float64).dtype == np.float64
    # Python numbers do not promote a float32 tensor; a float64 array does (NumPy's rules).
    assert (Tensor([1.0]) * 2.5).dtype == np.float32
    assert (Tensor([1.0]) * np.array([2.5])).dtype == np.float64


def test_gradients_have_the_parameter_dtype():
    w32 = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    x64 = np.array([0.5, 0.25])
    out = (w32 * x64).sum()  # float64 result
    assert out.dtype == np.float64
    out.backward()
    assert w32.grad.dtype == np.float32
    np.testing.assert_array_equal(w32.grad, np.float32([0.5, 0.25]))
    w64 = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (w64 * Tensor([3.0, 4.0])).sum().backward()
    assert w64.grad.dtype == np.float64
    np.testing.assert_array_equal(w64.grad, [3.0, 4.0])


def test_constructors_with_a_seed_are_reproducible():
    a = Tensor.randn(2, 3, generator=7)
    b = Tensor.randn(2, 3, generator=np.random.default_rng(7))
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.data, np.random.default_rng(7).standard_normal((2, 3)).astype(np.float32))
    u = Tensor.uniform(-1, 1, (100,), generator=0, dtype=np.float64)
    np.testing.assert_array_equal(u.data, np.random.default_rng(0).uniform(-1, 1, (100,)))


def test_item_numpy_and_shape_facts():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.numpy() is t.data
    assert t[1, 2].item() == 5.0


def test_gc_paused_restores_the_collector_and_graphs_are_freed_without_it():
    import gc
    import weakref

    from tinygrad_edu import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        x = Tensor(np.ones(3), requires_grad=True)
        y = (x * 2).sum()
        y.backward()
        probe = weakref.ref(y.data)  # ndarray supports weakrefs; it dies with the node
        del y
        assert probe() is None  # freed by reference counting alone: no cycle kept it alive
    assert gc.isenabled()
    np.testing.assert_allclose(x.grad, [2.0, 2.0, 2.0])
