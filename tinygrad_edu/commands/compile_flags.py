"""The command line's compile options: `article --code` and `train --compile`.

Kept in one module so `article.py` and `train.py` each gain a line or two: `add_article_flags` /
`article_code` and `add_train_flags` / `fit_options`.
"""

from __future__ import annotations

import argparse
from typing import Any

# The article's derivation, as it writes it (section II), to read next to the generated code.
ARTICLE_FORMULAS = """\
The article's derivation (one SGD step, α = 0.5):
  forward    s_h1 = w1·i1 + w2·i2 + b_h1      a_h1 = σ(s_h1)        (h2 likewise with w3, w4, b_h2)
             s_o1 = w5·a_h1 + w6·a_h2 + b_o1  a_o1 = σ(s_o1)        (o2 likewise with w7, w8, b_o2)
             E = ½ (target_o1 − a_o1)² + ½ (target_o2 − a_o2)²
  backward   δ_o1 = ∂E/∂s_o1 = (a_o1 − target_o1) · a_o1 · (1 − a_o1)
             δ_h1 = ∂E/∂s_h1 = (w5·δ_o1 + w7·δ_o2) · a_h1 · (1 − a_h1)
             ∂E/∂w5 = δ_o1 · a_h1      ∂E/∂w1 = δ_h1 · i1      ∂E/∂b_o1 = δ_o1
  update     w′ = w − α · ∂E/∂w   for every weight and bias
"""


def add_article_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--code",
        action="store_true",
        help="print the network's training step compiled to Python (forward, backward, update) next to the "
        "article's formulas (see docs: Your step as code)",
    )


def article_code() -> int:
    """Print the article's formulas, then its compiled step's source."""
    from ..compile.article import article_step

    step, _ = article_step()
    print(ARTICLE_FORMULAS)
    print("The same step, compiled by tinygrad_edu.compile (step.source: the code every later call runs):\n")
    print(step.source)
    return 0


def add_train_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--compile",
        action="store_true",
        help="train with each step compiled (tinygrad_edu.compile): the same numbers, bit for bit, faster",
    )


def fit_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for `fit` from the compile flags (none unless --compile was given)."""
    return {"compile": True} if getattr(args, "compile", False) else {}
