"""The article's 2-2-2 network, built in one place: its numbers, and the graph every use of it draws on.

Inputs i1 = 2.78, i2 = 2.55, targets 0.1 and 0.9, weights w1..w8 and biases b_h1..b_o2 as the
article's section I prints them. `build(engine)` runs one forward pass and `E.backward()`: the
audit (`check.article`) reads its numbers and `explain` its paths. `article_network()` is the same
network with E written out as the article writes it, ½ Σ (target − a)² with the targets and the ½
as named constants: the figure `tinygrad-edu graph --model article` and `article --graph` draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import nn
from ..errors import ArgumentError
from ..fused import weighted_sum
from ..graph import walk
from ..retention import keep_graph
from ..tensor import Tensor
from ..value import Value

INPUTS = (2.78, 2.55)
TARGETS = (0.1, 0.9)
WEIGHTS = {"w1": 0.1, "w2": 0.2, "w3": 0.3, "w4": 0.4, "w5": 0.5, "w6": 0.6, "w7": 0.7, "w8": 0.8}
BIASES = {"b_h1": 0.5, "b_h2": 0.12, "b_o1": 0.2, "b_o2": 0.4}
PARAMS = {**WEIGHTS, **BIASES}

# Where each article parameter lives in the Sequential's state dict: weight (out, in), so row j
# holds neuron j's weights (s_h1 = w1 i1 + w2 i2 + b_h1).
STATE_INDEX: dict[str, tuple[str, tuple[int, ...]]] = {
    "w1": ("0.weight", (0, 0)),
    "w2": ("0.weight", (0, 1)),
    "w3": ("0.weight", (1, 0)),
    "w4": ("0.weight", (1, 1)),
    "w5": ("2.weight", (0, 0)),
    "w6": ("2.weight", (0, 1)),
    "w7": ("2.weight", (1, 0)),
    "w8": ("2.weight", (1, 1)),
    "b_h1": ("0.bias", (0,)),
    "b_h2": ("0.bias", (1,)),
    "b_o1": ("2.bias", (0,)),
    "b_o2": ("2.bias", (1,)),
}

# The named quantities of the forward pass: which layer output (Sequential child) and which neuron.
QUANTITY_INDEX = {
    "s_h1": (0, 0),
    "s_h2": (0, 1),
    "a_h1": (1, 0),
    "a_h2": (1, 1),
    "s_o1": (2, 0),
    "s_o2": (2, 1),
    "a_o1": (3, 0),
    "a_o2": (3, 1),
}


def state_dict() -> dict[str, np.ndarray]:
    """The article's parameters as the state dict of `Sequential(Linear(2, 2), Sigmoid(), Linear(2, 2), Sigmoid())`."""
    state = {"0.weight": np.zeros((2, 2)), "0.bias": np.zeros(2), "2.weight": np.zeros((2, 2)), "2.bias": np.zeros(2)}
    for name, (key, index) in STATE_INDEX.items():
        state[key][index] = PARAMS[name]
    return state


# ---------------------------------------------------------------------- the network, neuron by neuron


class Layer(nn.Module):
    """Two of the article's neurons: s = Σ wᵢ xᵢ + b, then a = σ(s), named s_h1, a_h1, ... as in the article.

    It holds no parameters of its own (the network does, under the article's names w1 … b_o2); it exists
    so that each layer's call is drawn as a labelled cluster, as `Sequential`'s layers are.
    """

    def __init__(self, neurons: tuple[str, str]) -> None:
        super().__init__()
        self.neurons = neurons
        self.in_features = self.out_features = 2

    def forward(self, x: list[Value], weights: list[list[Value]], biases: list[Value]) -> list[Value]:
        out = []
        for neuron, w, b in zip(self.neurons, weights, biases):
            s = weighted_sum(w, x, b)
            s.name = f"s_{neuron}"
            a = s.sigmoid()
            a.name = f"a_{neuron}"
            out.append(a)
        return out


class ArticleNetwork(nn.Module):
    """The article's 2-2-2 network: parameters named as in the article, a hidden and an output `Layer`."""

    def __init__(self) -> None:
        super().__init__()
        for name, x in PARAMS.items():
            setattr(self, name, Value(x, name=name))
        self.hidden = Layer(("h1", "h2"))
        self.output = Layer(("o1", "o2"))

    def __getitem__(self, name: str) -> Value:
        """A parameter by its article name: `net["w5"]`."""
        return getattr(self, name)

    def forward(self, x: list[Value]) -> list[Value]:
        p = self
        h = self.hidden(x, [[p.w1, p.w2], [p.w3, p.w4]], [p.b_h1, p.b_h2])
        return self.output(h, [[p.w5, p.w6], [p.w7, p.w8]], [p.b_o1, p.b_o2])


