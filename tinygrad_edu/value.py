"""`Value`: a scalar that remembers how it was computed, and reverse-mode autodiff over it.

This is the article's Level 1 made automatic. Each op computes its result *and* the local
derivative of the result with respect to each input, right there, side by side:

    c = a * b        dc/da = b,  dc/db = a

`backward()` then applies the chain rule edge by edge, `parent.grad += local * node.grad`,
newest node first. A node keeps its (at most two) parents and one float per edge in slots,
never a closure over itself, so a graph has no reference cycles and is freed by plain reference
counting. The locals are taken at forward time: backward differentiates at the values the
forward pass saw, and the graph is kept after backward (it is small, and drawing it is the point).

Above each op, `@rule(...)` gives the same local derivatives written with Value ops, like
PyTorch's derivatives table; `backward(create_graph=True)` uses them, so a gradient is a graph too.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from .anomaly import anomaly_mode, is_bad, record_site
from .anomaly import report as anomaly_report
from .errors import (
    ArgumentTypeError,
    DivisionByZeroError,
    GraphError,
    MathDomainError,
    MixedEngineError,
    ShapeError,
)
from .graph import away, grad_mode, tick

Number = int | float
Local = Any  # a local derivative: a float, or a Value under create_graph

# op name -> (out, a, b) -> local derivatives as Values (b: the second parent, or the op's constant)
RULES: dict[str, Callable[[Value, Value, Any], tuple[Local, ...]]] = {}


def rule(op: str, fn: Callable[[Value, Value, Any], tuple[Local, ...]]) -> Callable[[Any], Any]:
    """Register `fn` as op's derivative in Value ops (for create_graph); the method is unchanged."""
    RULES[op] = fn
    return lambda method: method


