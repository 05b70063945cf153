"""The article's own vocabulary on the scalar (`Value`) engine, as thin Modules:

    Neuron(weights, bias)              a = sigmoid(Σ wᵢ xᵢ + b)
    Layer(neurons)                     [neuron(x) for neuron in neurons]
    Network(hidden_layers, output_layer)

State dict layout. A `Layer` packs its neurons the way `Linear` stores a layer: `weight` of shape
(out, in) (row i = neuron i's weights) and `bias` of shape (out,). So a Network's keys are
`hidden_layers.0.weight`, `hidden_layers.0.bias`, ..., `output_layer.weight`, `output_layer.bias`,
and hidden layer k is entry `2k` of the equivalent `Sequential(Linear, Sigmoid, Linear, Sigmoid, ...)`
(`Network.to_sequential` builds it). `named_parameters()` still lists every scalar:
`hidden_layers.0.neurons.1.weights.0` is hidden neuron 1's weight for input 0.

A sample is a list of numbers (or Values) and a layer returns a list of Values, one per neuron, as
`nn.Linear(..., engine="value")` does (its list maths is in `nn._lists`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, ShapeError
from ..fused import weighted_sum
from ..graph import no_grad
from ..rng import Seed, as_generator
from ..value import Value
from ._lists import as_sample
from .layers import Linear, Sigmoid
from .module import Module, ModuleList, Sequential, _Slot

Number = int | float
Sample = Sequence[Number | Value]


def _as_parameter(x: Number | Value) -> Value:
    if type(x) is Value:
        if not x.requires_grad:
            raise ArgumentError("a neuron's weights and bias must require grad; create them with Value(x)")
        return x
    return Value(float(x))


class Neuron(Module):
    """The article's neuron: a = sigmoid(s), s = Σ wᵢ xᵢ + b (one `weighted_sum` node, then sigmoid).

    `weights` and `bias` are numbers or Values; numbers become Values that require grad.
    """

    engine = "value"

    def __init__(self, weights: Iterable[Number | Value], bias: Number | Value) -> None:
        super().__init__()
        weights = [_as_parameter(w) for w in weights]
        if not weights:
            raise ArgumentError("Neuron: needs at least one weight (one per input)")
        self.weights = weights
        self.bias = _as_parameter(bias)

    @classmethod
    def random(cls, n_inputs: int, generator: Seed = None) -> Neuron:
        """Weights and bias drawn from U[0, 1), like the article's `random()`."""
        draws = as_generator(generator).random(n_inputs + 1).tolist()
        return cls(draws[:-1], draws[-1])

    @property
    def in_features(self) -> int:
        return len(self.weights)

    def forward(self, inputs: Sample) -> Value:
        x = as_sample(inputs, len(self.weights), "Neuron")
        return weighted_sum(self.weights, x, self.bias).sigmoid()

    def extra_repr(self) -> str:
        return f"in_features={len(self.weights)}"


class Layer(Module):
    """The article's layer: neurons that all read the same inputs; the output is their list of activations."""

    engine = "value"

    def __init__(self, neurons: Iterable[Neuron]) -> None:
        super().__init__()
        neurons = list(neurons)
        if not neurons or not all(isinstance(n, Neuron) for n in neurons):
            raise ArgumentTypeError("Layer: expected a non-empty list of Neuron")
        sizes = {len(n.weights) for n in neurons}
        if len(sizes) > 1:
            raise ShapeError(
                "Layer: its neurons read the same inputs, so each needs the same number of weights; "
                f"got {sorted(sizes)}"
            )
        self.neurons = ModuleList(neurons)

    @classmethod
    def random(cls, n_inputs: int, n_neurons: int, generator: Seed = None) -> Layer:
        """`n_neurons` neurons with U[0, 1) weights and biases (the article's initialisation)."""
        generator = as_generator(generator)
        return cls(Neuron.random(n_inputs, generator) for _ in range(n_neurons))

    @property
    def in_features(self) -> int:
        return len(self.neurons[0].weights)

    @property
    def out_features(self) -> int:
        return len(self.neurons)

    def forward(self, inputs: Sample) -> list[Value]:
        return [neuron(inputs) for neuron in self.neurons]

    # A layer's state is Linear's: weight (out, in) with row i = neuron i's weights, and bias (out,).
    def _state_slots(self) -> Any:
        yield "weight", _Slot([n.weights for n in self.neurons])
        yield "bias", _Slot([n.bias for n in self.neurons])

    def _state_children(self) -> Any:
        return iter(())


class Network(Module):
    """The article's network: `feed_forward` through the hidden layers, then the output layer."""

    engine = "value"

    def __init__(self, hidden_layers: Iterable[Layer], output_layer: Layer) -> None:
        super().__init__()
        self.hidden_layers = ModuleList(hidden_layers)
        self.output_layer = output_layer
        layers = self.layers
        for k in range(1, len(layers)):
            if layers[k].in_features != layers[k - 1].out_features:
                raise ShapeError(
                    f"Network: layer {k - 1} has {layers[k - 1].out_features} neurons but layer {k}'s neurons "
                    f"have {layers[k].in_features} weights; each neuron needs one weight per neuron before it"
                )

    @property
    def layers(self) -> list[Layer]:
        """Hidden layers then the output layer, as in the article."""
        return [*self.hidden_layers, self.output_layer]

    def forward(self, inputs: Sample) -> list[Value]:
        for layer in self.hidden_layers:
            inputs = layer(inputs)  # the outputs of one layer are the inputs of the next
        return self.output_layer(inputs)

    def predict(self, inputs: Sample) -> int:
        """The index of the largest output (the predicted class), as in the article."""
        with no_grad():
            outputs = [v.data for v in self(inputs)]
        return outputs.index(max(outputs))

    def to_sequential(self, engine: str = "tensor", dtype: Any = np.float64) -> Sequential:
        """The same network as `Sequential(Linear, Sigmoid, ..., Linear, Sigmoid)`, weights copied.

        Hidden layer k becomes entries `2k` (Linear) and `2k + 1` (Sigmoid).
        """
        modules: list[Module] = []
        state = {}
        for k, layer in enumerate(self.layers):
            modules += [Linear(layer.in_features, layer.out_features, dtype=dtype, engine=engine), Sigmoid()]
            state[f"{2 * k}.weight"] = _Slot([n.weights for n in layer.neurons]).read()
            state[f"{2 * k}.bias"] = _Slot([n.bias for n in layer.neurons]).read()
        model = Sequential(*modules)
        model.load_state_dict(state)
        return model
