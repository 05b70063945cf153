"""`Value`: a scalar that remembers how it was computed, and reverse-mode autodiff over it.

This is the article's Level 1 made automatic. Each op computes its result *and* the local
derivative of the result with respect to each input, right there, side by side:

    c = a * b        dc/da = b,  dc/db = a

`backward()` then applies the chain rule edge by edge, `parent.grad += local * node.grad`,
newest node first. A node keeps its (at most two) parents and one float per edge in slots, never
a closure over itself, so a graph has no reference cycles and is freed by reference counting.
Backward differentiates at the values the forward pass saw; the graph is kept (drawing it is the point).
Above each op, `@rule(...)` gives the same derivatives in Value ops, for `backward(create_graph=True)`.
"""

from __future__ import annotations

import copy
import math
from operator import attrgetter
from typing import Any, SupportsIndex

from .anomaly import anomaly_mode, check_backward, check_forward
from .copying import refuse_non_leaf, shallow_copy
from .errors import DivisionByZeroError, GraphError
from .graph import Node, away, grad_mode, tick
from .sweep import Local, backward_graph, rule
from .value_checks import as_float, checked_exp, checked_log, checked_pow, fmt, number

Number = int | float


class Value(Node):
    """A scalar (Python float) node of the computation graph.

    `data` is the value, `grad` is dE/d(this) once a backward pass reached it (`None` before).
    Leaves made by the user track gradients by default, as in micrograd; numbers that an operator
    meets (the `2` in `2 * x`) are folded into the op and never become nodes.
    Edges: parents `_a`, `_b` with local derivatives `_da`, `_db`; an op with a constant operand
    keeps the constant in `_db`; `weighted_sum` keeps its many edges in `_many`.
    """

    __slots__ = ("_a", "_b", "_da", "_db", "_many", "_op", "_order", "data", "grad", "name", "requires_grad")

    def __init__(
        self, data: Number, requires_grad: bool = True, name: str | None = None, *, label: str | None = None
    ) -> None:
        self.data = float(data) if type(data) is float or type(data) is int else as_float(data, type(data) is Value)
        self.grad: Any = None
        self.requires_grad = bool(requires_grad)
        self.name = name if label is None else label  # `label`: micrograd's word for it
        self._op = ""
        self._a = self._b = self._many = None
        self._da = self._db = 0.0
        self._order = tick()

    # ------------------------------------------------------------------ the op table
    # Each op: its result and d(result)/d(parent) for each parent, in one line; above it, `@rule`
    # registers the same derivative for `create_graph`, `symbolic` and `compile`. Where a derivative is
    # more than a constant or a swap, both call one function (`_d_tanh` ...), written once over numbers,
    # Values or stand-ins alike (out: the result, a/b: the parents, or b the constant).

    @rule("+", lambda out, a, b: (1.0, 1.0))
    def __add__(self, other: Value | Number) -> Value:
        """a + b      d/da = 1, d/db = 1"""
        if type(other) is Value:
            return _node(self.data + other.data, "+", self, 1.0, other, 1.0)
        c = number(other, "+")
        return _node(self.data + c, "+", self, 1.0, None, c)

    @rule("*", lambda out, a, b: (b, a))
    def __mul__(self, other: Value | Number) -> Value:
        """a * b      d/da = b, d/db = a"""
        if type(other) is Value:
            return _node(self.data * other.data, "*", self, other.data, other, self.data)
        c = number(other, "*")
        return _node(self.data * c, "*", self, c, None, c)

    @rule("**", lambda out, a, b: (_power_rule(a, b), _d_pow_exponent(out, a) if isinstance(b, Node) else 0.0))
    def __pow__(self, other: Value | Number) -> Value:
        """a ** b     d/da = b a^(b-1), d/db = a^b ln a  (a <= 0 with a Value exponent: error)"""
        a, exponent = self.data, other if type(other) is Value else None
        b = other.data if exponent is not None else number(other, "**")
        out = checked_pow(a, b, None if exponent is None else exponent.requires_grad)
        if exponent is None:
            return _node(out, f"**{fmt(b)}", self, _power_rule(a, b), None, b)
        return _node(out, "**", self, _power_rule(a, b), exponent, _d_pow_exponent(out, a))

    @rule("exp", lambda out, a, b: (out,))
    def exp(self) -> Value:
        """exp(a)     d/da = exp(a)   (refused only where e^a overflows a float)"""
        out = checked_exp(self.data)
        return _node(out, "exp", self, out)

    @rule("log", lambda out, a, b: (_d_log(a),))
    def log(self) -> Value:
        """ln(a)      d/da = 1 / a   (a must be > 0)"""
        return _node(checked_log(self.data), "log", self, _d_log(self.data))  # (NaN passes through, as a NaN)

    @rule("tanh", lambda out, a, b: (_d_tanh(out),))
    def tanh(self) -> Value:
        """tanh(a)    d/da = 1 - tanh(a)^2"""
        out = math.tanh(self.data)
        return _node(out, "tanh", self, _d_tanh(out))

    @rule("sigmoid", lambda out, a, b: (_d_sigmoid(out),))
    def sigmoid(self) -> Value:
        """s = 1 / (1 + e^-a)    d/da = s (1 - s)   (the article's a * (1 - a))"""
        out = _sigmoid(self.data)
        return _node(out, "sigmoid", self, _d_sigmoid(out))

    @rule("relu", lambda out, a, b: (_d_relu(a.data),))
    def relu(self) -> Value:
        """max(0, a)  d/da = 1 if a > 0 else 0   (NaN stays NaN, as in PyTorch)"""
        a = self.data
        return _node(_relu(a), "relu", self, _d_relu(a))

    # ------------------------------------------------------------------ composed ops
    # These are built from the ops above, so they need no derivative of their own.

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | Number) -> Value:
        if type(other) is Value:
            return self + (-other)
        return self + -number(other, "-")

    def __truediv__(self, other: Value | Number) -> Value:
        c = other.data if type(other) is Value else number(other, "/")
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
        return Value(number(other, "**"), requires_grad=False) ** self

    # ------------------------------------------------------------------ autodiff

    def backward(self, gradient: float = 1.0, create_graph: bool = False) -> None:
        """Fill `.grad` of every node this value depends on with d(self)/d(node), times `gradient`.

        `gradient` is dL/d(self) to start from (PyTorch's name; 1.0 when self is the loss). Leaves
        accumulate across calls, as in PyTorch: call backward twice and their grads double; reset
        with `v.grad = None` (or `model.zero_grad()`). Intermediate nodes show the gradient of this
        pass only. The graph is kept, so backward can be called again. With `create_graph=True` every
        `.grad` is a Value with a graph of its own, to differentiate again (second derivatives) and draw.
        """
        if not self.requires_grad:
            raise GraphError(
                "backward: this Value does not require grad, so nothing it depends on does either; "
                "create the leaves with Value(x) (requires_grad=True is the default)"
            )
        if create_graph:
            return backward_graph(self, gradient)
        check = away.count and anomaly_mode.enabled  # read the thread-local only when some thread switched
        order = _graph_below(self)
        self.grad += gradient

        for node in order:  # newest first: every user of a node comes before it, so its grad is complete
            g = node.grad
            if check:
                check_backward(node._op, [d * g for d in node._locals], ["()"] * len(node._locals), node._order)
            # Each edge: dL/d(parent) += d(node)/d(parent) * dL/d(node), the tensor engine's `Totals.add`
            # written inline (a call per edge made moons' backward 20% slower), from the fields the forward wrote
            a = node._a
            if a is not None:
                if a.requires_grad:
                    a.grad += node._da * g
                b = node._b
                if b is not None and b.requires_grad:
                    b.grad += node._db * g
            elif node._many is not None:
                for parent, d in zip(*node._many[:2]):  # Σw·x: (parents, local derivatives, ...)
                    if parent.requires_grad:
                        parent.grad += d * g

    # ------------------------------------------------------------------ the edges (read as graph.Node's protocol)

    @property
    def _parents(self) -> tuple[Value, ...]:
        """The nodes this one was computed from (read by others as `parents`)."""
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

    @property
    def op(self) -> str | None:
        """The op that made this node (`"+"`, `"sigmoid"`, `"**2"`, `"Σw·x"`), None for a leaf (`graph.Node`)."""
        return self._op if self._parents else None

    @property
    def local_derivatives(self) -> tuple[float, ...]:
        """d(self)/d(parent) for each of `parents`, recorded by the forward pass (`graph.Node`)."""
        return self._locals

    @property
    def constant(self) -> float | None:
        """The number the op folded in: c of `a + c`, `a * c`, `a ** c` (`graph.Node`); None for other nodes."""
        return self._db if self._b is None and self._a is not None and self._op[0] in "+*" else None

    # ------------------------------------------------------------------ leaves and copies (see copying.py)

    @property
    def is_leaf(self) -> bool:
        """True for Values the user made (and results that recorded no parents), as in PyTorch."""
        return self._a is None and self._many is None

    def detach(self) -> Value:
        """The same number as a new leaf that requires no grad (PyTorch's `detach`)."""
        return Value(self.data, requires_grad=False, name=self.name)

    def __copy__(self) -> Value:
        return shallow_copy(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """A leaf with its data and gradient; a result inside a graph raises (detach() first)."""
        refuse_non_leaf(self, "copy.deepcopy")
        return _rebuilt(self.data, copy.deepcopy(self.grad, memo), self.requires_grad, self.name, self._op)

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        refuse_non_leaf(self, "pickle")
        return _rebuilt, (self.data, self.grad, self.requires_grad, self.name, self._op)

    # ------------------------------------------------------------------ conveniences

    def item(self) -> float:
        return self.data

    def __float__(self) -> float:
        return self.data

    def __format__(self, spec: str) -> str:  # f"{v:.4g}" formats the number, as for a 1-element torch tensor
        return format(self.data, spec) if spec else repr(self)

    def __repr__(self) -> str:
        name = f", name={self.name!r}" if self.name else ""
        return f"Value(data={self.data:.6g}, grad={_fmt_grad(self.grad)}{name})"

    @property
    def label(self) -> str | None:
        """micrograd's name for `name` (the two engines, like PyTorch, say `name`)."""
        return self.name

    @label.setter
    def label(self, text: str | None) -> None:
        self.name = text


def _rebuilt(data: float, grad: Any, requires_grad: bool, name: str | None, op: str) -> Value:
    """A leaf from what `__reduce_ex__` / `__deepcopy__` kept (also what unpickling calls)."""
    out = Value(data, requires_grad=requires_grad, name=name)
    out.grad, out._op = grad, op
    return out


# ---------------------------------------------------------------------- the node constructor


def _node(
    data: float, op: str, a: Value | None, da: float, b: Value | None = None, db: float = 0.0, many: Any = None
) -> Value:
    """Make an op's result; record its edges only when some parent needs a gradient."""
    out = Value.__new__(Value)
    out.data = data
    out.grad = None
    out.name = None
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
        inputs = [p.data for p in ((a, b) if a is not None else many[0]) if p is not None]
        check_forward(out._op, out.data, inputs, ["()"] * len(inputs), out._order)
    return grad_mode.enabled


def _graph_below(root: Value) -> list[Value]:
    """The nodes below `root` that need a gradient, newest first (a topological order), with
    the gradients this pass fills reset: intermediate nodes show this pass only, leaves start
    at 0.0 the first time. A node is created after its parents, so sorting by creation tick is enough.
    """
    if root._a is not None or root._many is not None or root.grad is None:
        root.grad = 0.0
    seen, found = {root}, [root]  # found: in the order found, nearly newest first, so the sort below is quick
    stack = [root]
    while stack:
        node = stack.pop()
        a = node._a
        for parent in ((a,) if node._b is None else (a, node._b)) if a is not None else node._many[0]:
            if parent.requires_grad and parent not in seen:
                seen.add(parent)
                found.append(parent)
                if parent._a is not None or parent._many is not None:
                    parent.grad = 0.0  # intermediate: only this pass counts
                    stack.append(parent)
                elif parent.grad is None:
                    parent.grad = 0.0  # leaf reached for the first time
    found.sort(key=_by_order, reverse=True)  # a set's order is random: sorting it took 10% longer (deep chain)
    return found


_by_order = attrgetter("_order")


# ---------------------------------------------------------------------- helpers


# The forward formulas with a branch, and the derivatives that are more than a constant or a swap of the
# operands, each written once: the op method calls it with floats, `@rule` with Values (create_graph),
# `symbolic` and `compile` with stand-ins (compile passes an `exp` that writes `math.exp(...)`).


def _sigmoid(a: Local, exp: Any = math.exp) -> Local:
    """1 / (1 + e^-a) in two branches so that exp never overflows: e^-a for a >= 0, e^a otherwise."""
    return 1.0 / (1.0 + exp(-a)) if a >= 0 else exp(a) / (1.0 + exp(a))


def _relu(a: Local) -> Local:
    """max(0, a); NaN passes through (NaN <= 0 is False), as in PyTorch."""
    return 0.0 if a <= 0 else a


def _d_tanh(out: Local) -> Local:
    """d tanh(a)/da = 1 - tanh(a)², from the result."""
    return 1.0 - out * out


def _d_sigmoid(out: Local) -> Local:
    """d s/da = s (1 - s), from the result s (the article's a_o1 · (1 − a_o1))."""
    return out * (1.0 - out)


def _d_log(a: Local) -> Local:
    """d ln(a)/da = 1 / a."""
    return 1.0 / a


def _d_relu(a: Any) -> float:
    """d relu(a)/da = 1 where a > 0, else 0 (a is the number: NaN gives 1, as NaN <= 0 is False)."""
    return 0.0 if a <= 0 else 1.0


def _power_rule(a: Any, b: Any) -> Local:
    """d(a^b)/da = b a^(b-1); 0 where b = 0, and at a = 0 with 0 < b < 1 the slope is infinite (as in PyTorch)."""
    if _number(b) == 0:
        return 0.0
    if _number(a) == 0 and _number(b) < 1:
        return math.inf
    return b * a ** (b - 1)


def _d_pow_exponent(out: Local, a: Any) -> Local:
    """d(a^b)/db = a^b ln a where a > 0, else 0."""
    if _number(a) > 0:
        return out * (math.log(a) if type(a) is float else a.log())
    return 0.0


def _number(x: Any) -> Any:
    """The number of a float, or of a node (its `.data`): what a derivative's branches test."""
    return x if type(x) is float else x.data


def _fmt_grad(g: Any) -> str:
    return "None" if g is None else f"{float(g):.6g}" if type(g) is float else repr(g)
