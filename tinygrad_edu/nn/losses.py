"""Losses as Modules: `loss_fn(output, target)` returns a scalar Tensor or Value to call `backward()` on.

Each works on both engines (see `nn.functional`, where each loss's formula is written once): Tensors
in, a one-element Tensor out; a value-engine output (a list of Values, or a list of such lists) with
numbers as targets, a `Value` out. `max_margin_loss`, micrograd's demo loss, is here too.
"""

from __future__ import annotations

from typing import Any

from . import functional
from .functional import max_margin_loss
from .module import Module

__all__ = ["BCELoss", "CrossEntropyLoss", "MSELoss", "MaxMarginLoss", "max_margin_loss"]


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction
        functional._check_reduction(reduction, self._reductions, type(self).__name__)

    _reductions: tuple[str, ...] = ("mean", "sum")

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """(output - target)², averaged ("mean"), summed ("sum"), or the article's E = ½ Σ (t - o)² ("half_sum")."""

    _reductions = ("mean", "sum", "half_sum")

    def forward(self, input: Any, target: Any) -> Any:  # noqa: A002 (PyTorch's name)
        return functional.mse_loss(input, target, self.reduction)


class CrossEntropyLoss(_Loss):
    """-log softmax(logits)[class]: logits (batch, classes) and integer class labels (batch,)."""

    def forward(self, input: Any, target: Any) -> Any:  # noqa: A002
        return functional.cross_entropy(input, target, self.reduction)


class BCELoss(_Loss):
    """-(t log p + (1 - t) log(1 - p)) on probabilities p (after a sigmoid); logs clamped at -100."""

    def forward(self, input: Any, target: Any) -> Any:  # noqa: A002
        return functional.binary_cross_entropy(input, target, self.reduction)


class MaxMarginLoss(_Loss):
    """relu(1 - y·score) with labels y in {-1, +1}: micrograd's demo loss (an SVM's hinge), as a Module."""

    def forward(self, input: Any, target: Any) -> Any:  # noqa: A002
        return functional.max_margin_loss(input, target, self.reduction)
