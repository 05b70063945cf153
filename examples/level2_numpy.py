"""The article's Level 2: the same network as Level 1, as `Tensor` layers over NumPy arrays.

    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid())

A layer is now one matrix product, `sigmoid(x Wᵀ + b)` with `W` of shape (out, in), instead of a
loop over neurons. Training is the article's: one sample at a time (a (1, 2) batch), one-hot
targets, E = ½ Σ (expected - actual)², learning rate 0.5, 40 epochs, and `optim.SGD` does
w -= lr * dE/dw.

What differs from the article's printed code:
  * its `back_propagate` multiplies a hidden layer's deltas by `sigmoid_derivative(outputs)` twice;
    the chain rule has one factor a (1 - a) per sigmoid, and autodiff applies exactly one.
  * its Level 2 network has 3 hidden neurons (`Network.create([2, 3, 2])`) and U[0, 1) weights;
    this is Level 1's 2-2-2 network, initialised like PyTorch's `nn.Linear` (U(±1/√in)), in float64.
  * its `mse` (only printed) is the mean of squares; here the loss is ½ Σ, whose gradient is the
    (actual - expected) its deltas start from.

With seed 0 (the default) all 10 points are classified; so are they for every seed 0-19 we tried.

Run:  python examples/level2_numpy.py [--seed 0] [--epochs 40]
"""

from __future__ import annotations

import argparse

import numpy as np

from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.train.datasets import load_article


def build_model(seed: int) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(2, 2, generator=rng, dtype=np.float64),
        nn.Sigmoid(),
        nn.Linear(2, 2, generator=rng, dtype=np.float64),
        nn.Sigmoid(),
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--lr", type=float, default=0.5)
    args = parser.parse_args(argv)

    X, expected = load_article(one_hot=True)  # (10, 2) inputs, (10, 2) one-hot targets
    model = build_model(args.seed)
    loss_fn = nn.MSELoss(reduction="half_sum")  # E = ½ Σ (expected - actual)²
    optimizer = optim.SGD(model.parameters(), lr=args.lr)

    errors = []
    for epoch in range(args.epochs):
        sum_error = 0.0
        for i in range(len(X)):
            x, target = Tensor(X[i : i + 1]), Tensor(expected[i : i + 1])  # one sample: shapes (1, 2)
            optimizer.zero_grad()
            error = loss_fn(model(x), target)  # feed_forward
            error.backward()  # replaces back_propagate's deltas
            optimizer.step()  # replaces update_weights
            sum_error += error.item()
        errors.append(sum_error)
        if epoch % 10 == 9 or epoch == args.epochs - 1:
            print(f"epoch={epoch} sum of squared errors (½Σ per sample): {sum_error:.6f}")

    outputs = model(Tensor(X)).data  # all 10 points at once: (10, 2)
    predictions = outputs.argmax(axis=1)
    labels = expected.argmax(axis=1)
    for i, (label, prediction) in enumerate(zip(labels, predictions)):
        print(f"{i} - Expected={label}, Got={prediction}")
    accuracy = float(np.mean(predictions == labels))
    print(f"accuracy: {accuracy:.0%}, final sum of errors: {errors[-1]:.6f}")
    return {"accuracy": accuracy, "loss": errors[-1], "errors": errors, "outputs": outputs, "model": model}


if __name__ == "__main__":
    main()
