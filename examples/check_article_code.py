"""Run the article's own Level 1 and Level 2 code through `compare_gradients` and print what it finds.

The article's code is in `examples/article_code/` exactly as printed (mistakes included). Each is
checked on the article's worked example and on a random 3-4-2 network, against autodiff; the
diagnosis is computed from the numbers. Then one finding that is not about gradients: what
Level 1's `train` reports as its error.

Run:  python examples/check_article_code.py
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent / "article_code"))

import level1
import level2

from tinygrad_edu import nn
from tinygrad_edu.check import article, compare_gradients, reference
from tinygrad_edu.check.compare import from_step
from tinygrad_edu.check.userfile import check_error


def network(sizes: list[int], seed: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for n_in, n_out in itertools.pairwise(sizes):
        layers += [nn.Linear(n_in, n_out, dtype=np.float64, generator=seed + n_in), nn.Sigmoid()]
    return nn.Sequential(*layers)


def half_sse(output, target):
    return nn.functional.mse_loss(output, list(target), reduction="half_sum")


def main() -> None:
    lr = article.LR
    candidates = {
        "reference (tinygrad_edu/check/reference.py, the textbook delta rule)": reference.gradients,
        "article Level 1 (pure Python)": from_step(level1.step, lr),
        "article Level 2 (NumPy)": from_step(level2.step, lr),
    }
    rng = np.random.default_rng(7)
    cases = [
        ("the article's worked example", [2, 2, 2], article.state_dict(), article.INPUTS, article.TARGETS),
        ("a random 3-4-2 network", [3, 4, 2], None, rng.uniform(-2, 2, 3), rng.uniform(0, 1, 2)),
    ]
    for title, manual in candidates.items():
        for case, sizes, state, x, t in cases:
            model = network(sizes, seed=1)
            if state is not None:
                model.load_state_dict(state)
            report = compare_gradients(model, half_sse, list(x), list(t), manual)
            print(f"=== {title} — {case}: {'all gradients match' if report.ok else 'MISTAKES FOUND'}")
            print(report, end="\n\n")

    # Not a gradient: Level 1's train() adds self.mse(actual, training_output), the list of class labels,
    # instead of self.mse(actual, expected), so the error it prints is not the error it trains on.
    # level1.error() runs train() itself and reads back what it prints; the checker recomputes it.
    model = network([2, 2, 2], seed=1)
    model.load_state_dict(article.state_dict())
    finding = check_error(level1.error, model, np.array(article.INPUTS), np.array(article.TARGETS), "level1.py")
    print("=== article Level 1 — train()'s printed error (not a gradient)")
    print(finding["text"])


if __name__ == "__main__":
    main()
