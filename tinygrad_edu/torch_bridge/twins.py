"""PyTorch twins of the modules `torch.nn` has no class for: the article's Neuron, Layer and Network, and two losses.

Each has the same `state_dict` keys and shapes as ours and computes the same function on torch
tensors, so `to_torch` can hand them over and `from_torch` can bring them back. This module imports
torch at the top: the bridge imports it only once torch is known to be installed.
"""

from __future__ import annotations

import torch


class Neuron(torch.nn.Module):
    """The article's neuron: a = sigmoid(x · weights + bias); `weights` (in,), `bias` () as in `nn.Neuron`."""

    def __init__(self, in_features: int, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        self.weights = torch.nn.Parameter(torch.zeros(in_features, dtype=dtype))
        self.bias = torch.nn.Parameter(torch.zeros((), dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x @ self.weights + self.bias)


class Layer(torch.nn.Module):
    """The article's layer of sigmoid neurons: sigmoid(x Wᵀ + b), `weight` (out, in), `bias` (out,) as `nn.Layer`'s."""

    def __init__(self, in_features: int, out_features: int, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(out_features, in_features, dtype=dtype))
        self.bias = torch.nn.Parameter(torch.zeros(out_features, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(torch.nn.functional.linear(x, self.weight, self.bias))

    def extra_repr(self) -> str:
        return f"in_features={self.weight.shape[1]}, out_features={self.weight.shape[0]}"


class Network(torch.nn.Module):
    """The article's network: the hidden layers in order, then the output layer (keys as `nn.Network`'s)."""

    def __init__(self, hidden_layers: list[Layer], output_layer: Layer) -> None:
        super().__init__()
        self.hidden_layers = torch.nn.ModuleList(hidden_layers)
        self.output_layer = output_layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden_layers:
            x = layer(x)
        return self.output_layer(x)


class HalfSumMSELoss(torch.nn.Module):
    """The article's E = ½ Σ (target - output)² (`nn.MSELoss(reduction="half_sum")`; torch has mean and sum)."""

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:  # noqa: A002 (PyTorch's name)
        return ((input - target) ** 2).sum() * 0.5


class MaxMarginLoss(torch.nn.Module):
    """micrograd's relu(1 - y·score), averaged or summed, labels y in {-1, +1} matched to the scores in order."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:  # noqa: A002
        labels = torch.as_tensor(target).to(input.dtype).reshape(input.shape)
        terms = torch.relu(1.0 - input * labels)
        return terms.mean() if self.reduction == "mean" else terms.sum()

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class ArticleNetwork(torch.nn.Module):
    """The audit's `check.article_network.ArticleNetwork`: the 2-2-2 network with one scalar parameter per
    article name (w1 … w8, b_h1 … b_o2), computed neuron by neuron as the article writes it."""

    NAMES = ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b_h1", "b_h2", "b_o1", "b_o2")

    def __init__(self) -> None:
        super().__init__()
        for name in self.NAMES:
            self.register_parameter(name, torch.nn.Parameter(torch.zeros((), dtype=torch.float64)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        i1, i2 = x[..., 0], x[..., 1]
        h1 = torch.sigmoid(self.w1 * i1 + self.w2 * i2 + self.b_h1)
        h2 = torch.sigmoid(self.w3 * i1 + self.w4 * i2 + self.b_h2)
        o1 = torch.sigmoid(self.w5 * h1 + self.w6 * h2 + self.b_o1)
        o2 = torch.sigmoid(self.w7 * h1 + self.w8 * h2 + self.b_o2)
        return torch.stack([o1, o2], dim=-1)
