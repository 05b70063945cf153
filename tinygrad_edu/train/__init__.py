"""Training, built on the engines and `nn`: the Keras-style loop, a model summary, checkpoints and data sets.

    loop.py           fit, predict, evaluate, History, step_graph (the graph of one training step)
    progress.py       the one-line bar `fit` draws per epoch (tqdm when installed)
    metrics.py        accuracy, and the names `fit` and `evaluate` accept for metrics
    model_summary.py  summary(model, input_shape): Keras's table of layers, output shapes and sizes
    checkpoint.py     save / load a model's state_dict as a .npz file, atomically and safely
    datasets.py       the article's 10 points, two moons, scikit-learn's digits

Nothing in the engines or in `nn` imports this package; it only builds on them.
"""

from ..nn import engine_of, max_margin_loss  # in nn now; kept here, where they were imported from before
from . import checkpoint, datasets
from .checkpoint import load, save
from .loop import History, evaluate, fit, predict, step_graph
from .metrics import Metric, accuracy
from .model_summary import summary
from .progress import format_logs, progress_bar

__all__ = [
    "History",
    "Metric",
    "accuracy",
    "checkpoint",
    "datasets",
    "engine_of",
    "evaluate",
    "fit",
    "format_logs",
    "load",
    "max_margin_loss",
    "predict",
    "progress_bar",
    "save",
    "step_graph",
    "summary",
]
