"""Derivatives as text, read from the engine's own op table: `a_o1·(1 − a_o1)`, `1 − out²`, `2·x`.

value.py writes above each op its local derivatives in Value ops, e.g.
`@rule("sigmoid", lambda out, a, b: (out * (1.0 - out),))` (kept in `sweep.RULES`). Called with
`Symbol`s instead of Values, the same lambda writes the formula instead of computing it. So the forms
that `explain` and the step-through page print come from the one table the engine
differentiates with, and cannot drift from it.

A `Symbol` carries the number it stands for as well (`data`, which a rule may read, as relu's does);
a form is shown only if it reproduces the derivative the engine recorded, otherwise the number is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .sweep import RULES
from .value import Value

# How tightly a formula binds, loosest first; an operand looser than its place needs parentheses.
SUM, NEG, PRODUCT, POWER, ATOM = range(5)
SUPERSCRIPT = {2: "²", 3: "³"}


def number(x: float) -> str:
    """A number in a formula: six significant digits, with the article's minus sign."""
    return f"{x:.6g}".replace("-", "−")


class Symbol:
    """A stand-in for a node in a rule: `text` is how it is written, `data` the number it stands for."""

    __slots__ = ("data", "rank", "text")

    def __init__(self, text: str, data: float, rank: int = ATOM) -> None:
        self.text, self.data, self.rank = text, float(data), rank

    @classmethod
    def named(cls, name: str, data: float) -> Symbol:
        """A node by its name; a name that is itself a formula (`(a_o1 − 0.1)`, `w1·i1`) keeps its binding."""
        return cls(name, data, _rank_of(name))

    def wrapped(self, rank: int) -> str:
        """The text, in parentheses where it binds looser than `rank`."""
        return f"({self.text})" if self.rank < rank else self.text

    def __repr__(self) -> str:
        return f"Symbol({self.text!r}, {self.data:g})"

    # ------------------------------------------------------------------ the ops a rule uses

    def __add__(self, other: Any) -> Any:
        return add(self, other)

    def __radd__(self, other: Any) -> Any:
        return add(other, self)

    def __sub__(self, other: Any) -> Any:
        return add(self, neg(other))

    def __rsub__(self, other: Any) -> Any:
        return add(other, neg(self))

    def __mul__(self, other: Any) -> Any:
        return mul(self, other)

    def __rmul__(self, other: Any) -> Any:
        return mul(other, self)

    def __truediv__(self, other: Any) -> Any:
        return div(self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return div(other, self)

    def __pow__(self, other: Any) -> Any:
        return power(self, other)

    def __rpow__(self, other: Any) -> Any:
        return power(other, self)

    def __neg__(self) -> Any:
        return neg(self)

    def exp(self) -> Symbol:
        return _call("exp", self, math.exp)

    def log(self) -> Symbol:
        return _call("ln", self, math.log)

    def tanh(self) -> Symbol:
        return _call("tanh", self, math.tanh)

    def sigmoid(self) -> Symbol:
        return _call("sigmoid", self, lambda x: 1.0 / (1.0 + math.exp(-x)))

    def relu(self) -> Symbol:
        return _call("relu", self, lambda x: max(x, 0.0))


def add(x: Any, y: Any) -> Any:
    """x + y; a negative term is written as a subtraction (`a − 0.1`, `1 − out²`)."""
    if not isinstance(x, Symbol) and not isinstance(y, Symbol):
        return x + y
    if y == 0 or x == 0:  # a Symbol never equals a number, so this drops only a plain 0
        return x if y == 0 else y
    x, y = _symbol(x), _symbol(y)
    if y.rank == NEG:  # y is `−z`: write x − z
        return Symbol(f"{x.text} − {y.text[1:]}", x.data + y.data, SUM)
    return Symbol(f"{x.text} + {y.text}", x.data + y.data, SUM)


def neg(x: Any) -> Any:
    """−x; the minus of a minus cancels."""
    if not isinstance(x, Symbol):
        return -x
    if x.rank == NEG:
        return Symbol(x.text[1:], -x.data, PRODUCT)
    return Symbol(f"−{x.wrapped(PRODUCT)}", -x.data, NEG)


def mul(x: Any, y: Any) -> Any:
    """x·y, a number first (`2·x`); ×1 and ×0 vanish, ×−1 is a minus, x·x is x²."""
    if not isinstance(x, Symbol) and not isinstance(y, Symbol):
        return x * y
    if isinstance(y, Symbol) and not isinstance(x, Symbol):
        x, y = y, x  # the number, if any, is y now, and is written first
    if not isinstance(y, Symbol):
        if y == 0 or y == 1:
            return 0.0 if y == 0 else x
        if y == -1:
            return neg(x)
        rank = NEG if y < 0 else PRODUCT
        return Symbol(f"{number(y)}·{x.wrapped(PRODUCT)}", y * x.data, rank)
    if x.text == y.text:
        return power(x, 2.0)
    return Symbol(f"{x.wrapped(NEG)}·{y.wrapped(PRODUCT)}", x.data * y.data, NEG if x.rank == NEG else PRODUCT)


def div(x: Any, y: Any) -> Any:
    """x / y, as `1/x`; dividing by a number is multiplying by its inverse (as `Value.__truediv__` does)."""
    if not isinstance(y, Symbol):
        return mul(x, 1.0 / y)
    x = _symbol(x)
    return Symbol(f"{x.wrapped(PRODUCT)}/{y.wrapped(POWER)}", _safe(lambda: x.data / y.data), PRODUCT)


def power(x: Any, k: Any) -> Any:
    """x^k, as `x²` or `x^−0.5`; x¹ is x and x⁰ is 1."""
    if not isinstance(x, Symbol) and not isinstance(k, Symbol):
        return x**k
    if not isinstance(k, Symbol) and k in (0, 1):
        return 1.0 if k == 0 else x
    x = _symbol(x)
    if isinstance(k, Symbol):
        text = f"{x.wrapped(ATOM)}^{k.wrapped(ATOM)}"
    elif float(k).is_integer() and int(k) in SUPERSCRIPT:
        text = f"{x.wrapped(ATOM)}{SUPERSCRIPT[int(k)]}"
    else:
        text = f"{x.wrapped(ATOM)}^{number(k)}"
    exponent = k.data if isinstance(k, Symbol) else float(k)
    return Symbol(text, _safe(lambda: x.data**exponent), POWER)


# ---------------------------------------------------------------------- reading a node with the rules


def local_forms(node: Value, out: Symbol, parents: Sequence[Symbol]) -> list[Symbol]:
    """d node / d parent for each of the node's edges, as formulas: its op's rule evaluated on stand-ins.

    `out` stands for the node and `parents[k]` for its k-th parent (in `node.parents` order).
    An edge whose rule gives a number, or a form that does not reproduce the recorded derivative
    (a rule that asks `type(b) is Value`, say), is written as the recorded number.
    """
    recorded, op = node.local_derivatives, node.op
    rule = RULES.get("**" if op.startswith("**") else op)
    results: Sequence[Any] = ()
    if rule is not None:
        try:
            if op == "Σw·x":  # its rule reads the edges weighted_sum recorded, so it gets the node
                results = [_stand_in(r, node.parents, parents) for r in rule(node, None, None)]
            else:
                b = parents[1] if len(parents) == 2 else constant(node)
                results = rule(out, parents[0], b)
        except (TypeError, AttributeError, ValueError, ArithmeticError):
            results = ()  # a rule written for Values that a stand-in cannot follow: the numbers say it
    forms = [Symbol.named(number(d), d) for d in recorded]
    for k, result in enumerate(results[: len(forms)]):
        if isinstance(result, Symbol) and _same(result.data, recorded[k]):
            forms[k] = result
    return forms


def constant(node: Value) -> float:
    """The number an op with one parent was given (the 3 of `x + 3`, the 2 of `x ** 2`), as the rule's `b`."""
    # The one private field read here: a scalar op's constant is the rules' own input (sweep.py reads
    # it the same way for backward(create_graph=True)), not part of a node's reading protocol.
    return node._db


def forward(node: Value, parents: Sequence[Symbol]) -> Symbol | None:
    """The node's own op applied to stand-ins for its parents (`x + -0.1` reads `x − 0.1`), or None.

    An op with one parent and a number (`x + 3`, `x * 2`, `x ** 2`) gets the number it recorded.
    """
    op = node.op or ""
    if len(parents) == 2 and op in _BINARY:
        result = _BINARY[op](parents[0], parents[1])
    elif len(parents) == 1 and (op in _BINARY or op.startswith("**")):
        result = _BINARY[op[:2]](parents[0], constant(node))
    elif len(parents) == 1 and op in _FUNCTIONS:
        result = getattr(parents[0], op)()
    else:
        return None
    return result if isinstance(result, Symbol) else None


_BINARY: dict[str, Callable[[Any, Any], Any]] = {"+": add, "*": mul, "**": power}
_FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "relu")