class Value:
    """A scalar (Python float) node of the computation graph.

    `data` is the value, `grad` is dE/d(this) once a backward pass reached it (`None` before).
    Leaves made by the user track gradients by default, as in micrograd; numbers that an operator
    meets (the `2` in `2 * x`) are folded into the op and never become nodes.
    Edges: parents `_a`, `_b` with local derivatives `_da`, `_db`; an op with a constant operand
    keeps the constant in `_db`; `weighted_sum` keeps its many edges in `_many`.
    """

    __slots__ = ("_a", "_b", "_da", "_db", "_many", "_op", "_order", "data", "grad", "label", "requires_grad")

    def __init__(self, data: Number, requires_grad: bool = True, label: str | None = None) -> None:
        if isinstance(data, Value):
            raise ArgumentTypeError("Value(Value(...)): pass `v.data` to copy a value, or use `v` itself")
        if _is_tensor(data):
            raise MixedEngineError(
                "Value(Tensor): a Value holds one Python float; use `tensor.item()` for a 1-element tensor"
            )
        try:
            self.data = float(data)
        except (TypeError, ValueError):
            raise ArgumentTypeError(
                f"Value({type(data).__name__}): a Value holds one number; pass an int or a float"
            ) from None
        self.grad: Any = None
        self.requires_grad = bool(requires_grad)
        self.label = label
        self._op = ""
        self._a = self._b = self._many = None
        self._da = self._db = 0.0
        self._order = tick()

    # ------------------------------------------------------------------ the op table
    # Each op: its result and d(result)/d(parent) for each parent, in one line; above it, the
    # same derivative in Value ops (out: the result, a/b: the parents or b the constant).

    @rule("+", lambda out, a, b: (1.0, 1.0))
    def __add__(self, other: Value | Number) -> Value:
        """a + b      d/da = 1, d/db = 1"""
        if type(other) is Value:
            return _node(self.data + other.data, "+", self, 1.0, other, 1.0)
        c = _number(other, "+")
        return _node(self.data + c, "+", self, 1.0, None, c)

    @rule("*", lambda out, a, b: (b, a))
    def __mul__(self, other: Value | Number) -> Value:
        """a * b      d/da = b, d/db = a"""
        if type(other) is Value:
            return _node(self.data * other.data, "*", self, other.data, other, self.data)
        c = _number(other, "*")
        return _node(self.data * c, "*", self, c, None, c)

    @rule("**", lambda out, a, b: (_pow_rule_graph(a, b), out * a.log() if type(b) is Value and a.data > 0 else 0.0))
    def __pow__(self, other: Value | Number) -> Value:
        """a ** b     d/da = b a^(b-1), d/db = a^b ln a  (a <= 0 with a Value exponent: error)"""
        a, exponent = self.data, other if type(other) is Value else None
        b = other.data if exponent is not None else _number(other, "**")
        _check_pow(a, b, exponent)
        out = a**b
        if exponent is None:
            return _node(out, f"**{_fmt(b)}", self, _power_rule(a, b), None, b)
        return _node(out, "**", self, _power_rule(a, b), exponent, out * math.log(a) if a > 0 else 0.0)

    @rule("exp", lambda out, a, b: (out,))
    def exp(self) -> Value:
        """exp(a)     d/da = exp(a)   (refused only where e^a overflows a float)"""
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise MathDomainError(
                f"exp: e^{self.data:g} is too large for a float (the limit is e^709.78); scale the input "
                "down, or use a stable form such as sigmoid() or log-sum-exp"
            ) from None
        return _node(out, "exp", self, out)

    @rule("log", lambda out, a, b: (1.0 / a,))
    def log(self) -> Value:
        """ln(a)      d/da = 1 / a   (a must be > 0)"""
        if self.data <= 0:  # NaN passes through, as a NaN
            raise MathDomainError(
                f"log: input is {self.data}, but log needs a positive number; "
                "clamp it first, e.g. (x + 1e-12).log() for probabilities"
            )
        return _node(math.log(self.data), "log", self, 1.0 / self.data)

    @rule("tanh", lambda out, a, b: (1.0 - out * out,))
    def tanh(self) -> Value:
        """tanh(a)    d/da = 1 - tanh(a)^2"""
        out = math.tanh(self.data)
        return _node(out, "tanh", self, 1.0 - out * out)

    @rule("sigmoid", lambda out, a, b: (out * (1.0 - out),))
    def sigmoid(self) -> Value:
        """s = 1 / (1 + e^-a)    d/da = s (1 - s)   (the article's a * (1 - a))"""
        a = self.data
        # Two branches so that exp never overflows: e^-a for a >= 0, e^a otherwise.
        out = 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
        return _node(out, "sigmoid", self, out * (1.0 - out))

    @rule("relu", lambda out, a, b: (0.0 if a.data <= 0 else 1.0,))
    def relu(self) -> Value:
        """max(0, a)  d/da = 1 if a > 0 else 0   (NaN stays NaN, as in PyTorch)"""
        a = self.data
        return _node(0.0 if a <= 0 else a, "relu", self, 0.0 if a <= 0 else 1.0)

    # ------------------------------------------------------------------ composed ops
    # These are built from the ops above, so they need no derivative of their own.

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | Number) -> Value:
        if type(other) is Value:
            return self + (-other)
        return self + -_number(other, "-")

    def __truediv__(self, other: Value | Number) -> Value:
        c = other.data if type(other) is Value else _number(other, "/")
        if c == 0:
            raise DivisionByZeroError("Value / 0: division by zero (the divisor's value is 0)")
        if type(other) is Value:
            return self * other**-1
        return self * (1.0 / c)

    def __radd__(self, other: Number) -> Value:
        return self + other

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __rsub__(self, other: Number) -> Value:  # other - self
        return (-self) + other

    def __rtruediv__(self, other: Number) -> Value:  # other / self
        if self.data == 0:
            raise DivisionByZeroError(f"{other} / Value: division by zero (the Value's data is 0)")
        return self**-1 * other

    def __rpow__(self, other: Number) -> Value:  # other ** self
        return Value(_number(other, "**"), requires_grad=False) ** self

    # ------------------------------------------------------------------ autodiff

    def backward(self, grad: float = 1.0, create_graph: bool = False) -> None:
        """Fill `.grad` of every node this value depends on with d(self)/d(node).

        Leaves accumulate across calls, as in PyTorch: call backward twice and their grads double;
        reset with `v.grad = None` (or `model.zero_grad()`). Intermediate nodes show the gradient
        of this pass only. The graph is kept, so backward can be called again.
        With `create_graph=True` every `.grad` is a Value with a graph of its own, which can be
        differentiated again (second derivatives) and drawn.
        """
        if not self.requires_grad:
            raise GraphError(
                "backward: this Value does not require grad, so nothing it depends on does either; "
                "create the leaves with Value(x) (requires_grad=True is the default)"
            )
        if create_graph:
            from .autograd import backward_graph  # the higher-order path, kept out of the first-order one

            return backward_graph(self, grad)
        check = away.count and anomaly_mode.enabled  # read the thread-local only when some thread switched
        order = _graph_below(self)
        self.grad += grad
        for node in order:  # newest first: every user of a node comes before it
            g = node.grad
            if check:
                _check_backward(node, g)
            a = node._a
            if a is not None:
                if a.requires_grad:
                    a.grad += node._da * g  # the chain rule, one edge at a time
                b = node._b
                if b is not None and b.requires_grad:
                    b.grad += node._db * g
            elif node._many is not None:
                parents, local, _ = node._many
                for parent, d in zip(parents, local):
                    if parent.requires_grad:
                        parent.grad += d * g

    # ------------------------------------------------------------------ the edges, for walks and drawings

    @property
    def _parents(self) -> tuple[Value, ...]:
        """The nodes this one was computed from (what `graph.walk`, drawing and explain follow)."""
        if self._a is not None:
            return (self._a,) if self._b is None else (self._a, self._b)
        return self._many[0] if self._many is not None else ()

    @property
    def _locals(self) -> tuple[float, ...]:
        """d(self)/d(parent) for each of `_parents`, as recorded at forward time."""
        if self._a is not None:
            return (self._da,) if self._b is None else (self._da, self._db)
        return self._many[1] if self._many is not None else ()

    @_locals.setter
    def _locals(self, local: tuple[float, ...]) -> None:  # for tests that plant a wrong derivative
        if self._many is not None:
            self._many = (self._many[0], tuple(local), self._many[2])
        else:
            self._da, *rest = local
            self._db = rest[0] if rest else self._db

    # ------------------------------------------------------------------ conveniences

    def item(self) -> float:
        return self.data

    def __float__(self) -> float:
        return self.data

    def __format__(self, spec: str) -> str:  # f"{v:.4g}" formats the number, as for a 1-element torch tensor
        return format(self.data, spec) if spec else repr(self)

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


