"""The article's names for its 2-2-2 network, in one place: w1–w8, b_h1–b_o2, s_h1 … a_o2, δ_o1 ….

The article (*Building Neural Networks: A Hands-On Journey from Scratch with Python*, Long Nguyen,
November 2023) names every quantity of its network; the step-through page, the checker's reports
and the compiled step's source all speak its language through this module. It imports nothing,
so any layer (engine, viz, check, compile) may use it.

The network, as the article writes it:

    s_h1 = w1·i1 + w2·i2 + b_h1    a_h1 = σ(s_h1)        s_o1 = w5·a_h1 + w6·a_h2 + b_o1    a_o1 = σ(s_o1)
    s_h2 = w3·i1 + w4·i2 + b_h2    a_h2 = σ(s_h2)        s_o2 = w7·a_h1 + w8·a_h2 + b_o2    a_o2 = σ(s_o2)
    E = ½ (target_o1 − a_o1)² + ½ (target_o2 − a_o2)²      w′ = w − α · ∂E/∂w,  α = 0.5

The article's delta of a neuron is the gradient backward leaves on its weighted sum:
δ_o1 = ∂E/∂s_o1 = `s_o1.grad` (`delta_name("s_o1") == "δ_o1"`).

The API (stable; checker, compiler and page rely on it):

* constants `INPUTS`, `WEIGHTS`, `BIASES`, `PARAMETERS`, `SUMS`, `ACTIVATIONS`, `NODES`, `TARGETS`,
  `LOSS` ("E"), `LEARNING_RATE` (the article's α = 0.5), `WIRING` (parameter → (what it
  multiplies, the sum it feeds));
* `parameter_name(key, index=())`: the article's name of a parameter from any of the three layouts
  below, or None;
* `parameter_key(name, layout="sequential")`: the inverse, (state-dict key, index);
* `matrix_names(key)`: a whole tensor's article names, laid out as its shape (rows = neurons);
* `node_names(name)`: the neurons' names inside a tensor node (`"s_h"` → `("s_h1", "s_h2")`);
* `delta_name(node, plain=False)` and `node_of_delta(delta)`: s_o1 ↔ δ_o1 (or `delta_o1`);
* `describe(name)`: one short sentence saying what a name is, in the article's words.

The three layouts of the same parameters (`layout=`):

* ``"article"``: `check.article_network.ArticleNetwork`, a Value per parameter under its article
  name (`w5`), so the key is the name and the index is ();
* ``"sequential"``: `Sequential(Linear(2, 2), Sigmoid(), Linear(2, 2), Sigmoid())`, weights
  (out, in) as in PyTorch, so row j is neuron j's weights: w5 is `("2.weight", (0, 0))`,
  w6 `("2.weight", (0, 1))`, b_o1 `("2.bias", (0,))`;
* ``"network"``: the scalar `nn.Network` (the article's Level 1 classes), whose state dict packs a
  layer like `Linear` (`"output_layer.weight"`, (0, 0)) and whose `named_parameters()` lists each
  scalar (`"output_layer.neurons.0.weights.0"` is w5); `parameter_name` reads both spellings.
"""

from __future__ import annotations

INPUTS = ("i1", "i2")
WEIGHTS = ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8")
BIASES = ("b_h1", "b_h2", "b_o1", "b_o2")
PARAMETERS = WEIGHTS + BIASES
SUMS = ("s_h1", "s_h2", "s_o1", "s_o2")
ACTIVATIONS = ("a_h1", "a_h2", "a_o1", "a_o2")
NODES = SUMS + ACTIVATIONS
TARGETS = ("target_o1", "target_o2")
LOSS = "E"
LEARNING_RATE = 0.5  # the article's α

# parameter -> (what it multiplies, the weighted sum it feeds); a bias multiplies 1.
WIRING: dict[str, tuple[str, str]] = {
    "w1": ("i1", "s_h1"),
    "w2": ("i2", "s_h1"),
    "w3": ("i1", "s_h2"),
    "w4": ("i2", "s_h2"),
    "w5": ("a_h1", "s_o1"),
    "w6": ("a_h2", "s_o1"),
    "w7": ("a_h1", "s_o2"),
    "w8": ("a_h2", "s_o2"),
    "b_h1": ("1", "s_h1"),
    "b_h2": ("1", "s_h2"),
    "b_o1": ("1", "s_o1"),
    "b_o2": ("1", "s_o2"),
}

_LAYERS = ("h", "o")  # layer 0 is the hidden layer, layer 1 the output layer
_NEURONS = ("1", "2")
# Where each layer's tensors live, per layout (the article layout has no tensors).
_PREFIX = {"sequential": ("0", "2"), "network": ("hidden_layers.0", "output_layer")}
# The tensor engine's names for whole layers of neurons (as `check.article_network.build` names them).
_TENSOR_NODES = {"s_h": ("s_h1", "s_h2"), "a_h": ("a_h1", "a_h2"), "s_o": ("s_o1", "s_o2"), "a_o": ("a_o1", "a_o2")}


def _position(name: str) -> tuple[int, tuple[int, ...], str]:
    """(layer, index in that layer's weight or bias, "weight" or "bias") of an article parameter."""
    if name in BIASES:
        layer, neuron = _LAYERS.index(name[2]), _NEURONS.index(name[3])
        return layer, (neuron,), "bias"
    k = WEIGHTS.index(name)  # w1 w2 | w3 w4 feed h1 | h2; w5 w6 | w7 w8 feed o1 | o2: row = neuron, col = input
    return k // 4, ((k % 4) // 2, k % 2), "weight"


