"""backward() releases the graph behind its output, as PyTorch does; keep_graph / retain_graph keep it for drawing."""

from __future__ import annotations

import gc
import re
import threading
import weakref

import numpy as np
import pytest

from tinygrad_edu import GraphError, Tensor, Value, keep_graph, nn, no_grad
from tinygrad_edu.graph import walk
from tinygrad_edu.train import step_graph
from tinygrad_edu.viz import draw, record_modules


def _mlp_loss(seed: int = 0):
    model = nn.Sequential(nn.Linear(4, 8, generator=seed), nn.ReLU(), nn.Linear(8, 3, generator=seed + 1))
    x = Tensor(np.random.default_rng(seed).standard_normal((6, 4)).astype(np.float32))
    loss = nn.CrossEntropyLoss()(model(x), np.array([0, 1, 2, 0, 1, 2]))
    return model, loss


def _intermediates(loss: Tensor) -> list[Tensor]:
    return [n for n in walk(loss) if n._op is not None and n is not loss]


def test_after_backward_the_loss_keeps_no_activation_or_gradient_alive():
    model, loss = _mlp_loss()
    inner = _intermediates(loss)
    assert len(inner) == 3  # Linear, Relu, Linear
    arrays = [weakref.ref(n.data) for n in inner]
    value = loss.item()
    loss.backward()
    assert [n.grad for n in inner] == [None, None, None]  # intermediate gradients released, as in PyTorch
    del inner
    gc.collect()
    assert [r() for r in arrays] == [None, None, None]  # the activations went with the graph
    assert loss.item() == value and float(loss.grad) == 1.0  # the loss keeps its value and its gradient
    assert all(p.grad is not None for p in model.parameters())  # leaves keep theirs
    assert walk(loss) == [loss]


def test_many_kept_losses_hold_no_graphs():
    # the beginner's `losses.append(loss)`: 50 steps must not keep 50 graphs alive
    model = nn.Sequential(nn.Linear(16, 32, generator=0), nn.ReLU(), nn.Linear(32, 4, generator=1))
    x = Tensor(np.random.default_rng(0).standard_normal((64, 16)).astype(np.float32))
    losses, refs = [], []
    for _ in range(50):
        loss = nn.CrossEntropyLoss()(model(x), np.zeros(64, dtype=np.int64))
        refs += [weakref.ref(n.data) for n in _intermediates(loss)]
        loss.backward()
        losses.append(loss)
        model.zero_grad()
    gc.collect()
    assert sum(r() is not None for r in refs) == 0


@pytest.mark.parametrize("keep", ["retain_graph", "keep_graph"])
def test_keeping_the_graph_keeps_it_all_for_drawing(keep):
    _, loss = _mlp_loss(2)
    inner = _intermediates(loss)
    if keep == "retain_graph":
        loss.backward(retain_graph=True)
    else:
        with keep_graph():
            loss.backward()
    assert all(n.grad is not None and n.grad.shape == n.shape for n in inner)
    source = draw(loss).source
    assert source.count("Linear") >= 2 and "grad" in source
    first = [p.grad.copy() for p in walk(loss) if p._op is None and p.requires_grad]
    loss.backward()  # the graph is still there for a second pass
    second = [p.grad for p in walk(loss) if p._op is None and p.requires_grad]
    for a, b in zip(first, second):
        np.testing.assert_allclose(b, 2 * a, rtol=1e-6)


def test_drawing_a_released_graph_says_how_to_keep_it():
    _, loss = _mlp_loss()
    loss.backward()
    with pytest.raises(GraphError, match=r"retain_graph=True.*keep_graph"):
        draw(loss)
    with pytest.raises(GraphError, match="retain_graph=True"):
        loss.backward()  # a second pass through a released graph, as in PyTorch


def test_keep_graph_is_per_thread():
    seen = []
    with keep_graph():
        worker = threading.Thread(target=lambda: seen.append(_run_in_thread()))
        worker.start()
        worker.join()
    assert seen == [True]  # the other thread released its graph: keep_graph here did not reach it


def _run_in_thread() -> bool:
    _, loss = _mlp_loss()
    inner = _intermediates(loss)
    loss.backward()
    return all(n.grad is None for n in inner)


def test_the_scalar_engine_keeps_its_graph():
    a, b = Value(2.0), Value(-3.0)
    h = a * b
    c = h + a
    c.backward()
    assert h.grad == 1.0 and "grad" in draw(c).source
    c.backward()
    assert a.grad == 2 * (b.data + 1)


def test_step_graph_for_train_graph_keeps_the_gradients():
    model = nn.Sequential(nn.Linear(2, 2, generator=0), nn.Sigmoid(), nn.Linear(2, 2, generator=1))
    X = np.array([[0.1, 0.2], [0.3, 0.4]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    with record_modules() as calls:
        loss = step_graph(model, nn.MSELoss(), X, Y)
    inner = _intermediates(loss)
    assert inner and all(n.grad is not None for n in inner)
    assert draw(loss, params=model, calls=calls).source.count("subgraph cluster_m") == 4  # Sequential, 3 layers


def test_train_graph_on_the_tensor_engine_draws_every_intermediate_gradient(tmp_path, capsys):
    from tinygrad_edu.cli import main
    from tinygrad_edu.viz.draw import COLOURS

    path = tmp_path / "step.dot"
    argv = ["train", "--dataset", "article", "--engine", "tensor", "--epochs", "2", "--no-progress"]
    assert main([*argv, "--graph", str(path)]) == 0
    grads = re.findall(r'grad ([^|}"]*)" fillcolor="([^"]+)"', path.read_text())
    results = [g for g, colour in grads if colour == COLOURS["result"]]
    assert len(results) >= 4 and "—" not in results  # the released graph would have drawn none of them


def test_a_second_backward_after_an_in_place_step_says_the_graph_was_released():
    """The fuzzer's case: backward, an optimizer step writes the weights in place, backward again. The
    released graph is reported (naming retain_graph), before the version check reads the links it let go."""
    w = Tensor(np.array([3.0]), requires_grad=True)
    loss = w * w  # the root's own backward reads its inputs, so the version check would look at them
    loss.backward()
    np.testing.assert_array_equal(w.grad, [6.0])  # d(w²)/dw = 2w
    with no_grad():
        w -= 0.1 * w.grad  # an in-place write to a leaf the released graph read
    with pytest.raises(GraphError, match=r"already used by a backward pass.*retain_graph=True"):
        loss.backward()
