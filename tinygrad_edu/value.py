"""`Value`: a scalar that remembers how it was computed, and reverse-mode autodiff over it.

This is the article's Level 1 made automatic. Each op computes its result *and* the local
derivative of the result with respect to each input, right there, side by side:

    c = a * b        dc/da = b,  dc/db = a

`backward()` then applies the chain rule edge by edge, `parent.grad += local * node.grad`,
newest node first. A node keeps its parents and one float per edge, never a closure over itself,
so a graph has no reference cycles and is freed by plain reference counting.
"""

from __future__ import annotations

import math
from typing import Any

from .anomaly import anomaly_mode, is_bad, record_site
from .anomaly import report as anomaly_report
from .errors import GraphError, MathDomainError, MixedEngineError, ShapeError
from .graph import grad_mode, tick, walk

Number = int | float


class Value:
    """A scalar (Python float) node of the computation graph.

    `data` is the value, `grad` is dE/d(this) once a backward pass reached it (`None` before).
    Leaves made by the user track gradients by default, as in micrograd; numbers that an operator
    meets (the `2` in `2 * x`) are folded into the op and never become nodes.
    """

    __slots__ = ("_locals", "_op", "_order", "_parents", "data", "grad", "label", "requires_grad")

    def __init__(self, data: Number, requires_grad: bool = True, label: str | None = None) -> None:
        if isinstance(data, Value):
            raise TypeError("Value(Value(...)): pass `v.data` to copy a value, or use `v` itself")
        if _is_tensor(data):
            raise MixedEngineError(
                "Value(Tensor): a Value holds one Python float; use `tensor.item()` for a 1-element tensor"
            )
        try:
            self.data = float(data)
        except (TypeError, ValueError):
            raise TypeError(f"Value({type(data).__name__}): a Value holds one number; pass an int or a float") from None
        self.grad: float | None = None
        self.requires_grad = bool(requires_grad)
        self.label = label
        self._op = ""
        self._parents: tuple[Value, ...] = ()
        self._locals: tuple[float, ...] = ()
        self._order = tick()

    # ------------------------------------------------------------------ the op table
    # Each op: result value, parents, and d(result)/d(parent) for each parent, in one line.

    def __add__(self, other: Value | Number) -> Value:
        """a + b      d/da = 1, d/db = 1"""
        if type(other) is Value:
            return _node(self.data + other.data, "+", (self, other), _ONE_ONE)
        return _node(self.data + _number(other, "+"), "+", (self,), _ONE)

    def __mul__(self, other: Value | Number) -> Value:
        """a * b      d/da = b, d/db = a"""
        if type(other) is Value:
            return _node(self.data * other.data, "*", (self, other), (other.data, self.data))
        other = _number(other, "*")
        return _node(self.data * other, "*", (self,), (other,))

    def __pow__(self, other: Value | Number) -> Value:
        """a ** b     d/da = b a^(b-1), d/db = a^b ln a  (a <= 0 with a Value exponent: error)"""
        if type(other) is Value:
            return _value_pow(self, other)
        b = _number(other, "**")
        a = self.data
        if a < 0 and not float(b).is_integer():
            raise MathDomainError(
                f"Value ** {b}: a negative base ({a}) to a non-integer power has no real result; "
                "take abs() first or use an integer exponent"
            )
        if a == 0 and b < 0:
            raise MathDomainError(f"Value ** {b}: 0 to a negative power is undefined (division by zero)")
        return _node(a**b, f"**{_fmt(b)}", (self,), (_power_rule(a, b),))

    def exp(self) -> Value:
        """exp(a)     d/da = exp(a)"""
        if self.data > 709.78:  # the largest x with a finite float e^x
            raise MathDomainError(
                f"exp: e^{self.data:g} is too large for a float (the limit is about e^709); scale the input "
                "down, or use a stable form such as sigmoid() or log-sum-exp"
            )
        out = math.exp(self.data)
        return _node(out, "exp", (self,), (out,))

    def log(self) -> Value:
        """ln(a)      d/da = 1 / a   (a must be > 0)"""
        if self.data <= 0:
            raise MathDomainError(
                f"log: input is {self.data}, but log needs a positive number; "
                "clamp it first, e.g. (x + 1e-12).log() for probabilities"
            )
        return _node(math.log(self.data), "log", (self,), (1.0 / self.data,))

    def tanh(self) -> Value:
        """tanh(a)    d/da = 1 - tanh(a)^2"""
        out = math.tanh(self.data)
        return _node(out, "tanh", (self,), (1.0 - out * out,))

    def sigmoid(self) -> Value:
        """s = 1 / (1 + e^-a)    d/da = s (1 - s)   (the article's a * (1 - a))"""
        a = self.data
        # Two branches so that exp never overflows: e^-a for a >= 0, e^a otherwise.
        out = 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
        return _node(out, "sigmoid", (self,), (out * (1.0 - out),))

    def relu(self) -> Value:
        """max(0, a)  d/da = 1 if a > 0 else 0"""
        a = self.data
        return _node(a if a > 0 else 0.0, "relu", (self,), (1.0 if a > 0 else 0.0,))

    # ------------------------------------------------------------------ composed ops
    # These are built from the ops above, so they need no derivative of their own.

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | Number) -> Value:
        if type(other) is Value:
            return self + (-other)
        return self + -_number(other, "-")

    def __truediv__(self, other: Value | Number) -> Value:
        if type(other) is Value:
            return self * other**-1
        other = _number(other, "/")
        if other == 0:
            raise ZeroDivisionError("Value / 0: division by zero")
        return self * (1.0 / other)

    def __radd__(self, other: Number) -> Value:
        return self + other

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __rsub__(self, other: Number) -> Value:  # other - self
        return (-self) + other

    def __rtruediv__(self, other: Number) -> Value:  # other / self
        return self**-1 * other

    def __rpow__(self, other: Number) -> Value:  # other ** self
        return _value_pow(Value(_number(other, "**"), requires_grad=False), self)

    # ------------------------------------------------------------------ autodiff

    def backward(self, grad: float = 1.0) -> None:
        """Fill `.grad` of every node this value depends on with d(self)/d(node).

        Leaves accumulate across calls, as in PyTorch: call backward twice and their grads double;
        reset with `v.grad = None` (or `model.zero_grad()`). Intermediate nodes show the gradient
        of this pass only. The graph is kept, so backward can be called again.
        """
        if not self.requires_grad:
            raise GraphError(
                "backward: this Value does not require grad, so nothing it depends on does either; "
                "create the leaves with Value(x) (requires_grad=True is the default)"
            )
        order = walk(self, grad_only=True)
        for node in order:
            if node._parents:
                node.grad = 0.0  # intermediate: only this pass counts
            elif node.grad is None:
                node.grad = 0.0  # leaf reached for the first time
        self.grad += grad
        for node in order:
            g = node.grad
            for parent, local in zip(node._parents, node._locals):
                if parent.requires_grad:
                    parent.grad += local * g  # the chain rule, one edge at a time
            if anomaly_mode.enabled and any(is_bad(local * g) for local in node._locals):
                raise anomaly_report("backward", node._op, ["()"] * len(node._parents), node._order)

    # ------------------------------------------------------------------ conveniences

    def item(self) -> float:
        return self.data

    def draw(self, **kwargs: Any) -> Any:
        """This graph as a `graphviz.Digraph` (shows inline in Jupyter); see `tinygrad_edu.viz.draw`."""
        from .viz import draw  # graphviz is imported only when drawing

        return draw(self, **kwargs)

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={_fmt_grad(self.grad)}{label})"