def parameter_key(name: str, layout: str = "sequential") -> tuple[str, tuple[int, ...]]:
    """Where the article's parameter `name` lives: (state-dict key, index into that tensor).

    `parameter_key("w5")` is `("2.weight", (0, 0))`; with `layout="network"` it is
    `("output_layer.weight", (0, 0))`; with `layout="article"` it is `("w5", ())`.
    """
    if name not in PARAMETERS:
        raise KeyError(f"article_names: {name!r} is not one of the article's parameters {', '.join(PARAMETERS)}")
    if layout == "article":
        return name, ()
    if layout not in _PREFIX:
        raise KeyError(f"article_names: layout={layout!r}; use 'article', 'sequential' or 'network'")
    layer, index, kind = _position(name)
    return f"{_PREFIX[layout][layer]}.{kind}", index


def _scalar_key(name: str) -> str:
    """`nn.Network.named_parameters()`'s per-scalar key: w5 -> output_layer.neurons.0.weights.0."""
    layer, index, kind = _position(name)
    prefix = _PREFIX["network"][layer]
    if kind == "bias":
        return f"{prefix}.neurons.{index[0]}.bias"
    return f"{prefix}.neurons.{index[0]}.weights.{index[1]}"


_BY_KEY: dict[tuple[str, tuple[int, ...]], str] = {}
for _name in PARAMETERS:
    _BY_KEY[(_name, ())] = _name
    _BY_KEY[(_scalar_key(_name), ())] = _name
    for _layout in _PREFIX:
        _BY_KEY[parameter_key(_name, _layout)] = _name


def parameter_name(key: str, index: tuple[int, ...] | int = ()) -> str | None:
    """The article's name of a parameter (one element of it, for a tensor), or None if it is not one.

    `parameter_name("2.weight", (0, 1))` is "w6"; `parameter_name("output_layer.neurons.0.bias")` is
    "b_o1"; `parameter_name("w3")` is "w3". Only meaningful for the article's 2-2-2 network.
    """
    if isinstance(index, int):
        index = (index,)
    return _BY_KEY.get((key, tuple(index)))


def matrix_names(key: str) -> list[list[str]] | list[str] | None:
    """A whole weight or bias tensor's article names, shaped like it: "0.weight" -> [["w1", "w2"], ["w3", "w4"]]."""
    if (key, (0, 0)) in _BY_KEY:
        return [[_BY_KEY[(key, (row, col))] for col in range(2)] for row in range(2)]
    if (key, (0,)) in _BY_KEY:
        return [_BY_KEY[(key, (row,))] for row in range(2)]
    return None


def node_names(name: str) -> tuple[str, ...] | None:
    """The article's neuron names inside a node: "s_h" (a tensor of both hidden sums) -> ("s_h1", "s_h2").

    A scalar node that already has an article name (`"a_o1"`) gives itself; anything else None.
    """
    if name in _TENSOR_NODES:
        return _TENSOR_NODES[name]
    if name in NODES or name in INPUTS or name == LOSS:
        return (name,)
    return None


def delta_name(node: str, plain: bool = False) -> str | None:
    """The article's delta held by a weighted sum's gradient: "s_o1" -> "δ_o1" (plain=True: "delta_o1"); else None.

    The article defines δ_o1 = ∂E/∂a_o1 · ∂a_o1/∂s_o1 = ∂E/∂s_o1, which is what backward leaves in `s_o1.grad`.
    """
    if node not in SUMS:
        return None
    return ("delta_" if plain else "δ_") + node[2:]


def node_of_delta(delta: str) -> str | None:
    """The weighted sum whose gradient is the article's delta: "δ_h2" or "delta_h2" -> "s_h2"; else None."""
    for prefix in ("δ_", "delta_"):
        if delta.startswith(prefix) and f"s_{delta[len(prefix) :]}" in SUMS:
            return f"s_{delta[len(prefix) :]}"
    return None


def _neuron(tail: str) -> str:
    layer = "hidden" if tail[0] == "h" else "output"
    return f"{layer} neuron {tail}"


def describe(name: str) -> str:
    """One short sentence saying what an article name is: describe("w5") -> "w5 multiplies a_h1 in s_o1."."""
    if name in WIRING:
        source, target = WIRING[name]
        if source == "1":
            return f"{name} is the bias of {_neuron(target[2:])}, added into {target}."
        return f"{name} multiplies {source} in {target}."
    if name in SUMS:
        return f"{name} is the weighted sum of {_neuron(name[2:])}; its gradient is the article's {delta_name(name)}."
    if name in ACTIVATIONS:
        return f"{name} = σ({'s' + name[1:]}) is the output of {_neuron(name[2:])}."
    if name in INPUTS:
        return f"{name} is input {name[1]} of the network."
    if name in TARGETS:
        return f"{name} is the expected output of {_neuron(name[-2:])}."
    if name == LOSS:
        return "E = ½ Σ (target − a)² is the error the article minimises."
    node = node_of_delta(name)
    if node is not None:
        return f"{name} = ∂E/∂{node}, the gradient backward leaves on {node}."
    raise KeyError(f"article_names: {name!r} is not one of the article's names")
