"""The article's 2-2-2 network as a compiled training step: the worked example's derivation, as code.

`article_step()` builds the network with the article's numbers and names (w1–w8, b_h1–b_o2, i1, i2,
s_h1 … a_o2, E), compiles one SGD step at the article's α = 0.5, runs it (the trace, then the checked
replay) and returns it; `step.source` is what `tinygrad-edu article --code` prints: each line of the
backward block is one application of the chain rule the article writes by hand.
"""

from __future__ import annotations

from typing import Any

from .. import article_names as names
from .. import optim
from ..fused import weighted_sum
from ..value import Value
from .step import CompiledStep, compile  # noqa: A004

# The article's numbers (section I): inputs, targets, weights, biases.
INPUTS = {"i1": 2.78, "i2": 2.55}
TARGETS = {"target_o1": 0.1, "target_o2": 0.9}
PARAMETERS = {"w1": 0.1, "w2": 0.2, "w3": 0.3, "w4": 0.4, "w5": 0.5, "w6": 0.6, "w7": 0.7, "w8": 0.8}
PARAMETERS.update({"b_h1": 0.5, "b_h2": 0.12, "b_o1": 0.2, "b_o2": 0.4})


def article_step() -> tuple[CompiledStep, dict[str, Value]]:
    """The article's training step, compiled and run twice (trace, checked replay); and its parameters."""
    p = {name: Value(value, name=name) for name, value in PARAMETERS.items()}
    opt = optim.SGD(list(p.values()), lr=names.LEARNING_RATE)

    def article(i1: Any, i2: Any, target_o1: Any, target_o2: Any) -> Any:
        opt.zero_grad()
        s_h1 = _named(weighted_sum([p["w1"], p["w2"]], [i1, i2], p["b_h1"]), "s_h1")
        s_h2 = _named(weighted_sum([p["w3"], p["w4"]], [i1, i2], p["b_h2"]), "s_h2")
        a_h1, a_h2 = _named(s_h1.sigmoid(), "a_h1"), _named(s_h2.sigmoid(), "a_h2")
        s_o1 = _named(weighted_sum([p["w5"], p["w6"]], [a_h1, a_h2], p["b_o1"]), "s_o1")
        s_o2 = _named(weighted_sum([p["w7"], p["w8"]], [a_h1, a_h2], p["b_o2"]), "s_o2")
        a_o1, a_o2 = _named(s_o1.sigmoid(), "a_o1"), _named(s_o2.sigmoid(), "a_o2")
        E = _named(0.5 * (target_o1 - a_o1) ** 2 + 0.5 * (target_o2 - a_o2) ** 2, names.LOSS)
        E.backward()
        opt.step()
        return E

    step = compile(article)
    for _ in range(2):  # the trace, then the replay that is checked against the eager step
        step(*INPUTS.values(), *TARGETS.values())
    return step, p


def _named(v: Value, name: str) -> Value:
    v.name = name
    return v
