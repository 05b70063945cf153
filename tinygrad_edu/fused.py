"""`weighted_sum`: the article's WeightedSum, Σ wᵢ xᵢ + b, as one Value node.

One node with an edge per input, instead of 2n nodes for n multiplications and n additions: the
same gradients, a third of the work, and the graph shows the neuron the way the article draws it.
"""

from __future__ import annotations

from typing import Any

from .errors import ShapeError
from .sweep import Local, rule
from .value import Number, Value, _node
from .value_checks import number


def weighted_sum(weights: list[Value], inputs: list[Value | Number], bias: Value | Number | None = None) -> Value:
    """s = Σ wᵢ xᵢ + b as one node    ds/dwᵢ = xᵢ, ds/dxᵢ = wᵢ, ds/db = 1

    Inputs may be Values or plain numbers; numbers get no edge of their own.
    """
    if len(weights) != len(inputs):
        raise ShapeError(
            f"weighted_sum: {len(weights)} weights but {len(inputs)} inputs; a neuron needs one weight per input"
        )
    parents: list[Value] = []
    local: list[float] = []
    total = 0.0
    for w, x in zip(weights, inputs):
        if type(x) is Value:
            total += w.data * x.data
            parents += (w, x)
            local += (x.data, w.data)
        else:
            x = number(x, "weighted_sum")
            total += w.data * x
            parents.append(w)
            local.append(x)
    if type(bias) is Value:
        total += bias.data
        parents.append(bias)
        local.append(1.0)
    elif bias is not None:
        total += number(bias, "weighted_sum")
    pairs = len(parents) - len(weights) - (type(bias) is Value)  # inputs that are Values: (w, x) edge pairs
    if 0 < pairs < len(weights):  # Values and numbers mixed: say which edges pair up (rare, so only then)
        pairs = tuple(type(x) is Value for x in inputs)
    return _node(total, "Σw·x", None, 0.0, many=(tuple(parents), tuple(local), pairs))


def edge_partners(node: Value) -> dict[int, int]:
    """For a `weighted_sum` node: edge k -> its partner edge (w's edge -> x's, x's -> w's), where x is a Value.

    Read from what `weighted_sum` recorded, never guessed from the numbers; empty for any other node.
    """
    if node._op != "Σw·x" or node._many is None:
        return {}
    pairs = node._many[2]
    paired = [True] * pairs if type(pairs) is int else pairs  # per input: is it a Value (two edges)?
    partners: dict[int, int] = {}
    k = 0
    for is_pair in paired:
        if is_pair:
            partners[k], partners[k + 1] = k + 1, k
        k += 2 if is_pair else 1
    return partners


def _weighted_sum_rule(out: Value, a: Any, b: Any) -> tuple[Local, ...]:
    """ds/dwᵢ = xᵢ and ds/dxᵢ = wᵢ as Values (the partner edge of each pair); numbers and the bias stay floats."""
    parents, local, _ = out._many
    partner = edge_partners(out)
    return tuple(parents[partner[k]] if k in partner else local[k] for k in range(len(parents)))


rule("Σw·x", _weighted_sum_rule)


def shift_max(values: list[Value]) -> Value:
    """max(x₁, …, xₙ) as a node that passes no gradient: softmax's shift, e^(x - m) / Σ e^(x - m).

    The shift cancels out of softmax, so it takes no part in differentiation; but it is a value of
    the graph, not a number read out of it, so a compiled step recomputes it from each batch.
    """
    out = _node(max(v.data for v in values), "max", None, 0.0, many=(tuple(values), (0.0,) * len(values), 0))
    out.requires_grad = False  # a constant to differentiation: no edges
    out._a = out._b = out._many = None
    return out
