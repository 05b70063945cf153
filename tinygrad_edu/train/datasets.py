"""Small datasets to train on: the article's 10 points, two moons, and (with scikit-learn) digits.

Every loader returns plain NumPy arrays `(X, y)`: `X` is float64 `(samples, features)`, `y` holds
integer class labels `(samples,)`, or one-hot rows `(samples, classes)` with `one_hot=True`, which
is what the article's networks are trained on (the target for class 1 of 2 is `[0, 1]`).
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, MissingDependencyError, ShapeError
from ..rng import Seed, as_generator

# The article's dataset (from machinelearningmastery's backprop tutorial): 5 points of class 0 on the
# left, 5 of class 1 on the right, so one straight line separates them.
_ARTICLE_X = (
    (2.7810836, 2.550537003),
    (1.465489372, 2.362125076),
    (3.396561688, 4.400293529),
    (1.38807019, 1.850220317),
    (3.06407232, 3.005305973),
    (7.627531214, 2.759262235),
    (5.332441248, 2.088626775),
    (6.922596716, 1.77106367),
    (8.675418651, -0.242068655),
    (7.673756466, 3.508563011),
)
_ARTICLE_LABELS = (0, 0, 0, 0, 0, 1, 1, 1, 1, 1)


def one_hot(labels: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """Rows of zeros with a 1 at each label: `one_hot([0, 1]) = [[1, 0], [0, 1]]` (float64)."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ShapeError(f"one_hot: expected a 1-D array of integer labels, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ArgumentError(
            f"one_hot: labels must be integers (class indices), got {labels.dtype}; use labels.astype(int)"
        )
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ArgumentError(f"one_hot: labels must lie in [0, {num_classes}), got {labels.min()}..{labels.max()}")
    out = np.zeros((labels.size, num_classes))
    out[np.arange(labels.size), labels] = 1.0
    return out


def load_article(one_hot: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The article's 10 points in 2-D and their classes (one-hot `(10, 2)` by default, else labels `(10,)`)."""
    X = np.array(_ARTICLE_X)
    labels = np.array(_ARTICLE_LABELS)
    return X, (_one_hot(labels, 2) if one_hot else labels)


def make_moons(
    n_samples: int = 100, noise: float | None = 0.1, generator: Seed = None, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, the data set of micrograd's demo (the geometry of scikit-learn's).

    Class 0 lies on the upper half of the unit circle, (cos t, sin t) for t in [0, π]; class 1 on
    the same arc flipped and moved, (1 - cos t, 1/2 - sin t). Gaussian noise of standard deviation
    `noise` is then added to every coordinate. Pure NumPy, so the package does not need
    scikit-learn, and the same `generator` seed gives the same points on every machine.
    """
    if not isinstance(n_samples, (int, np.integer)) or isinstance(n_samples, bool):
        raise ArgumentTypeError(f"make_moons: n_samples must be a whole number, got {n_samples!r}")
    if noise is not None and not isinstance(noise, (int, float, np.number)):
        raise ArgumentTypeError(f"make_moons: noise must be a number (a standard deviation) or None, got {noise!r}")
    if n_samples < 2:
        raise ArgumentError(f"make_moons: needs n_samples >= 2 (one point per moon), got {n_samples}")
    if noise is not None and not noise >= 0:  # `not >=` also catches NaN
        raise ArgumentError(f"make_moons: noise is a standard deviation, so it must be >= 0, got {noise}")
    rng = as_generator(generator)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    t_outer = np.linspace(0.0, np.pi, n_outer)
    t_inner = np.linspace(0.0, np.pi, n_inner)
    X = np.concatenate(
        [
            np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
            np.stack([1.0 - np.cos(t_inner), 0.5 - np.sin(t_inner)], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_outer, dtype=np.int64), np.ones(n_inner, dtype=np.int64)])
    if shuffle:
        order = rng.permutation(n_samples)
        X, y = X[order], y[order]
    if noise:
        X = X + rng.normal(scale=noise, size=X.shape)
    return X, y


def load_digits(one_hot: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten digits: 8x8 images as 64 features scaled to [0, 1], labels 0-9.

    Needs scikit-learn (the data ships with it): `pip install scikit-learn`.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError:
        raise MissingDependencyError(
            "load_digits: the digits data set comes with scikit-learn, which is not installed; "
            "install it with `pip install scikit-learn`, or use the 'article' or 'moons' data sets"
        ) from None
    data = sklearn_load_digits()
    X = np.asarray(data.data, dtype=np.float64) / 16.0  # pixel intensities are 0..16
    labels = np.asarray(data.target, dtype=np.int64)
    return X, (_one_hot(labels, 10) if one_hot else labels)


_one_hot = one_hot  # the loaders' `one_hot` flag shadows the function inside them
