"""copy.copy, copy.deepcopy and pickle of graph nodes, both engines (issue 24 item 7), as in PyTorch: a leaf copies
with its data and gradient; a result inside a graph raises GraphError saying to detach() first, never a
RecursionError, however long the chain behind it."""

import copy
import pickle

import numpy as np
import pytest

from tinygrad_edu import GraphError, Tensor, Value, nn, no_grad

DEEP = {"deepcopy": copy.deepcopy, "pickle": lambda obj: pickle.loads(pickle.dumps(obj))}


def value_chain(n=5000):
    x = Value(0.5, name="x")
    y = x
    for _ in range(n):
        y = y * 1.0001 + 0.0
    return x, y


def tensor_chain(n=5000):
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    return x, y


@pytest.mark.parametrize("how", sorted(DEEP))
@pytest.mark.parametrize("chain", [value_chain, tensor_chain], ids=["value", "tensor"])
def test_a_long_chains_result_raises_a_clear_error_not_recursion(how, chain):
    _, y = chain()
    with pytest.raises(GraphError, match=r"detach\(\)") as error:
        DEEP[how](y)
    assert "Only leaves can be copied" in str(error.value)
    assert how.split(".")[-1] in str(error.value)


@pytest.mark.parametrize("how", sorted(DEEP))
def test_a_value_leaf_copies_with_its_data_and_gradient(how):
    x, y = value_chain(50)
    y.backward()
    twin = DEEP[how](x)
    assert type(twin) is Value and twin is not x
    assert (twin.data, twin.grad, twin.requires_grad, twin.name) == (x.data, x.grad, True, "x")
    assert twin.is_leaf
    # The copy is a leaf of its own: a graph built on it sends gradients to it, not to the original.
    twin.grad = None
    (twin * 3.0).backward()
    assert twin.grad == 3.0 and x.grad == pytest.approx(1.0001**50)


@pytest.mark.parametrize("how", sorted(DEEP))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_tensor_leaf_copies_with_its_data_and_gradient(how, dtype):
    x = Tensor(np.array([[1.0, -2.0], [3.0, 0.5]], dtype), requires_grad=True, name="w")
    (x * x).sum().backward()
    twin = DEEP[how](x)
    assert twin is not x and twin.is_leaf and twin.requires_grad and twin.name == "w" and twin.dtype == dtype
    np.testing.assert_array_equal(twin.data, x.data)
    np.testing.assert_array_equal(twin.grad, 2 * x.data)
    twin.data[0, 0] = 100.0
    twin.grad[0, 0] = 100.0
    assert x.data[0, 0] == 1.0 and x.grad[0, 0] == 2.0  # nothing shared


def test_deepcopy_keeps_sharing_between_the_copies():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    a, b, view = copy.deepcopy([x, x, x.detach()])
    assert a is b
    view.data[0] = 9.0  # x.detach() shared x's memory; the copies share theirs
    assert a.data[0] == 9.0 and x.data[0] == 1.0


def test_detached_results_copy():
    _, y = tensor_chain(10)
    for how in DEEP.values():
        np.testing.assert_array_equal(how(y.detach()).data, y.data)
    _, v = value_chain(10)
    assert v.detach().is_leaf and not v.detach().requires_grad
    assert DEEP["pickle"](v.detach()).data == v.data


def test_a_model_deep_copies_and_pickles_with_identical_outputs():
    model = nn.Sequential(nn.Linear(2, 3, generator=0), nn.Tanh(), nn.Linear(3, 1, generator=1))
    x = Tensor(np.array([[0.3, -0.7]], np.float32))
    for how in DEEP.values():
        twin = how(model)
        np.testing.assert_array_equal(twin(x).data, model(x).data)
        assert all(p is not q for p, q in zip(twin.parameters(), model.parameters()))


def test_a_shallow_copy_of_a_leaf_shares_its_version_counter():
    """copy.copy shares the array, so an in-place write through the copy must be seen by backward."""
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (w * w).sum()  # saves w for backward
    alias = copy.copy(w)
    assert alias is not w and alias.data is w.data
    with no_grad():
        alias.add_(1.0)
    with pytest.raises(GraphError, match="in-place"):
        loss.backward()


def test_a_shallow_copy_of_a_result_keeps_its_place_in_the_graph():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 2
    (y * copy.copy(y)).sum().backward()  # d/dx (2x)² = 8x
    np.testing.assert_array_equal(x.grad, [8.0, 16.0])
    v = Value(3.0)
    u = v * 2.0
    (u * copy.copy(u)).backward()
    assert v.grad == 8.0 * 3.0


def test_pytorch_has_the_same_rules():
    torch = pytest.importorskip("torch")
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert torch.equal(copy.deepcopy(x).grad, x.grad)
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)
