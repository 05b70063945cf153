"""A compiled step through `copy.copy`, `copy.deepcopy` and `pickle` (issue 24's hunt): a copy compiles the same
function afresh and steps the same model to the same numbers; pickling is refused with a `CompileError` that says
what to pickle instead (it used to fail with pickle's own "not the same object as __main__.step")."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import CompileError, Tensor, nn, optim

X = Tensor(np.array([[0.5, -1.0], [1.5, 0.25]], np.float32))


def setup():
    model = nn.Sequential(nn.Linear(2, 3, generator=0), nn.Tanh(), nn.Linear(3, 1, generator=1))
    opt = optim.Adam(model.parameters(), lr=0.05)

    def step(x):
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    return model, tg.compile(step)


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy])
def test_a_copied_compiled_step_steps_the_same_model_to_the_same_numbers(how):
    model, step = setup()
    twin, twin_step = setup()
    for _ in range(3):
        step(X)
        twin_step(X)
    clone = how(step)
    assert clone.traces == 0 and clone.fn is step.fn  # compiled afresh, from the same function
    losses = [float(clone(X).item()) for _ in range(3)]
    twins = [float(twin_step(X).item()) for _ in range(3)]
    assert losses == twins
    for a, b in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert clone.traces == 1 and "def step" in clone.source


def test_pickling_a_compiled_step_is_refused_with_what_to_do():
    _, step = setup()
    step(X)
    with pytest.raises(CompileError, match=r"cannot be pickled.*pickle \(or save\) the model and optimizer"):
        pickle.dumps(step)
