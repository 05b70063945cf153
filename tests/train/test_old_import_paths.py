"""Code written against the flat layout (before training moved into tinygrad_edu/train/) still runs.

The docs used to teach `from tinygrad_edu import checkpoint`, `from tinygrad_edu.summary import summary` and
`from tinygrad_edu.datasets import load_article`; each old path must hand back the very same objects.
"""

import numpy as np

from tinygrad_edu import nn, train


def test_old_checkpoint_module_is_the_train_one(tmp_path):
    from tinygrad_edu import checkpoint

    assert checkpoint.save is train.checkpoint.save and checkpoint.load is train.checkpoint.load
    assert checkpoint.CheckpointError is train.checkpoint.CheckpointError
    assert checkpoint.FORMAT_KEY == "__tinygrad_edu_checkpoint__"
    model = nn.Sequential(nn.Linear(2, 3, generator=0), nn.Sigmoid(), nn.Linear(3, 1, generator=1))
    path = tmp_path / "model.npz"
    checkpoint.save(model, path)
    other = nn.Sequential(nn.Linear(2, 3, generator=5), nn.Sigmoid(), nn.Linear(3, 1, generator=6))
    train.checkpoint.load(other, path)  # written by the old path, read by the new one
    assert all(np.array_equal(other.state_dict()[k], v) for k, v in model.state_dict().items())


def test_old_summary_and_datasets_paths():
    from tinygrad_edu.datasets import load_article, load_digits, make_moons, one_hot
    from tinygrad_edu.summary import summary

    assert summary is train.summary
    assert (load_article, load_digits, make_moons, one_hot) == (
        train.datasets.load_article,
        train.datasets.load_digits,
        train.datasets.make_moons,
        train.datasets.one_hot,
    )
    X, y = load_article(one_hot=False)
    assert X.shape == (10, 2) and y.tolist() == [0] * 5 + [1] * 5


def test_every_public_name_of_the_old_modules_is_still_there():
    import importlib

    old = {  # each public name the flat modules defined, before the move
        "tinygrad_edu.train": "History Metric accuracy engine_of evaluate fit format_logs max_margin_loss "
        "predict progress_bar step_graph",
        "tinygrad_edu.checkpoint": "CheckpointError FORMAT_KEY FORMAT_VERSION PathLike load read_state_dict save",
        "tinygrad_edu.summary": "summary",
        "tinygrad_edu.datasets": "load_article load_digits make_moons one_hot",
    }
    missing = [
        f"{m}.{n}" for m, names in old.items() for n in names.split() if not hasattr(importlib.import_module(m), n)
    ]
    assert missing == []


def test_old_reference_path_is_the_checker_one():
    from tinygrad_edu import reference
    from tinygrad_edu.check import reference as moved

    assert reference.gradients is moved.gradients and reference.backprop is moved.backprop


def test_fit_on_a_model_without_parameters_says_so():
    import pytest

    from tinygrad_edu.errors import ArgumentError

    model = nn.Sequential(nn.Sigmoid(engine="tensor"))
    with pytest.raises(ArgumentError, match="has no parameters"):
        train.fit(model, nn.MSELoss(), None, np.zeros((2, 1)), np.zeros((2, 1)), epochs=1)
    with pytest.raises(ArgumentError, match="has no parameters"):
        train.predict(model, np.zeros((2, 1)))