# ---------------------------------------------------------------------- helpers


def _symbol(x: Any) -> Symbol:
    return x if isinstance(x, Symbol) else Symbol(number(x), x, NEG if x < 0 else ATOM)


def _stand_in(result: Any, nodes: Sequence[Value], stand_ins: Sequence[Symbol]) -> Any:
    """A parent a rule returned as itself (weighted_sum's ds/dw = x) -> its stand-in."""
    if isinstance(result, Value):
        return next((s for n, s in zip(nodes, stand_ins) if n is result), None)
    return result


def _call(name: str, x: Symbol, fn: Callable[[float], float]) -> Symbol:
    return Symbol(f"{name}({x.text})", _safe(lambda: fn(x.data)), ATOM)


def _safe(fn: Callable[[], Any]) -> float:
    """The number a formula stands for; NaN where floats have none (it then shows as the recorded number)."""
    try:
        value = fn()
    except (ArithmeticError, ValueError):
        return math.nan
    return value if isinstance(value, float) else math.nan if isinstance(value, complex) else float(value)


def _same(x: float, y: float) -> bool:
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(x) and math.isnan(y))


def _rank_of(name: str) -> int:
    """How a name binds when it is a formula itself; looking only outside parentheses."""
    depth, top = 0, []
    for ch in name:
        depth += (ch in "([") - (ch in ")]")
        if depth == 0 and ch not in ")]":
            top.append(ch)
    text = "".join(top)
    if any(ch.isspace() for ch in text.strip()):
        return SUM  # `a + b`, `a − b`, or a label with spaces: parenthesise it anywhere tighter
    if text.startswith(("−", "-")):
        return NEG
    if any(ch in "·×*/" for ch in text):
        return PRODUCT
    if any(ch in "^²³" for ch in text):
        return POWER
    return ATOM