# ---------------------------------------------------------------------- the node constructor


def _node(
    data: float, op: str, a: Value | None, da: float, b: Value | None = None, db: float = 0.0, many: Any = None
) -> Value:
    """Make an op's result; record its edges only when some parent needs a gradient."""
    out = Value.__new__(Value)
    out.data = data
    out.grad = None
    out.label = None
    out._op = op
    out._order = tick()
    if away.count and not _modes_allow(out, a, b, many):  # some thread left the default modes
        record = False
    elif a is not None:
        record = a.requires_grad or (b is not None and b.requires_grad)
    else:
        record = any(p.requires_grad for p in many[0])
    out.requires_grad = record
    if record:
        out._a = a
        out._da = da
        out._b = b
        out._db = db
        out._many = many
    else:
        out._a = out._b = out._many = None
    return out


def _modes_allow(out: Value, a: Value | None, b: Value | None, many: Any) -> bool:
    """The slow path of `_node`: this thread's anomaly check, then whether grad mode records."""
    if anomaly_mode.enabled:
        parents = [p for p in (a, b) if p is not None] if a is not None else list(many[0])
        record_site(out._order)
        if is_bad(out.data) and not any(is_bad(p.data) for p in parents):
            raise anomaly_report("forward", out._op, ["()"] * len(parents), out._order)
    return grad_mode.enabled


def _check_backward(node: Value, g: Any) -> None:
    if any(is_bad(float(d * g)) for d in node._locals):
        raise anomaly_report("backward", node._op, ["()"] * len(node._parents), node._order)


def _graph_below(root: Value) -> list[Value]:
    """The nodes below `root` that need a gradient, newest first (a topological order), with
    the gradients this pass fills reset: intermediate nodes show this pass only, leaves start
    at 0.0 the first time. A node is created after its parents, so sorting by creation tick is enough.
    """
    if root._a is not None or root._many is not None or root.grad is None:
        root.grad = 0.0
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        a = node._a
        for parent in ((a,) if node._b is None else (a, node._b)) if a is not None else node._many[0]:
            if parent.requires_grad and parent not in seen:
                seen.add(parent)
                if parent._a is not None or parent._many is not None:
                    parent.grad = 0.0  # intermediate: only this pass counts
                    stack.append(parent)
                elif parent.grad is None:
                    parent.grad = 0.0  # leaf reached for the first time
    return sorted(seen, key=_by_order, reverse=True)


_by_order = attrgetter("_order")


# ---------------------------------------------------------------------- helpers


def _check_pow(a: float, b: float, exponent: Value | None) -> None:
    """a ** b's domain: a real result, and a real gradient for a Value exponent that needs one."""
    what = "Value" if exponent is not None else _fmt(b)
    if a < 0 and (not float(b).is_integer() or (exponent is not None and exponent.requires_grad)):
        raise MathDomainError(
            f"Value ** {what}: a negative base ({a}) has no real result for a non-integer power, and no real "
            "gradient a^b ln a for a Value exponent; take abs() first, or use a plain integer exponent"
        )
    if a == 0 and b < 0:
        raise DivisionByZeroError(f"Value ** {what}: 0 to a negative power is a division by zero")


def _power_rule(a: float, b: float) -> float:
    """d(a^b)/da = b a^(b-1); at a = 0 with 0 < b < 1 the slope is infinite (as in PyTorch)."""
    if b == 0:
        return 0.0
    if a == 0 and b < 1:
        return math.inf
    return b * a ** (b - 1)


def _pow_rule_graph(a: Value, b: Any) -> Local:
    """`_power_rule` in Value ops (b a^(b-1)); where it is constant or infinite, the float itself."""
    b_data = b.data if type(b) is Value else b
    if b_data == 0 or (a.data == 0 and b_data < 1):
        return _power_rule(a.data, b_data)
    return b * a ** (b - 1)


def _number(other: object, op: str) -> float:
    """The float an operand stands for, or a clear error for what cannot mix with a Value."""
    if type(other) is float or type(other) is int:
        return float(other)
    if _is_tensor(other):
        raise MixedEngineError(
            f"Value {op} Tensor: the scalar and tensor engines do not mix; use Tensor(v.data) "
            "or tensor.item() to move a number from one to the other"
        )
    if isinstance(other, numbers.Real) and not isinstance(other, bool):
        return float(other)  # numpy scalars and the like (never a string such as "2")
    raise ArgumentTypeError(f"Value {op} {type(other).__name__}: expected a Value or a number")


def _is_tensor(obj: object) -> bool:
    return type(obj).__name__ == "Tensor" and type(obj).__module__.startswith("tinygrad_edu")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _fmt_grad(g: Any) -> str:
    return "None" if g is None else f"{float(g):.6g}" if type(g) is float else repr(g)
