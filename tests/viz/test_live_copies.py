"""A running `LiveView` through `copy.copy`, `copy.deepcopy` and `pickle` (issue 24's hunt): a copy was a second
handle on the same server and thread, deepcopy failed with "cannot pickle '_thread.RLock' object" and pickle with
"Can't pickle local object". Each now refuses clearly and says what to copy instead; the History pickles."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from tinygrad_edu import ArgumentTypeError, nn
from tinygrad_edu.viz import live


@pytest.fixture
def view():
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(2, 4, generator=0), nn.Tanh(), nn.Linear(4, 2, generator=1))
    running = live(model, (X, y), loss_fn=nn.CrossEntropyLoss(), lr=0.1, epochs=2, open_browser=False, speed=0)
    yield running
    running.stop()


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy, pickle.dumps], ids=["copy", "deepcopy", "pickle"])
def test_a_running_live_view_refuses_to_be_copied_and_says_what_to_copy(view, how):
    with pytest.raises(ArgumentTypeError, match=r"running server and training thread.*History, which pickles"):
        how(view)


def test_its_history_pickles_with_the_same_numbers(view):
    history = view.stop()
    clone = pickle.loads(pickle.dumps(history))
    assert clone.history == history.history and history.history["loss"]  # (stop() may end it before epoch 2)
