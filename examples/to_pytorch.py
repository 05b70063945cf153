"""Moving on to PyTorch: train the article's network here, hand it over mid-training, finish in PyTorch.

The network is the article's 2-2-2 sigmoid network as `nn.Sequential(Linear, Sigmoid, Linear, Sigmoid)`
in float64, starting from the article's weights (w1 = 0.1 ... w8 = 0.8, b_h1 = 0.5, b_h2 = 0.12,
b_o1 = 0.2, b_o2 = 0.4), trained as the article trains: its 10 points one at a time,
E = ½ Σ (target - output)², learning rate 0.5, 40 epochs.

Two runs, side by side: one trains all 40 epochs here; the other trains 20 here, then carries the
model and its optimizer over with one call each,

    torch_model = to_torch(model)
    torch_optimizer = to_torch(optimizer, torch_model)

and trains the other 20 epochs in PyTorch. They print the same errors (and end with the same
weights, to rounding), because the weights and the optimizer's state (with --momentum, its
momentum buffers) come over exactly and PyTorch's SGD is the same rule.

Needs PyTorch (`pip install -e '.[torch]'`); without it, it says what to install and exits.
Run:  python examples/to_pytorch.py [--epochs 40] [--hand-over 20] [--momentum 0.9]
"""

from __future__ import annotations

import argparse

import numpy as np

from tinygrad_edu import MissingDependencyError, Tensor, nn, optim, to_torch
from tinygrad_edu.check.article_network import state_dict as article_weights
from tinygrad_edu.train.datasets import load_article


def build_model() -> nn.Sequential:
    """The article's network with the article's weights, in float64."""
    model = nn.Sequential(
        nn.Linear(2, 2, dtype=np.float64, generator=0),
        nn.Sigmoid(),
        nn.Linear(2, 2, dtype=np.float64, generator=0),
        nn.Sigmoid(),
    )
    model.load_state_dict(article_weights())
    return model


def epoch_here(model: nn.Module, optimizer: optim.Optimizer, X: np.ndarray, expected: np.ndarray) -> float:
    """One epoch of the article's training, one sample at a time: the sum of the samples' E."""
    loss_fn = nn.MSELoss(reduction="half_sum")
    total = 0.0
    for i in range(len(X)):
        optimizer.zero_grad()
        error = loss_fn(model(Tensor(X[i : i + 1])), expected[i : i + 1])
        error.backward()
        optimizer.step()
        total += error.item()
    return total


def epoch_in_torch(torch: object, model: object, optimizer: object, X: np.ndarray, expected: np.ndarray) -> float:
    """The same epoch in PyTorch: the loop a PyTorch user writes, with the loss converted by to_torch."""
    loss_fn = to_torch(nn.MSELoss(reduction="half_sum"))  # ½ Σ (target - output)²
    inputs, targets = torch.from_numpy(X), torch.from_numpy(expected)
    total = 0.0
    for i in range(len(X)):
        optimizer.zero_grad()
        error = loss_fn(model(inputs[i : i + 1]), targets[i : i + 1])
        error.backward()
        optimizer.step()
        total += error.item()
    return total


def main(argv: list[str] | None = None) -> dict | None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--hand-over", type=int, default=20, help="the epoch at which PyTorch takes over")
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--momentum", type=float, default=0.0, help="SGD momentum (its buffers are carried over)")
    args = parser.parse_args(argv)
    if not 0 <= args.hand_over <= args.epochs:
        parser.error(f"--hand-over must lie between 0 and --epochs ({args.epochs}), got {args.hand_over}")
    try:
        import torch
    except ImportError:
        print(MissingDependencyError(
            "examples/to_pytorch.py: needs PyTorch, which is not installed; install it with `pip install torch` "
            "(in this repository: `pip install -e '.[torch]'`)"
        ))  # fmt: skip
        return None

    X, expected = load_article(one_hot=True)  # 10 points (10, 2), one-hot targets (10, 2)

    here = build_model()  # run 1: every epoch here
    here_optimizer = optim.SGD(here.parameters(), lr=args.lr, momentum=args.momentum)
    handed = build_model()  # run 2: here until the hand-over, then in PyTorch
    handed_optimizer = optim.SGD(handed.parameters(), lr=args.lr, momentum=args.momentum)
    torch_model = torch_optimizer = None

    print(f"The article's network, SGD lr={args.lr} momentum={args.momentum}, E = ½ Σ (target - output)² per sample")
    print(f"{'epoch':>5}  {'all here':>18}  {'handed over':>18}  {'runs in':12}  difference")
    errors_here, errors_handed = [], []
    for epoch in range(args.epochs):
        if epoch == args.hand_over:
            torch_model = to_torch(handed)  # the model: same layers, state_dict keys and numbers
            torch_optimizer = to_torch(handed_optimizer, torch_model)  # its settings and momentum buffers
            print(f"{'':>5}  {'':>18}  {'-> PyTorch':>18}")
        errors_here.append(epoch_here(here, here_optimizer, X, expected))
        if torch_model is None:
            errors_handed.append(epoch_here(handed, handed_optimizer, X, expected))
        else:
            errors_handed.append(epoch_in_torch(torch, torch_model, torch_optimizer, X, expected))
        where = "tinygrad_edu" if torch_model is None else "PyTorch"
        if epoch % 5 == 4 or epoch in (0, args.epochs - 1) or epoch == args.hand_over:
            difference = abs(errors_here[-1] - errors_handed[-1])
            print(f"{epoch:>5}  {errors_here[-1]:>18.15f}  {errors_handed[-1]:>18.15f}  {where:12}  {difference:.1e}")

    final = {k: v.detach().numpy() for k, v in torch_model.state_dict().items()} if torch_model else handed.state_dict()
    weight_difference = max(float(np.max(np.abs(here.state_dict()[k] - final[k]))) for k in final)
    print(f"largest difference between the two runs' final weights: {weight_difference:.1e}")
    return {
        "errors_here": errors_here,
        "errors_handed_over": errors_handed,
        "weights_here": here.state_dict(),
        "weights_handed_over": final,
        "weight_difference": weight_difference,
        "torch_model": torch_model,
    }


if __name__ == "__main__":
    main()