def _inputs() -> list[Value]:
    return [Value(x, requires_grad=False, name=name) for name, x in zip(("i1", "i2"), INPUTS)]


def article_network() -> tuple[Value, ArticleNetwork]:
    """The article's network after one forward and one backward pass, drawn as its figure: (E, the network).

    Each neuron is one `weighted_sum` node (s = Σ wᵢ xᵢ + b) and one `sigmoid` (a = σ(s)), named
    as in the article, inside its layer's cluster; E = ½ Σ (t - a)², with the targets and the ½
    drawn as named constants, so the drawing reads like the article's figure and formula.
    """
    net = ArticleNetwork()
    a_o1, a_o2 = net(_inputs())
    half = Value(0.5, requires_grad=False, name="½")
    errors = []
    for neuron, a, t in zip(("o1", "o2"), (a_o1, a_o2), TARGETS):
        target = Value(t, requires_grad=False, name=f"target_{neuron}")
        e = half * (target - a) ** 2
        e.name = f"E_{neuron}"
        errors.append(e)
    E = errors[0] + errors[1]
    E.name = "E"
    E.backward()
    return E, net


# ---------------------------------------------------------------------- the graph the audit reads


@dataclass
class ArticleGraph:
    """The article network after one forward and backward pass.

    `model` is the network (`ArticleNetwork` on the value engine, `nn.Sequential(Linear, Sigmoid,
    Linear, Sigmoid)` on the tensor engine); `nodes` maps s_h1 ... a_o2 and E to (node, index) — a
    Value and None on the value engine, a Tensor and the neuron's index on the tensor engine;
    `params` maps w1 ... b_o2 to the parameter (a Value, or (Tensor, index)); `loss` is E.
    """

    engine: str
    model: Any
    loss: Any
    nodes: dict[str, tuple[Any, int | None]]
    params: dict[str, tuple[Any, tuple[int, ...] | None]]

    def number(self, name: str) -> float:
        node, index = self.nodes[name]
        return float(node.data if index is None else node.data[index])

    def grad_of_node(self, name: str) -> float:
        node, index = self.nodes[name]
        return float(node.grad if index is None else node.grad[index])

    def grad(self, param: str) -> float:
        node, index = self.params[param]
        return float(node.grad if index is None else node.grad[index])

    def value_params(self) -> dict[str, Any]:
        """name -> parameter node, for drawing with the article's names (value engine)."""
        return {name: node for name, (node, index) in self.params.items() if index is None}


def build(engine: str = "value") -> ArticleGraph:
    """The article's network, one forward pass, E = ½ Σ (target − a)² by `mse_loss`, and `E.backward()`.

    On the value engine it is `ArticleNetwork`, the neurons named as in the article; on the tensor
    engine the same weights in `nn.Sequential(Linear, Sigmoid, Linear, Sigmoid)`, its layers run one
    at a time so that every quantity the article names (s_h, a_h, ...) is at hand.
    """
    if engine not in ("value", "tensor"):
        raise ArgumentError(f"article: engine={engine!r}; use 'value' or 'tensor'")
    if engine == "value":
        model: Any = ArticleNetwork()
        out = model(_inputs())
        loss = nn.functional.mse_loss(out, list(TARGETS), reduction="half_sum")
        loss.name = "E"
        named = {node.name: node for node in walk(loss) if node.name in QUANTITY_INDEX}
        nodes: dict[str, tuple[Any, int | None]] = {name: (named[name], None) for name in QUANTITY_INDEX}
        params: dict[str, tuple[Any, tuple[int, ...] | None]] = {name: (model[name], None) for name in PARAMS}
    else:
        model = nn.Sequential(
            nn.Linear(2, 2, dtype=np.float64, engine=engine),
            nn.Sigmoid(),
            nn.Linear(2, 2, dtype=np.float64, engine=engine),
            nn.Sigmoid(),
        )
        model.load_state_dict(state_dict())
        x: Any = Tensor(np.array(INPUTS, dtype=np.float64), name="i")
        outputs = []
        for layer in model:
            x = layer(x)
            outputs.append(x)
        loss = nn.functional.mse_loss(x, list(TARGETS), reduction="half_sum")
        for k, tensor_name in enumerate(("s_h", "a_h", "s_o", "a_o")):
            outputs[k].name = tensor_name
        nodes = {name: (outputs[layer], neuron) for name, (layer, neuron) in QUANTITY_INDEX.items()}
        tensors = dict(model.named_parameters())  # "0.weight" -> its Tensor, the state dict's own names
        params = {name: (tensors[key], index) for name, (key, index) in STATE_INDEX.items()}
        loss.name = "E"
    nodes["E"] = (loss, None if engine == "value" else ())
    with keep_graph():  # the deltas are read off intermediate nodes, and the graph may be drawn
        loss.backward()
    return ArticleGraph(engine, model, loss, nodes, params)
