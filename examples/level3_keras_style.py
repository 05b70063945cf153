"""The article's Level 3, its Keras model, with tinygrad_edu's `summary` and `fit`.

    Keras (the article)                                    tinygrad_edu
    layers.Dense(units=3, activation="sigmoid")            nn.Linear(2, 3), nn.Sigmoid()
    layers.Dense(units=2)                                  nn.Linear(3, 2)
    model.summary()                                        summary(model, input_shape=(2,))
    compile(optimizer="adam", loss=MeanSquaredError())     optim.Adam(...), nn.MSELoss()
    model.fit(x, y, epochs=200)                            fit(model, loss_fn, optimizer, X, Y, epochs=200)
    model.predict(x)                                       predict(model, X)

Full batch: Keras's default batch of 32 holds all 10 points, so each epoch is one step here too.

What differs: the learning rate. Keras's "adam" uses lr = 0.001 from Glorot-initialised weights;
from PyTorch's initialisation, 200 steps at 0.001 classify all 10 points for only 3 of the seeds
0-19 we tried, so this example uses lr = 0.01, which does for all 20. With seed 0 (the default) it
reaches 100% accuracy and an MSE near 0.01 (the article's Keras run ended at 0.072).

Run:  python examples/level3_keras_style.py [--seed 0] [--epochs 200] [--lr 0.01]
"""

from __future__ import annotations

import argparse

import numpy as np

from tinygrad_edu import nn, optim
from tinygrad_edu.train import evaluate, fit, predict, summary
from tinygrad_edu.train.datasets import load_article


def build_model(seed: int) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(2, 3, generator=rng),  # Dense(units=3, activation="sigmoid", input_shape=(2,))
        nn.Sigmoid(),
        nn.Linear(3, 2, generator=rng),  # Dense(units=2): no activation
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    X, expected = load_article(one_hot=True)
    model = build_model(args.seed)
    summary(model, input_shape=(2,))
    loss_fn = nn.MSELoss()  # mean of (expected - actual)² over all 20 numbers, as Keras's MeanSquaredError
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    history = fit(
        model, loss_fn, optimizer, X, expected, epochs=args.epochs, shuffle=False, progress=not args.no_progress
    )

    predictions = predict(model, X)
    # Labelled, where the article prints the bare arrays: what each row and column is.
    print("predictions = model.predict(X): one row per point, columns = output for class 0, class 1")
    for i, row in enumerate(predictions):
        print(f"{i}  {np.array2string(row, precision=4)}")
    class_predictions = predictions.argmax(axis=1)
    print(f"class_predictions = predictions.argmax(axis=1): {class_predictions.tolist()}")
    for i, (expected_row, prediction) in enumerate(zip(expected, class_predictions)):
        print(f"{i} - Expected={expected_row.argmax()}, Got={prediction}")
    final = evaluate(model, loss_fn, X, expected)
    print(f"after {args.epochs} epochs: loss {final['loss']:.4f}, accuracy {final['accuracy']:.0%}")
    return {"accuracy": final["accuracy"], "loss": final["loss"], "history": history, "model": model}


if __name__ == "__main__":
    main()
