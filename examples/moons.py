"""micrograd's demo on tinygrad_edu: a 2-16-16-1 ReLU network separates two moons with a max-margin loss.

100 points of two interleaving half circles (noise 0.1), labels y = -1 / +1. The network outputs
one score s; the loss is micrograd's: the mean of relu(1 - y·s) (a support vector machine's hinge),
plus an L2 penalty 1e-4 · Σ p², and a point counts as right when sign(s) = y.

What differs from micrograd's demo: it runs 100 full-batch SGD steps with a learning rate falling
from 1.0 to 0.1 and adds the L2 term to the loss. Here `fit` keeps one learning rate, so SGD uses
lr 0.1 with momentum 0.9, and the L2 term is SGD's `weight_decay=2e-4` (the gradient of
1e-4 · Σ p² is 2e-4 · p), so the printed loss is the hinge part only. The network, the data and
the 100 full-batch steps are the same; every seed 0-9 we tried reaches >= 99% training accuracy
(seed 0, the default: 100%).

The tensor engine is the default (a fraction of a second); `--engine value` trains the same
network on scalar Values as micrograd does (a few seconds). `--plot moons.png` draws the decision
boundary (needs matplotlib: pip install 'tinygrad_edu[plot]').

Run:  python examples/moons.py [--seed 0] [--engine tensor|value] [--plot moons.png]
"""

from __future__ import annotations

import argparse

import numpy as np

from tinygrad_edu import nn, optim
from tinygrad_edu.train import evaluate, fit, max_margin_loss, predict
from tinygrad_edu.train.datasets import make_moons


def build_model(seed: int, engine: str = "tensor") -> nn.Sequential:
    """micrograd's `MLP(2, [16, 16, 1])`: ReLU after each hidden layer, a linear score at the end."""
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(2, 16, generator=rng, engine=engine),
        nn.ReLU(),
        nn.Linear(16, 16, generator=rng, engine=engine),
        nn.ReLU(),
        nn.Linear(16, 1, generator=rng, engine=engine),
        engine=engine,
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="seeds the data and the initial weights")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--engine", choices=("tensor", "value"), default="tensor")
    parser.add_argument("--plot", metavar="PNG", default=None, help="draw the decision boundary to this file")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.plot:
        _require_matplotlib()

    X, labels = make_moons(100, noise=0.1, generator=args.seed)
    y = (2.0 * labels - 1.0).reshape(-1, 1)  # classes 0/1 -> -1/+1, one score per sample
    model = build_model(args.seed, args.engine)
    print(model)
    print(f"number of parameters: {model.num_parameters()}")
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    history = fit(
        model, max_margin_loss, optimizer, X, y, epochs=args.epochs, batch_size=len(X), progress=not args.no_progress
    )
    for epoch in range(9, args.epochs, 10):
        print(f"step {epoch:3d} loss {history['loss'][epoch]:.4f}, accuracy {history['accuracy'][epoch]:.0%}")
    final = evaluate(model, max_margin_loss, X, y)
    print(f"trained: loss {final['loss']:.4f}, accuracy {final['accuracy']:.0%}")
    if args.plot:
        plot_decision_boundary(model, X, labels, args.plot)
        print(f"decision boundary drawn to {args.plot}")
    return {"accuracy": final["accuracy"], "loss": final["loss"], "history": history, "model": model}


def plot_decision_boundary(model: nn.Module, X: np.ndarray, labels: np.ndarray, path: str) -> None:
    """Colour the plane by the sign of the score on a grid, with the training points on top."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h = 0.05 if model.engine == "tensor" else 0.15  # the scalar engine is slower: a coarser grid
    xx, yy = np.meshgrid(
        np.arange(X[:, 0].min() - 1, X[:, 0].max() + 1, h), np.arange(X[:, 1].min() - 1, X[:, 1].max() + 1, h)
    )
    scores = predict(model, np.c_[xx.ravel(), yy.ravel()])
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contourf(xx, yy, (scores > 0).reshape(xx.shape), cmap=plt.cm.Spectral, alpha=0.8)
    ax.scatter(X[:, 0], X[:, 1], c=labels, s=40, cmap=plt.cm.Spectral, edgecolors="k")
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_title("2-16-16-1 ReLU network, max-margin loss")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install 'tinygrad_edu[plot]'") from None


if __name__ == "__main__":
    main()
