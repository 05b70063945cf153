"""Float expressions as trees, printed as Python, and `Sym`: a stand-in that runs a rule and writes it down.

The scalar engine's derivative rules (`@rule` above each op in value.py) are written in ordinary
arithmetic: `out * (1.0 - out)`. Run on `Sym`s instead of floats they build the expression tree of
the same arithmetic, which prints as `a_h1 * (1.0 - a_h1)`: the generated code gets each derivative
from the one place it is written. Where a rule branches on a value (`0.0 if a.data <= 0 else 1.0`),
`explore` runs it once per outcome of each comparison and joins the results into a conditional
expression, so the generated code branches on the replay's value, as the op does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import CompileError, RuleBranch
from ..graph import Node
from .code import literal

# Python's precedence, low to high; a child binding less tightly than its parent gets parentheses.
COND, CMP, ADD, MUL, NEG, POW, ATOM = 1, 6, 10, 11, 12, 13, 20
_PREC = {"+": ADD, "-": ADD, "*": MUL, "/": MUL, "**": POW}


class Expr:
    """A node of an expression tree: `kind` says which; `prec` is how tightly it binds when printed.

    `size` (operators and operands) and `depth` (nesting) count a variable as one operand: what the
    statement-folding of `scalar_code` weighs against Python's parser limits.
    """

    __slots__ = ("args", "depth", "kind", "prec", "size", "text")

    def __init__(self, kind: str, prec: int, text: str, args: tuple[Any, ...] = ()) -> None:
        self.kind, self.prec, self.text, self.args = kind, prec, text, args
        size = depth = 0
        for a in args:
            size += a.size
            if a.depth > depth:
                depth = a.depth
        self.size, self.depth = size + 1, depth + 1


class Var(Expr):
    """A named value: a statement's target, an input, a parameter read. `stmt` is its definition, if any.

    A statement's value may get its name (`text`) only when it is printed, from `hint`: most are folded
    into their single user and need none.
    """

    __slots__ = ("hint", "stmt")

    def __init__(self, name: str | None, stmt: Any = None, hint: str = "") -> None:
        self.kind, self.prec, self.text, self.args, self.size, self.depth = "var", ATOM, name, (), 1, 1
        self.stmt, self.hint = stmt, hint


_consts: dict[float, Expr] = {}


def const(x: float) -> Expr:
    e = _consts.get(x)
    if e is None or x == 0.0:  # (0.0 and -0.0 are equal keys but print differently)
        text = literal(x)
        e = Expr("const", NEG if text.startswith("-") else ATOM, text)
        if len(_consts) < 10_000:
            _consts[x] = e
    return e


def named_const(name: str) -> Expr:
    return Expr("const", ATOM, name)


def binary(op: str, left: Expr, right: Expr) -> Expr:
    return Expr("bin", _PREC[op], op, (left, right))


def neg(x: Expr) -> Expr:
    return Expr("neg", NEG, "-", (x,))


def call(fn: str, *args: Expr) -> Expr:
    return Expr("call", ATOM, fn, args)


def compare(op: str, left: Expr, right: Expr) -> Expr:
    return Expr("cmp", CMP, op, (left, right))


def cond(then: Expr, test: Expr, other: Expr) -> Expr:
    return Expr("cond", COND, "", (then, test, other))


def render(e: Expr, inline: Callable[[Var], Expr | None]) -> str:
    """Python source for `e`; `inline(var)` gives the expression to print in place of a variable, or None."""
    kind = e.kind
    if kind == "var":
        sub = inline(e)  # type: ignore[arg-type]
        return e.text if sub is None else render(sub, inline)
    if kind == "const":
        return e.text
    if kind == "bin":
        left, right = e.args
        right_assoc = e.text == "**"
        a = render_in(left, e.prec, inline, right_assoc)
        b = render_in(right, e.prec, inline, not right_assoc)
        return f"{a} {e.text} {b}"
    if kind == "neg":
        return "-" + render_in(e.args[0], NEG, inline, False)
    if kind == "call":
        return f"{e.text}({', '.join(render(a, inline) for a in e.args)})"
    if kind == "cmp":
        left, right = e.args
        return f"{render_in(left, CMP, inline, True)} {e.text} {render_in(right, CMP, inline, True)}"
    then, test, other = e.args
    return (
        f"{render_in(then, COND, inline, True)} if {render_in(test, COND, inline, True)} else {render(other, inline)}"
    )


def render_in(e: Expr, parent: int, inline: Callable[[Var], Expr | None], strict: bool) -> str:
    """`e` as an operand of an operator of precedence `parent` (`strict`: equal precedence needs parentheses)."""
    prec = e.prec
    if e.kind == "var":
        sub = inline(e)  # type: ignore[arg-type]
        if sub is None:
            return e.text
        e, prec = sub, sub.prec
    text = render(e, inline)
    return f"({text})" if prec < parent or (strict and prec == parent) else text


def fill(e: Expr, slots: dict[Expr, Expr]) -> Expr:
    """A template with each placeholder `Var` replaced by `slots[placeholder]` (the rest is shared, not copied)."""
    if e.kind == "var":
        return slots.get(e, e)
    args = e.args
    if not args:
        return e
    if len(args) == 2 and args[0].kind == "var" and args[1].kind == "var":  # a + b, a * b: the common case
        return Expr(e.kind, e.prec, e.text, (slots.get(args[0], args[0]), slots.get(args[1], args[1])))
    return Expr(e.kind, e.prec, e.text, tuple([fill(a, slots) for a in args]))


def key(e: Expr) -> str:
    """A structural key: two expressions with equal keys compute the same thing."""
    return render(e, lambda v: None)


# ---------------------------------------------------------------------- Sym: running a rule on names


def as_expr(x: Any) -> Expr:
    if type(x) is Sym:
        return x.expr
    if isinstance(x, Expr):
        return x
    if isinstance(x, bool):
        raise CompileError("compile: a derivative rule produced a bool where a number was expected")
    return const(float(x))


class Sym(Node):
    """A number in a rule, standing for an expression: arithmetic on it builds the expression instead.

    It is a `Node` (as Values are), so a rule testing `isinstance(b, Node)` treats it as a value of the
    graph. `.data` is itself: the rule's comparisons on data become comparisons in the code.
    """

    __slots__ = ("_many", "_op", "expr")

    def __init__(self, expr: Expr, op: str = "", many: Any = None) -> None:
        self.expr, self._op, self._many = expr, op, many

    @property
    def data(self) -> Sym:
        return self

    def __add__(self, o: Any) -> Sym:
        return Sym(binary("+", self.expr, as_expr(o)))

    def __radd__(self, o: Any) -> Sym:
        return Sym(binary("+", as_expr(o), self.expr))

    def __sub__(self, o: Any) -> Sym:
        return Sym(binary("-", self.expr, as_expr(o)))

    def __rsub__(self, o: Any) -> Sym:
        return Sym(binary("-", as_expr(o), self.expr))

    def __mul__(self, o: Any) -> Sym:
        return Sym(binary("*", self.expr, as_expr(o)))

    def __rmul__(self, o: Any) -> Sym:
        return Sym(binary("*", as_expr(o), self.expr))

    def __truediv__(self, o: Any) -> Sym:
        return Sym(binary("/", self.expr, as_expr(o)))

    def __rtruediv__(self, o: Any) -> Sym:
        return Sym(binary("/", as_expr(o), self.expr))

    def __pow__(self, o: Any) -> Sym:
        return Sym(binary("**", self.expr, as_expr(o)))

    def __rpow__(self, o: Any) -> Sym:
        return Sym(binary("**", as_expr(o), self.expr))

    def __neg__(self) -> Sym:
        return Sym(neg(self.expr))

    def log(self) -> Sym:
        return Sym(call("math.log", self.expr))

    def exp(self) -> Sym:
        return Sym(call("math.exp", self.expr))

    def tanh(self) -> Sym:
        return Sym(call("math.tanh", self.expr))

    def __lt__(self, o: Any) -> SymBool:
        return SymBool(compare("<", self.expr, as_expr(o)))

    def __le__(self, o: Any) -> SymBool:
        return SymBool(compare("<=", self.expr, as_expr(o)))

    def __gt__(self, o: Any) -> SymBool:
        return SymBool(compare(">", self.expr, as_expr(o)))

    def __ge__(self, o: Any) -> SymBool:
        return SymBool(compare(">=", self.expr, as_expr(o)))

    def __eq__(self, o: Any) -> SymBool:  # type: ignore[override]
        return SymBool(compare("==", self.expr, as_expr(o)))

    def __ne__(self, o: Any) -> SymBool:  # type: ignore[override]
        return SymBool(compare("!=", self.expr, as_expr(o)))

    __hash__ = None  # type: ignore[assignment]


_forced: list[dict[str, bool]] = [{}]


class SymBool:
    """A comparison of values: `if` on it asks `explore` which way to go (each way is run in turn)."""

    def __init__(self, test: Expr) -> None:
        self.test = test

    def __bool__(self) -> bool:
        k = key(self.test)
        forced = _forced[-1]
        if k in forced:
            return forced[k]
        raise RuleBranch(self.test)

    def __and__(self, o: Any) -> Any:
        raise CompileError("compile: a rule combined comparisons with &; write `and`, which explore() follows")


def explore(fn: Callable[[], Any], forced: dict[str, bool] | None = None, depth: int = 0) -> Any:
    """Run `fn` (which may branch on comparisons of `Sym`s) for every outcome and join them into conditionals."""
    forced = forced or {}
    _forced.append(forced)
    try:
        return fn()
    except RuleBranch as branch:
        test = branch.test
    finally:
        _forced.pop()
    if depth > 8:
        raise CompileError("compile: a rule branches more than 8 times deep; it cannot be written out")
    k = key(test)
    then = explore(fn, {**forced, k: True}, depth + 1)
    other = explore(fn, {**forced, k: False}, depth + 1)
    return _join(test, then, other)


def _join(test: Expr, then: Any, other: Any) -> Any:
    if type(then) is tuple:
        return tuple(_join(test, t, o) for t, o in zip(then, other))
    a, b = as_expr(then), as_expr(other)
    return a if key(a) == key(b) else cond(a, test, b)