# ---------------------------------------------------------------------- fused ops


def weighted_sum(weights: list[Value], inputs: list[Value | Number], bias: Value | Number | None = None) -> Value:
    """s = Σ wᵢ xᵢ + b as one node    ds/dwᵢ = xᵢ, ds/dxᵢ = wᵢ, ds/db = 1

    The article's WeightedSum. One node with an edge per input, instead of 2n nodes for n
    multiplications and n additions: the same gradients, a third of the work, and the graph shows
    the neuron the way the article draws it. Inputs may be Values or plain numbers.
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
            x = _number(x, "weighted_sum")
            total += w.data * x
            parents.append(w)
            local.append(x)
    if type(bias) is Value:
        total += bias.data
        parents.append(bias)
        local.append(1.0)
    elif bias is not None:
        total += _number(bias, "weighted_sum")
    return _node_n(total, "Σw·x", tuple(parents), tuple(local))


# ---------------------------------------------------------------------- helpers

_ONE, _ONE_ONE = (1.0,), (1.0, 1.0)  # the local derivatives of +, shared instead of rebuilt per node


def _node(data: float, op: str, parents: tuple[Value, ...], local: tuple[float, ...]) -> Value:
    """Make an op's result; record the graph only when some parent needs a gradient."""
    out = Value.__new__(Value)
    out.data = data
    out.grad = None
    out.label = None
    out._op = op
    out._order = tick()
    if anomaly_mode.enabled:
        _check_forward(out, parents)
    if grad_mode.enabled and (parents[0].requires_grad or (len(parents) > 1 and parents[1].requires_grad)):
        out.requires_grad = True
        out._parents = parents
        out._locals = local
    else:
        out.requires_grad = False
        out._parents = ()
        out._locals = ()
    return out


