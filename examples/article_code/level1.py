"""The article's Level 1 code (pure Python Neuron / Layer / Network), as printed, mistakes included.

Copied from section II of the article (math_utils.py, neuron.py, layer.py, network.py and the
test function), in one file. Only two things changed, marked `# ADAPTED`:
  * the article's three files import each other; here they are one module;
  * in `back_propagate`, the listing shows a stray line `layer_idx -= len(self.hidden_layers) - 1`
    between `if ...` and `else ...` (a page break in the printed listing: as printed it is not valid
    Python); it is dropped.
Nothing in the arithmetic is touched: the checker must find what is wrong in it.

Entry points for `tinygrad-edu check` (added at the end, see `tinygrad_edu/commands/check.py`):
    step(state, inputs, targets, lr) -> the parameters after one training step on one sample,
    keyed like `nn.Sequential(Linear, Sigmoid, Linear, Sigmoid).state_dict()`;
    error(state, inputs, targets) -> the error `train()` prints for that sample (it runs `train()`).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import exp
from random import random
from typing import List, Optional  # noqa: UP035 (as printed)

# ---------------------------------------------------------------------- math_utils.py


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + exp(-x))


def sigmoid_derivative(z: float) -> float:
    return z * (1.0 - z)


# ---------------------------------------------------------------------- neuron.py


@dataclass
class Neuron:
    weights: List[float]  # noqa: UP006
    bias: float
    delta: Optional[float] = 0.0  # noqa: UP045
    output: Optional[float] = 0.0  # noqa: UP045

    def _set_output(self, output: float) -> None:
        self.output = output

    def set_delta(self, error: float) -> None:
        self.delta = error * sigmoid_derivative(self.output)

    def weighted_sum(self, inputs: List[float]) -> float:  # noqa: UP006
        """
        Usually results in a big number, but we tend to use a value [0, 1] for activation
        Hence, after calculating this, we use the sigmoid function to normalize the result
        """
        ws = self.bias
        for i in range(len(self.weights)):
            ws += self.weights[i] * inputs[i]
        return ws

    def activate(self, inputs: List[float]) -> float:  # noqa: UP006
        """
        Calculates the output of the neuron using a non-linear activation function
        In this case we use the sigmoid function
        """
        output = sigmoid(self.weighted_sum(inputs))
        self._set_output(output)
        return output


# ---------------------------------------------------------------------- layer.py


@dataclass
class Layer:
    neurons: List[Neuron]  # noqa: UP006

    @property
    def all_outputs(self) -> List[float]:  # noqa: UP006
        return [neuron.output for neuron in self.neurons]

    def activate_neurons(self, inputs: List[float]) -> List[float]:  # noqa: UP006
        return [neuron.activate(inputs) for neuron in self.neurons]

    def total_delta(self, previous_layer_neuron_idx: int) -> float:
        return sum(neuron.weights[previous_layer_neuron_idx] * neuron.delta for neuron in self.neurons)


# ---------------------------------------------------------------------- network.py


@dataclass
class Network:
    hidden_layers: List[Layer]  # noqa: UP006
    output_layer: Layer
    learning_rate: float

    @property
    def layers(self) -> List[Layer]:  # noqa: UP006
        return self.hidden_layers + [self.output_layer]  # noqa: RUF005

    def feed_forward(self, inputs: List[float]) -> List[float]:  # noqa: UP006
        for layer in self.hidden_layers:
            # update inputs as outputs of previous layers as we go
            inputs = layer.activate_neurons(inputs)
        return self.output_layer.activate_neurons(inputs)

    def derivative_error_to_output(self, actual: List[float], expected: List[float]) -> List[float]:  # noqa: UP006
        """
        Derivative of error function with respect to the output
        """
        return [actual[i] - expected[i] for i in range(len(actual))]

    def back_propagate(self, inputs: List[float], errors: List[float]) -> None:  # noqa: UP006
        """
        Compute the gradient and then update the weights
        """

        # Delta of output layer = derivative of the error functions times the derivative of output
        # We calculate deltas of output layer first
        # So when we get to hidden layers, the output deltas are ready to be used in calculation
        for index, neuron in enumerate(self.output_layer.neurons):
            neuron.set_delta(errors[index])

        # Calculate deltas of hidden layer
        for layer_idx in reversed(range(len(self.hidden_layers))):
            layer = self.hidden_layers[layer_idx]
            next_layer = (
                self.output_layer
                if layer_idx == len(self.hidden_layers) - 1
                # ADAPTED: the printed listing has `layer_idx -= len(self.hidden_layers) - 1` here
                else self.hidden_layers[layer_idx + 1]
            )

            for neuron_idx, neuron in enumerate(layer.neurons):
                error_from_next_layer = next_layer.total_delta(neuron_idx)
                neuron.set_delta(error_from_next_layer)

        # Only update the weights after you've calculated the deltas
        # If you update the weights as you move through the network, it will affect the deltas
        self.update_weights_for_all_layers(inputs)

    def update_weights_for_all_layers(self, inputs: List[float]):  # noqa: UP006
        """
        Update weights for all layers
        """
        # Update weights for hidden layers
        for layer_idx in range(len(self.hidden_layers)):
            layer = self.hidden_layers[layer_idx]
            previous_layer_outputs: List[float] = (  # noqa: UP006
                inputs if layer_idx == 0 else self.hidden_layers[layer_idx - 1].all_outputs
            )
            for neuron in layer.neurons:
                self.update_weights_in_a_layer(previous_layer_outputs, neuron)

        # Update weights for output layer
        for index, neuron in enumerate(self.output_layer.neurons):  # noqa: B007
            self.update_weights_in_a_layer(self.hidden_layers[-1].all_outputs, neuron)

    def update_weights_in_a_layer(self, previous_layer_outputs: List[float], neuron: Neuron) -> None:  # noqa: UP006
        """
        Update weights in all neurons in a layer
        """
        for idx in range(len(previous_layer_outputs)):
            neuron.weights[idx] -= self.learning_rate * neuron.delta * previous_layer_outputs[idx]
            neuron.bias -= self.learning_rate * neuron.delta

    def train(
        self,
        num_epoch: int,
        num_outputs: int,
        training_set: List[List[float]],  # noqa: UP006
        training_output: List[float],  # noqa: UP006
    ) -> None:
        for epoch in range(num_epoch):
            sum_error = 0.0
            for idx, row in enumerate(training_set):
                expected = [0 for _ in range(num_outputs)]
                expected[training_output[idx]] = 1  # one-hot encoding
                actual = self.feed_forward(row)
                errors = self.derivative_error_to_output(actual, expected)
                self.back_propagate(row, errors)
                sum_error += self.mse(actual, training_output)
            print(f"Mean squared error: {sum_error}")
            print(f"epoch={epoch}")

    def predict(self, inputs: List[float]) -> int:  # noqa: UP006
        outputs = self.feed_forward(inputs)
        return outputs.index(max(outputs))

    def mse(self, actual: List[float], expected: List[float]) -> float:  # noqa: UP006
        """
        Mean Squared Error formula
        """
        return sum((actual[i] - expected[i]) ** 2 for i in range(len(actual))) / len(actual)


# ---------------------------------------------------------------------- test_make_prediction_with_network.py


def test_make_prediction_with_network():
    # Test making predictions with the network
    # Mock data is from https://machinelearningmastery.com/implement-backpropagation-algorithm-scratch-python/
    dataset = [
        [2.7810836, 2.550537003],
        [1.465489372, 2.362125076],
        [3.396561688, 4.400293529],
        [1.38807019, 1.850220317],
        [3.06407232, 3.005305973],
        [7.627531214, 2.759262235],
        [5.332441248, 2.088626775],
        [6.922596716, 1.77106367],
        [8.675418651, -0.242068655],
        [7.673756466, 3.508563011],
    ]
    expected = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    n_inputs = len(dataset[0])
    n_outputs = len(set(expected))
    hidden_layers = [
        Layer(
            neurons=[
                Neuron(weights=[random() for _ in range(n_inputs)], bias=random()),
                Neuron(weights=[random() for _ in range(n_inputs)], bias=random()),
            ],
        )
    ]
    output_layer = Layer(
        neurons=[
            Neuron(weights=[random() for _ in range(n_outputs)], bias=random()),
            Neuron(weights=[random() for _ in range(n_outputs)], bias=random()),
        ],
    )
    network = Network(hidden_layers=hidden_layers, output_layer=output_layer, learning_rate=0.5)
    network.train(40, n_outputs, dataset, expected)
    print(f"Hidden layer: {network.layers[0].neurons}")
    print(f"Output layer: {network.layers[1].neurons}")

    # This is just for demonstration only
    for i in range(len(dataset)):
        prediction = network.predict(dataset[i])
        print("Expected=%d, Got=%d" % (expected[i], prediction))  # noqa: UP031


# ---------------------------------------------------------------------- ADAPTED: the checker's entry points


def step(state, inputs, targets, lr):
    """One training step on one sample, exactly as the article's `train` loop does it (lines 99-101).

    `state` is a Sequential state dict (`0.weight` (out, in), `0.bias`, `2.weight`, ...): row j of a
    weight becomes neuron j's `weights`. Returns the parameters after the step, in the same layout.
    """
    keys = sorted({k.rsplit(".", 1)[0] for k in state}, key=int)
    layers = [
        Layer(
            neurons=[
                Neuron(weights=[float(w) for w in row], bias=float(b))
                for row, b in zip(state[f"{k}.weight"], state[f"{k}.bias"])
            ]
        )
        for k in keys
    ]
    network = Network(hidden_layers=layers[:-1], output_layer=layers[-1], learning_rate=lr)
    actual = network.feed_forward([float(x) for x in inputs])
    errors = network.derivative_error_to_output(actual, [float(t) for t in targets])
    network.back_propagate([float(x) for x in inputs], errors)
    updated = {}
    for k, layer in zip(keys, layers):
        updated[f"{k}.weight"] = [list(n.weights) for n in layer.neurons]
        updated[f"{k}.bias"] = [n.bias for n in layer.neurons]
    return updated


if __name__ == "__main__":
    test_make_prediction_with_network()


def error(state, inputs, targets):
    """The error `train()` adds up for this sample (line `sum_error += self.mse(actual, training_output)`).

    `train()` is run itself, for one epoch at learning rate 0 (so nothing moves), on a dataset of this
    one row repeated once per output (`mse` indexes the label list by output), with the class label
    of `targets`; the number it prints is read back and divided by the number of rows.
    """
    import contextlib
    import io

    keys = sorted({k.rsplit(".", 1)[0] for k in state}, key=int)
    layers = [
        Layer(
            neurons=[
                Neuron(weights=[float(w) for w in row], bias=float(b))
                for row, b in zip(state[f"{k}.weight"], state[f"{k}.bias"])
            ]
        )
        for k in keys
    ]
    network = Network(hidden_layers=layers[:-1], output_layer=layers[-1], learning_rate=0.0)
    label = max(range(len(targets)), key=lambda i: targets[i])
    rows = len(targets)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        network.train(1, len(targets), [[float(x) for x in inputs]] * rows, [label] * rows)
    return float(printed.getvalue().split("Mean squared error: ")[1].split()[0]) / rows
