"""The article's worked example (section I), computed with the scalar engine.

A 2-2-2 sigmoid network, inputs i1 = 2.78 and i2 = 2.55, targets 0.1 and 0.9, error
E = 1/2 * sum((target - output)^2). The forward pass is written out as the article writes it;
the backward pass is one call, and every weight's dE/dw comes out of it.

Run:  python examples/walkthrough.py
"""

from __future__ import annotations

from tinygrad_edu import Value

# The article's numbers: inputs, weights w1..w8, biases, targets.
INPUTS = {"i1": 2.78, "i2": 2.55}
WEIGHTS = {"w1": 0.1, "w2": 0.2, "w3": 0.3, "w4": 0.4, "w5": 0.5, "w6": 0.6, "w7": 0.7, "w8": 0.8}
BIASES = {"b_h1": 0.5, "b_h2": 0.12, "b_o1": 0.2, "b_o2": 0.4}
TARGETS = (0.1, 0.9)


def forward(params: dict[str, Value], i1: Value, i2: Value) -> dict[str, Value]:
    """Every intermediate quantity of the article's forward pass, by its name in the article."""
    p = params
    q: dict[str, Value] = {}
    q["s_h1"] = p["w1"] * i1 + p["w2"] * i2 + p["b_h1"]
    q["a_h1"] = q["s_h1"].sigmoid()
    q["s_h2"] = p["w3"] * i1 + p["w4"] * i2 + p["b_h2"]
    q["a_h2"] = q["s_h2"].sigmoid()
    q["s_o1"] = p["w5"] * q["a_h1"] + p["w6"] * q["a_h2"] + p["b_o1"]
    q["a_o1"] = q["s_o1"].sigmoid()
    q["s_o2"] = p["w7"] * q["a_h1"] + p["w8"] * q["a_h2"] + p["b_o2"]
    q["a_o2"] = q["s_o2"].sigmoid()
    q["E"] = 0.5 * ((TARGETS[0] - q["a_o1"]) ** 2 + (TARGETS[1] - q["a_o2"]) ** 2)
    for name, node in q.items():
        node.name = name
    return q


def main() -> None:
    params = {name: Value(x, name=name) for name, x in {**WEIGHTS, **BIASES}.items()}
    i1, i2 = (Value(x, requires_grad=False, name=name) for name, x in INPUTS.items())
    q = forward(params, i1, i2)
    q["E"].backward()

    print("Forward pass")
    for name, node in q.items():
        print(f"  {name:<5} = {node.data:.6f}")
    print("\nBackward pass: dE/dparam, and the parameter after one SGD step (learning rate 0.5)")
    for name, p in params.items():
        print(f"  dE/d{name:<5} = {p.grad:+.6f}    {name:<5} {p.data:.3f} -> {p.data - 0.5 * p.grad:.6f}")


if __name__ == "__main__":
    main()
