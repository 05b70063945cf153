"""Every mode switch survives `copy.copy`, `copy.deepcopy` and `pickle` and behaves the same afterwards
(issue 24): PyTorch's `no_grad`, `enable_grad`, `set_grad_enabled` and `detect_anomaly` objects all pickle."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.anomaly import anomaly_mode

COPIES = {
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
    "pickle": lambda o: pickle.loads(pickle.dumps(o)),
}


def grad_on() -> bool:
    return tg.is_grad_enabled()


# (how to make the switch, what it reads, the state inside, the state outside it)
SWITCHES = {
    "no_grad": (tg.no_grad, grad_on, False, True),
    "set_grad_enabled(False)": (lambda: tg.set_grad_enabled(False), grad_on, False, True),
    "enable_grad": (tg.enable_grad, grad_on, True, False),
    "detect_anomaly": (tg.detect_anomaly, lambda: anomaly_mode.enabled, True, False),
    "keep_graph": (tg.keep_graph, tg.is_graph_kept, True, False),
}


@pytest.fixture(autouse=True)
def default_modes():
    yield
    tg.set_grad_enabled(True)
    assert not anomaly_mode.enabled and not tg.is_graph_kept()


def made(name):
    make, read, inside, outside = SWITCHES[name]
    outer = tg.no_grad() if name == "enable_grad" else tg.enable_grad()  # start away from `inside`
    outer.__enter__()
    switch = make()
    tg.set_grad_enabled(name != "enable_grad")  # undo set_grad_enabled's immediate effect
    return switch, read, inside, outside, outer


@pytest.mark.parametrize("how", sorted(COPIES))
@pytest.mark.parametrize("name", sorted(SWITCHES))
def test_a_copied_switch_switches_its_mode_in_a_with_block_and_puts_it_back(name, how):
    switch, read, inside, outside, outer = made(name)
    clone = COPIES[how](switch)
    assert type(clone) is type(switch)
    assert read() == outside  # copying switched nothing
    with clone:
        assert read() == inside
        with clone:  # entered again while active, as the original can be
            assert read() == inside
        assert read() == inside
    assert read() == outside
    if name != "set_grad_enabled(False)":  # (that one switched when made, so its first `with` switches nothing)
        with switch:  # the original still works on its own
            assert read() == inside
        assert read() == outside
    outer.__exit__(None, None, None)


@pytest.mark.parametrize("how", sorted(COPIES))
@pytest.mark.parametrize("name", sorted(SWITCHES))
def test_a_copied_switch_decorates_two_functions(name, how):
    switch, read, inside, outside, outer = made(name)
    clone = COPIES[how](switch)

    @clone
    def first():
        return read()

    @clone
    def second():
        return read()

    assert (first(), second(), read()) == (inside, inside, outside)
    outer.__exit__(None, None, None)


@pytest.mark.parametrize("how", sorted(COPIES))
def test_a_copy_of_an_open_no_grad_does_not_share_its_open_blocks(how):
    """Copied inside its own `with`: the copy has no block open, so the two unwind independently."""
    switch = tg.no_grad()
    with switch:
        clone = COPIES[how](switch)
        assert clone._previous == [] and clone._previous is not switch._previous
        with tg.enable_grad(), clone:
            assert not tg.is_grad_enabled()
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


@pytest.mark.parametrize("how", sorted(COPIES))
def test_a_copied_no_grad_records_no_graph_as_pytorchs_does(how):
    """The numbers and the graph afterwards, against torch's own pickled no_grad."""
    torch = pytest.importorskip("torch")
    x = Tensor(np.array([1.5, -2.0], np.float32), requires_grad=True)
    with COPIES[how](tg.no_grad()):
        y = x * 3.0
    tx = torch.tensor([1.5, -2.0], requires_grad=True)
    with COPIES[how](torch.no_grad()):
        ty = tx * 3.0
    assert y.requires_grad is ty.requires_grad is False
    np.testing.assert_array_equal(y.data, ty.numpy())


def test_a_pickled_set_grad_enabled_does_not_switch_on_load():
    """`set_grad_enabled(False)` switches at once when called; loading a pickle of it must not."""
    data = pickle.dumps(tg.set_grad_enabled(False))
    tg.set_grad_enabled(True)
    clone = pickle.loads(data)
    assert tg.is_grad_enabled()
    with clone:
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