def _node_n(data: float, op: str, parents: tuple[Value, ...], local: tuple[float, ...]) -> Value:
    """`_node` for any number of parents (the fused ops)."""
    out = Value(data, requires_grad=False)
    out._op = op
    if anomaly_mode.enabled:
        _check_forward(out, parents)
    if grad_mode.enabled and any(p.requires_grad for p in parents):
        out.requires_grad = True
        out._parents = parents
        out._locals = local
    return out


def _check_forward(out: Value, parents: tuple[Value, ...]) -> None:
    record_site(out._order)
    if is_bad(out.data) and not any(is_bad(p.data) for p in parents):
        raise anomaly_report("forward", out._op, ["()"] * len(parents), out._order)


def _value_pow(base: Value, exponent: Value) -> Value:
    """a ** b with both Values: d/da = b a^(b-1), d/db = a^b ln a."""
    a, b = base.data, exponent.data
    if a < 0 and (exponent.requires_grad or not b.is_integer()):
        raise MathDomainError(
            f"Value ** Value: the base is negative ({a}), so a^b ln a (the gradient for the "
            "exponent) has no real value; use a positive base, or a plain number as exponent"
        )
    if a == 0 and b < 0:
        raise MathDomainError("Value ** Value: 0 to a negative power is undefined (division by zero)")
    out = a**b
    d_base = _power_rule(a, b)
    d_exponent = out * math.log(a) if a > 0 else 0.0  # lim a->0+ of a^b ln a is 0 for b > 0
    return _node(out, "**", (base, exponent), (d_base, d_exponent))


def _power_rule(a: float, b: float) -> float:
    """d(a^b)/da = b a^(b-1); at a = 0 with 0 < b < 1 the slope is infinite (as in PyTorch)."""
    if b == 0:
        return 0.0
    if a == 0 and b < 1:
        return math.inf
    return b * a ** (b - 1)


def _number(other: object, op: str) -> float:
    """The float an operand stands for, or a clear error for what cannot mix with a Value."""
    if isinstance(other, (int, float)) and not isinstance(other, bool):
        return float(other)
    if _is_tensor(other):
        raise MixedEngineError(
            f"Value {op} Tensor: the scalar and tensor engines do not mix; use Tensor(v.data) "
            "or tensor.item() to move a number from one to the other"
        )
    try:
        return float(other)  # numpy scalars and the like
    except (TypeError, ValueError):
        raise TypeError(f"Value {op} {type(other).__name__}: expected a Value or a number") from None


def _is_tensor(obj: object) -> bool:
    return type(obj).__name__ == "Tensor" and type(obj).__module__.startswith("tinygrad_edu")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _fmt_grad(g: float | None) -> str:
    return "None" if g is None else f"{g:.6g}"
