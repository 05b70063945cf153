"""`tinygrad-edu train`: train a small network on a built-in data set and print how it did.

    tinygrad-edu train --dataset article                  # the article's 2-2-2 network, 10 points
    tinygrad-edu train --dataset moons --engine value     # micrograd's demo on scalar Values
    tinygrad-edu train --dataset digits --save digits.npz --plot loss.png

Each data set comes with a model, a loss and training settings that work; `--epochs`, `--lr`,
`--optimizer` and `--batch-size` override them.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import nn, optim
from ..errors import MissingDependencyError
from ..files import write_atomic
from ..train import checkpoint, datasets, evaluate, fit, max_margin_loss, step_graph
from . import compile_flags, graph_step, train_live
from .argtypes import GRAPH_FORMATS, check_output, count, drawing_format, positive_float


@dataclass(frozen=True)
class Preset:
    """What `--dataset NAME` trains, and how, unless the command line says otherwise."""

    load: Callable[[], tuple[np.ndarray, np.ndarray]]
    layers: tuple[int, ...]  # input, hidden..., output sizes
    activation: str  # after every hidden layer ("sigmoid" or "relu")
    final: str | None  # after the output layer
    loss: Callable[[], Callable[[Any, Any], Any]]
    optimizer: str
    lr: dict[str, float]  # per optimizer, so `--optimizer adam` alone gets a learning rate that suits Adam
    epochs: int
    batch_size: int | None  # None: the engine's default (full batch for tensors, one sample for Values)
    description: str
    momentum: float = 0.0  # SGD only
    weight_decay: float = 0.0


def _moons() -> tuple[np.ndarray, np.ndarray]:
    X, y = datasets.make_moons(100, noise=0.1, generator=1)
    return X, (2 * y - 1).astype(np.float64).reshape(-1, 1)  # labels -1/+1 for the max-margin loss


PRESETS: dict[str, Preset] = {
    "article": Preset(
        load=datasets.load_article,
        layers=(2, 2, 2),
        activation="sigmoid",
        final="sigmoid",
        loss=lambda: nn.MSELoss(reduction="half_sum"),
        optimizer="sgd",
        lr={"sgd": 0.5, "adam": 0.01},
        epochs=40,
        batch_size=1,
        description="the article's 10 points; 2-2-2 sigmoid network, E = 1/2 sum (target - output)^2, per-sample SGD",
    ),
    "moons": Preset(
        load=_moons,
        layers=(2, 16, 16, 1),
        activation="relu",
        final=None,
        loss=lambda: max_margin_loss,
        optimizer="sgd",
        lr={"sgd": 0.1, "adam": 0.05},
        epochs=100,
        batch_size=100,  # full batch on both engines, as in micrograd's demo
        description="100 two-moons points; micrograd's 2-16-16-1 ReLU network with the max-margin loss",
        momentum=0.9,
        weight_decay=2e-4,  # micrograd's L2 term 1e-4 * sum(p^2) has gradient 2e-4 * p
    ),
    "digits": Preset(
        load=datasets.load_digits,
        layers=(64, 32, 10),
        activation="relu",
        final=None,
        loss=lambda: nn.CrossEntropyLoss(),
        optimizer="adam",
        lr={"sgd": 0.1, "adam": 0.01},
        epochs=20,
        batch_size=32,
        description="scikit-learn's 1,797 8x8 digits; 64-32-10 ReLU network, cross-entropy",
    ),
}


def register(subparsers: Any) -> None:
    defaults = "\n".join(
        f"  {name:<8} {p.optimizer} lr={p.lr[p.optimizer]}, {p.epochs} epochs, batch size "
        f"{p.batch_size or 'engine default'}: {p.description}"
        for name, p in PRESETS.items()
    )
    parser = subparsers.add_parser(
        "train",
        help="train a small network on a built-in data set",
        description="Train a small network on a built-in data set and print its final loss and accuracy.",
        epilog=f"data sets and their default settings:\n{defaults}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dataset", choices=sorted(PRESETS), default="article", help="what to learn (article)")
    parser.add_argument(
        "--engine", choices=("value", "tensor"), default="tensor", help="scalar Values or Tensors (tensor)"
    )
    parser.add_argument("--epochs", type=count(0), default=None, help="passes over the data (default: the data set's)")
    parser.add_argument("--lr", type=positive_float, default=None, help="learning rate (default: the data set's)")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default=None, help="default: the data set's")
    parser.add_argument("--batch-size", type=count(1), default=None, help="samples per step (default: the data set's)")
    parser.add_argument("--seed", type=count(0), default=0, help="seeds initial weights and shuffling (0)")
    parser.add_argument("--save", metavar="PATH", default=None, help="write the trained parameters to a .npz file")
    parser.add_argument("--plot", metavar="PNG", default=None, help="draw the loss curve (needs matplotlib)")
    parser.add_argument(
        "--graph",
        metavar="PATH",
        type=_graph_path,
        default=None,
        help="draw the graph of one training step, values and gradients on it (.svg, .png, .pdf, .dot or .html)",
    )
    graph_step.add_argument(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    compile_flags.add_train_flags(parser)
    train_live.add_flags(parser)  # --live, --port, --no-open, --speed, --record
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    preset = PRESETS[args.dataset]
    if args.plot and not _has_matplotlib():
        # Checked before training, so a missing package costs no wasted minutes.
        raise MissingDependencyError(
            "--plot needs matplotlib, which is not installed; install it with "
            "`pip install 'tinygrad_edu[plot]'` (or `pip install matplotlib`), or leave out --plot"
        )
    for flag, path in (("--save", args.save), ("--plot", args.plot), ("--graph", args.graph)):
        if path:
            check_output(flag, path)  # before training, so a bad path costs no wasted minutes
    epochs = preset.epochs if args.epochs is None else args.epochs
    optimizer_name = preset.optimizer if args.optimizer is None else args.optimizer
    lr = preset.lr[optimizer_name] if args.lr is None else args.lr
    batch_size = preset.batch_size if args.batch_size is None else args.batch_size

    X, Y = preset.load()
    rng = np.random.default_rng(args.seed)
    model = build_model(preset, args.engine, rng)
    loss_fn = preset.loss()
    optimizer = make_optimizer(optimizer_name, model.parameters(), lr, preset)
    watch = train_live.start(args, model, loss_fn, optimizer, X, Y, epochs, batch_size, rng)  # prints the URL first
    print(f"dataset {args.dataset}: {preset.description}")
    print(
        f"{len(X)} samples, {args.engine} engine, {model.num_parameters()} parameters, {optimizer_name} lr={lr}, "
        f"{epochs} epochs, batch size {batch_size or ('1' if args.engine == 'value' else 'all')}, seed {args.seed}"
    )

    per_epoch = -(-len(X) // (batch_size or (1 if args.engine == "value" else len(X))))
    chosen = (args.graph_step, model, optimizer, epochs, per_epoch, args.compile)  # --compile: first or last only
    snapshot = graph_step.Snapshot(*chosen) if args.graph else None
    start = time.perf_counter()
    history = watch.fit() if watch else fit(
        model, loss_fn, optimizer, X, Y, epochs, batch_size=batch_size, progress=not args.no_progress, generator=rng,
        **compile_flags.fit_options(args),
    )  # fmt: skip
    seconds = watch.seconds if watch else time.perf_counter() - start
    if not args.no_progress and not sys.stdout.isatty():
        print_epochs(history)  # the bar is silent in a pipe or a log file: its numbers go here instead
    final = evaluate(model, loss_fn, X, Y, batch_size=batch_size)
    correct = round(final["accuracy"] * len(X))
    print(f"trained in {seconds:.2f} s")
    if history.epoch:
        last = history.final()
        print(
            f"last epoch, while training: loss {last['loss']:.6f}, accuracy {last.get('accuracy', float('nan')):.4f} "
            "(the progress bar's numbers: each batch measured before its own update)"
        )
    print(
        f"final loss {final['loss']:.6f}, accuracy {final['accuracy']:.4f} ({correct}/{len(X)} correct) "
        f"(after training: one more pass over all {len(X)} samples, no updates)"
    )

    if args.save:
        checkpoint.save(model, args.save)
        print(f"saved the parameters to {args.save}")
    if args.plot:
        plot_history(history, args.plot, title=f"{args.dataset}, {args.engine} engine")
        print(f"saved the loss curve to {args.plot}")
    if args.graph:
        from ..viz import record_modules, render  # graphviz is imported only when drawing

        n = batch_size or len(X)
        first = args.graph_step == "first"
        batch = slice(0, n) if first else slice(-n, None)  # the first or the last batch, in data order
        drawn = snapshot.chosen(model)
        with record_modules() as calls:  # each layer's call drawn as a cluster
            loss = step_graph(drawn, loss_fn, X[batch], Y[batch])
        _name_data(loss, drawn, X[batch], Y[batch])
        says = snapshot.says(len(X[batch]), "first" if first else "last")
        if args.graph.lower().endswith(".html"):  # the page that steps through this step's backprop
            from ..viz import steps

            steps(loss, params=drawn, calls=calls, title=f"{args.dataset}: {says}").save(args.graph)
        else:
            fmt = os.path.splitext(args.graph)[1][1:].lower()
            render(loss, args.graph, format=fmt, params=drawn, calls=calls)
        print(f"drew one forward and backward pass (no update; loss {_scalar(loss):.6f}) of {says} to {args.graph}")
    return 0


def print_epochs(history: Any, lines: int = 10) -> None:
    """About `lines` epochs of the history, evenly spaced and always the last, one line each like the bar."""
    n = len(history.epoch)
    step = max(1, -(-n // lines))
    for k in range(n):
        if k % step == step - 1 or k == n - 1:
            logs = " - ".join(f"{name}: {values[k]:.4f}" for name, values in history.history.items())
            print(f"epoch {history.epoch[k]}/{n} - {logs}")


def _name_data(loss: Any, model: Any, x: np.ndarray, y: np.ndarray) -> None:
    """Name the batch's input and target tensors `x` and `target`, so the drawing says which is which.

    The tensor engine only (its batch is one leaf each); a scalar model's inputs are plain floats.
    """
    from ..graph import walk

    params = {id(p) for p in model.parameters()}
    for node in walk(loss):
        if getattr(node, "name", "") is not None or id(node) in params or not isinstance(node.data, np.ndarray):
            continue
        if any(parent is not None for parent in node.parents):
            continue
        if node.data.shape == x.shape and np.array_equal(node.data, x.astype(node.data.dtype)):
            node.name = "x"
        elif node.data.shape == np.shape(y) and np.array_equal(node.data, np.asarray(y).astype(node.data.dtype)):
            node.name = "target"


def _scalar(loss: Any) -> float:
    return float(loss.data)


def _graph_path(path: str) -> str:
    """argparse type for --graph: the suffix picks the format, so it must be one render knows."""
    if drawing_format(path, GRAPH_FORMATS) is None:
        raise argparse.ArgumentTypeError(f"{path}: the file name must end in .svg, .png, .pdf, .dot or .html")
    return path


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def build_model(preset: Preset, engine: str, generator: np.random.Generator) -> Any:
    """`Linear` layers of the preset's sizes with its activations between them, on the chosen engine."""
    activations = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}
    layers: list[Any] = []
    sizes = preset.layers
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out, generator=generator, engine=engine))
        name = preset.activation if k < len(sizes) - 2 else preset.final
        if name is not None:
            layers.append(activations[name](engine=engine))
    return nn.Sequential(*layers, engine=engine)


def make_optimizer(name: str, params: Any, lr: float, preset: Preset) -> Any:
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=preset.momentum, weight_decay=preset.weight_decay)
    return optim.Adam(params, lr=lr, weight_decay=preset.weight_decay)


def plot_history(history: Any, path: str, title: str) -> None:
    """Loss (and accuracy) per epoch, written to `path` (the format follows its extension)."""
    import matplotlib

    matplotlib.use("Agg")  # draw to a file; no window, no display needed
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    lines = ax.plot(history.epoch, history["loss"], label="loss", color="tab:blue")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    if "accuracy" in history.history:
        ax2 = ax.twinx()
        lines += ax2.plot(history.epoch, history["accuracy"], label="accuracy", color="tab:orange")
        ax2.set_ylabel("accuracy")
        ax2.set_ylim(0, 1.05)
    ax.legend(lines, [line.get_label() for line in lines], loc="center right")
    fig.tight_layout()
    write_atomic(path, lambda file: fig.savefig(file, format=os.path.splitext(path)[1][1:].lower() or None))
    plt.close(fig)
