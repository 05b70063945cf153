"""The scalar engine's step as Python float arithmetic, single-use values folded into their users.

Forward: each Value op becomes `name = <expression>` (`s_h1 = w1 * i1 + w2 * i2 + b_h1`).
Backward: the chain rule of `Value.backward`, newest node first, each gradient the sum of
`local * g` over the node's users in the order the eager pass adds them; each local derivative is
the op's own `@rule` (value.py), run on `Sym` stand-ins, so it is written once. Update: the
optimizer's own `step()`, which reads its settings and state at every call.

A value used once is printed inside its user (`b + w0 * x0 + w1 * x1`) as long as the expression
stays shallow (`DEPTH`) and short (`SIZE`): Python's parser refuses deeply nested expressions,
so a long chain is cut into statements.
"""

from __future__ import annotations

import re
from typing import Any

from .. import value as value_py
from ..article_names import delta_name
from ..fused import edge_partners, weighted_sum
from ..graph import walk
from ..number_checks import numbers
from ..sweep import RULES
from ..value import Value
from .code import Code, check_comment, container, literal
from .expr import Expr, Sym, Var, as_expr, binary, call, const, explore, fill, named_const, render
from .record import Listener
from .refuse import error
from .scalar_update import written_update

DEPTH = 40  # deepest expression a statement may hold (CPython's parser and compiler recurse on nesting)
SIZE = 400  # most operators in one statement
CHUNK = 32  # a longer sum is written as running partial sums, one statement per CHUNK terms

_WORD = {"+": "add", "*": "mul", "**": "pow", "exp": "exp", "log": "log", "tanh": "tanh"}
_WORD.update({"sigmoid": "sigmoid", "relu": "relu", "Σw·x": "s", "max": "shift"})


_docs: dict[str, str] = {}


def _rule_doc(op: str) -> str:
    """The maths line of the op's docstring, the one place the rule is written for readers."""
    if op in _docs:
        return _docs[op]
    method = {
        "+": Value.__add__,
        "*": Value.__mul__,
        "**": Value.__pow__,
        "exp": Value.exp,
        "log": Value.log,
        "tanh": Value.tanh,
        "sigmoid": Value.sigmoid,
        "relu": Value.relu,
        "Σw·x": weighted_sum,
    }.get(op)
    doc = " ".join(((method.__doc__ or "").strip().splitlines() or [op])[0].split()) if method is not None else op
    found = _DERIVATIVE.search(doc)
    _docs[op] = f"{op}: {doc[found.start() :] if found else doc}"
    _forward_docs[op] = f"{op}: {doc[: found.start()].strip() if found else doc}"
    return _docs[op]


def _forward_doc(op: str) -> str:
    _rule_doc(op)
    return _forward_docs.get(op, op)


_DERIVATIVE = re.compile(r"\bd\w*/d")
_forward_docs: dict[str, str] = {}


def forward(op: str, a: Any, b: Any, exponent_needs_grad: bool | None = None) -> Any:
    """The op's result as an expression of its operands (`Sym`s): the arithmetic of the op's method in value.py,
    one operator or math function, or the formula it calls (`_sigmoid`, `_relu`) run on the stand-ins. Where
    the method refuses some numbers it calls value_checks' checked function, and so does the code: a replay
    refuses what eager refuses, with its error (Python alone raises ValueError, or makes a complex number)."""
    if op == "+":
        return a + b
    if op == "*":
        return a * b
    if op.startswith("**"):
        if op != "**" and float(op[2:]).is_integer() and float(op[2:]) >= 0:
            return a**b  # (a power no base is refused: Python's own)
        needs = () if exponent_needs_grad is None else (named_const(str(exponent_needs_grad)),)
        return Sym(call("checked_pow", as_expr(a), as_expr(b), *needs))
    if op == "exp":
        return Sym(call("checked_exp", as_expr(a)))
    if op == "log":
        return Sym(call("checked_log", as_expr(a)))
    if op == "tanh":
        return a.tanh()
    if op == "sigmoid":  # value.py's formula, the one Value.sigmoid runs (its two branches become a conditional)
        return explore(lambda: value_py._sigmoid(a, exp=Sym.exp))
    if op == "relu":
        return explore(lambda: value_py._relu(a))
    raise KeyError(op)


class _Stmt:
    """One line: `target = expr` (a `Var` target is an SSA value that may be folded into its single user).

    `comment` is its text, or the ops whose rules made a gradient (written out only if the line is printed).
    """

    __slots__ = ("comment", "depth", "expr", "inline", "pure", "refs", "size", "target", "uses")

    def __init__(self, target: Any, expr: Expr | None, comment: str | list[str] = "", pure: bool = True) -> None:
        self.target, self.expr, self.comment, self.pure = target, expr, comment, pure
        self.uses, self.inline, self.depth, self.size, self.refs = 0, False, 1, 1, ()


class ScalarStep(Listener):
    """Writes the code of one trace of a Value step as the eager engine runs it."""

    def __init__(self, code: Code, names: dict[int, str], start_tick: int) -> None:
        super().__init__()
        self.code = code
        self.names = names
        self._current = ""
        self.start = start_tick
        self.stmts: list[Any] = []  # _Stmt, or ("block", title), or ("raw", line, comment)
        self.var: dict[int, Var] = {}
        self.keep: list[Any] = []
        self.params: dict[int, Value] = {}
        self.first_data: dict[int, float] = {}
        self.holder: dict[int, str] = {}
        self.grad_of: dict[int, Expr] = {}
        self.grad_written: dict[int, Value] = {}
        self.optimizers: list[Any] = []
        self.literals: set[float] = set()  # numbers written in fn itself (printed as they are)
        self.named: dict[float, str] = {}  # other numbers: constants listed at the top
        self.loss = "L"
        self.unnamed: list[tuple[Value, Var]] = []  # results named after the op made them (v.name = "a_h1")
        self.many: dict[int, Any] = {}  # id(Σw·x node) -> its edges (parents, local derivatives, pairs)
        self._forward: dict[tuple[str, Any], Expr] = {}  # op -> its formula over the placeholders _A, _B
        self._rules: dict[Any, tuple[Expr, ...]] = {}  # (op, constant) -> its local derivatives, likewise

    # ------------------------------------------------------------------ statements

    def _block(self, title: str) -> None:
        if title != self._current:
            self.stmts.append(("block", title))
            self._current = title

    def _assign(self, hint: str, expr: Expr, comment: str | list[str] = "", pure: bool = True) -> Var:
        stmt = _Stmt(None, expr, comment, pure)
        var = Var(None if pure else self.code.name(hint), stmt, hint)  # a pure value is named when printed
        stmt.target = var
        self.stmts.append(stmt)
        return var

    def _raw(self, line: str, comment: str = "") -> None:
        self.stmts.append(("raw", line, comment))

    # ------------------------------------------------------------------ inputs and operands

    def take_inputs(self, args: tuple[Any, ...], names: list[str], trace: bool = True) -> tuple[list[Any], Any]:
        """fn's arguments as Values: lists of numbers become (nested lists of) constant Values."""
        converted = []
        if trace:
            self._block("forward")
        for a, name in zip(args, names):
            if type(a) is Value:
                converted.append(a)
                if trace:
                    self.holder[id(a)] = name
                    self.var[id(a)] = self._assign(name + "_data", named_const(f"{name}.data"), f"input {name}", False)
                    self.keep.append(a)
            elif type(a) in (list, tuple):
                values, pattern = self._list(a, name, trace)
                converted.append(values)
                if trace:
                    self._raw(f"{pattern} = {name}", f"input {name}: its numbers, one name each")
            else:
                v = Value(a, requires_grad=False)
                converted.append(v)
                if trace:
                    self.var[id(v)] = Var(name)
                    self.keep.append(v)
        return converted, lambda: None

    def _list(self, a: Any, name: str, trace: bool) -> tuple[Any, str]:
        if type(a) in (list, tuple):
            parts = [self._list(x, f"{name}_{i}", trace) for i, x in enumerate(a)]
            return [p[0] for p in parts], "[" + ", ".join(p[1] for p in parts) + "]"
        if type(a) is Value or not isinstance(a, int | float):
            raise error(
                f"a list argument holding {type(a).__name__}",
                "pass lists of numbers (they become Values), or pass each Value as an argument of its own",
            )
        v = Value(a, requires_grad=False)
        if trace:
            var = Var(self.code.name(name))
            self.var[id(v)] = var
            self.keep.append(v)
            return v, var.text
        return v, ""

    def operand(self, x: Any) -> Expr:
        if type(x) is Value:
            var = self.var.get(id(x))
            return var if var is not None else self._leaf(x)
        return self.number(x)

    def number(self, x: float) -> Expr:
        """A Python number in the step: written as a literal if it is one in fn, else a listed constant."""
        x = float(x)
        if x in self.literals or x in (0.0, 1.0, -1.0) or x != x:
            return const(x)
        if x not in self.named:
            self.named[x] = self.code.constant(x, "c", "a Python number the step used, read at trace time")
        return named_const(self.named[x])

    def _leaf(self, v: Value) -> Expr:
        self.keep.append(v)
        label = self.names.get(id(v)) or v.name
        if v.requires_grad and v.order <= self.start:
            holder = self.code.param(v, label or "p")
            why = f"parameter {label}" if label else "a parameter"
            var = self._assign(label or "p", named_const(f"{holder}.data"), why, False)
            self.params[id(v)] = v
            self.watch.add(id(v))
            self.first_data[id(v)] = v.data
        elif v.order > self.start:
            name = self.code.constant(v.data, label or "k", "a Value made inside the step")
            self.var[id(v)] = named_const(name)  # type: ignore[assignment]
            return named_const(name)
        else:
            holder = self.code.ref(v, "V_" + (label or "k"))
            var = self._assign(label or "k", named_const(f"{holder}.data"), "a Value made outside the step", False)
            self.code.live.append(f"{holder}: a Value made outside fn (its .data now)")
        self.var[id(v)] = var
        return var

    # ------------------------------------------------------------------ forward

    def value_op(self, out: Any, op: str, a: Any, b: Any, const_: Any, many: Any, bias: Any) -> None:
        if self._current != "forward":
            self._block("forward")
        refuses = False
        if op == "max":  # softmax's shift (fused.shift_max): no gradient, just the number
            expr: Expr = call("max", *(self.operand(v) for v in many[0]))
            key = op
        elif many is not None:
            expr, key = self._weighted_sum(many, bias), "Σw·x"
            self.many[id(out)] = many
        else:
            needs = bool(b.requires_grad) if op == "**" else None  # (a Value exponent: check_pow asks)
            template = self._forward.get((op, needs))
            if template is None:  # the op's formula, run once on placeholders (see `fill`)
                template = self._forward[op, needs] = as_expr(forward(op, Sym(_A), Sym(_B), needs))
            refuses = _refuses(template)
            left = self.operand(a)
            if b is not None:
                expr = fill(template, {_A: left, _B: self.operand(b)})
            elif op[0] in "+*":  # a + c, a * c, a ** c: the constant c
                expr = fill(template, {_A: left, _B: self.number(const_)})
            else:
                expr = fill(template, {_A: left})
            key = "**" if op[1:2] == "*" else op
        # (a result made now is never among `names`, which names what existed before the trace)
        # An op that may refuse the replay's numbers is a statement of its own, where eager runs it: never
        # folded into a later line (after .grad or the parameters are written), nor dropped if unused.
        hint, doc = out.name or _WORD.get(key, "v"), _forward_docs.get(key) or _forward_doc(key)
        var = self._assign(hint, expr, doc, pure=not refuses)
        self.var[id(out)] = var
        self.keep.append(out)
        if not out.name:
            self.unnamed.append((out, var))

    def _weighted_sum(self, many: Any, bias: Any) -> Expr:
        """Σ wᵢ xᵢ + b in weighted_sum's order: the products, then the bias."""
        parents, local, _ = many
        partner = edge_partners(Sym(_OUT, "Σw·x", many))  # read as weighted_sum recorded it (a stand-in node)
        terms: list[Expr] = []
        k = 0
        while k < len(parents):
            if k in partner:  # a (w, x) pair of Values
                terms.append(binary("*", self.operand(parents[k]), self.operand(parents[k + 1])))
                k += 2
            elif k == len(parents) - 1 and local[k] == 1.0 and _is_bias(many, k):
                terms.append(self.operand(parents[k]))
                k += 1
            else:  # w times a number
                terms.append(binary("*", self.operand(parents[k]), self.number(local[k])))
                k += 1
        if bias is not None and type(bias) is not Value:
            terms.append(self.number(bias))
        return self._sum(terms, "partial")

    def _sum(self, terms: list[Expr], hint: str, start: Expr | None = None) -> Expr:
        """t₁ + t₂ + … left to right (as the eager engine adds them), cut into statements every CHUNK terms."""
        total = start
        for k, t in enumerate(terms):
            if total is not None and k % CHUNK == 0 and k:
                total = self._assign(hint, total)
            total = t if total is None else binary("+", total, t)
        return total if total is not None else const(0.0)

    # ------------------------------------------------------------------ backward

    def _adopt_names(self) -> None:
        """Results the step named after making them (`s_h1.name = "s_h1"`) take that name in the code."""
        for node, var in self.unnamed:
            if node.name:
                var.hint = node.name
                if var.text is not None:
                    var.text = self.code.name(node.name)
        self.unnamed = [(n, v) for n, v in self.unnamed if not n.name]

    def backward(self, root: Any, gradient: Any) -> None:
        """`Value.backward` written out: newest node first, each gradient the sum of local · g over its users."""
        self._adopt_names()
        self._block("backward")
        self.loss = root.name or "L"
        order = walk(root, grad_only=True)  # newest first, as Value.backward visits them
        if type(gradient) is Value:
            raise error("backward(gradient=<a Value>)", "pass the gradient as a number")
        grads: dict[Any, list[Expr]] = {root: [self.number(gradient)]}
        rules: dict[Any, list[str]] = {}
        for node in order:
            parents = node.parents
            if not parents:
                continue  # a leaf: its gradient is written below
            g = self._gradient(node, grads.get(node, []), rules.get(node, []))
            self.grad_of[id(node)] = g
            op, local = self._local_derivatives(node, parents)
            for parent, d in zip(parents, local):
                if parent.requires_grad:
                    # 1.0 * g and d * 1.0 are exact: skip them (x * 1.0 == x for every float)
                    term = g if d is _ONE else d if g is _ONE else binary("*", d, g)
                    if parent in grads:
                        grads[parent].append(term)
                        rules[parent].append(op)
                    else:
                        grads[parent], rules[parent] = [term], [op]
        for node in order:
            if not node.parents and node in grads:
                self._to_leaf(node, grads[node])

    def _local_derivatives(self, node: Any, parents: tuple[Any, ...]) -> tuple[str, Any]:
        """The op's rule (`RULES`, value.py's `@rule`) for this node, as expressions of its code's names.

        The rule runs once per op (and constant) on placeholders; each node fills in its own names.
        """
        many = self.many.get(id(node))
        if many is not None:  # Σw·x: the rule reads the node's edges, so it runs on this node's names
            out = Sym(self.var[id(node)], "Σw·x", (tuple(Sym(self.var[id(p)]) for p in many[0]), *many[1:]))
            return "Σw·x", [_one(as_expr(d)) for d in explore(lambda: RULES["Σw·x"](out, None, None))]
        op = node.op
        op = "**" if op[1:2] == "*" else op
        constant = node.constant if len(parents) == 1 else None
        key = (op, constant if constant != 0.0 else repr(constant))  # (0.0 and -0.0 print differently)
        template = self._rules.get(key)
        if template is None:
            b = Sym(_B) if constant is None else constant
            found = [_one(as_expr(d)) for d in explore(lambda: RULES[op](Sym(_OUT), Sym(_A), b))]
            if constant is not None:  # d(a * c)/da = c: the constant under the name the forward line gave it
                c = literal(constant)
                found = [self.number(constant) if d.kind == "const" and d.text == c else d for d in found]
            template = self._rules[key] = tuple(found)
        slots = {_OUT: self.var[id(node)], _A: self.var[id(parents[0])]}
        if len(parents) == 2:
            slots[_B] = self.var[id(parents[1])]
        return op, [fill(d, slots) for d in template]

    def _gradient(self, node: Any, terms: list[Expr], rules: list[str]) -> Expr:
        """dL/d(node): the sum of what its users passed down, named if it is more than a name."""
        total = self._sum(terms, "g_partial")
        if total.kind in ("var", "const"):
            return _one(total)
        var = self.var[id(node)]
        name = var.text or var.hint
        return self._assign(delta_name(name) or "g_" + name, total, rules)  # type: ignore[arg-type]

    def _to_leaf(self, leaf: Value, terms: list[Expr]) -> None:
        holder = self.holder.get(id(leaf))
        if holder is None and id(leaf) in self.params:
            holder = self.code.param(leaf, "p")
        if holder is None:
            return  # a constant made inside the step: its gradient dies with it, as in eager
        self.note_grad(leaf)
        start = named_const(f"{holder}.grad") if leaf.grad is not None else None
        total = self._sum(terms, "g_partial", start)
        self.stmts.append(_Stmt(f"{holder}.grad", total, f"∂{self.loss}/∂{self.var[id(leaf)].text}", pure=False))
        self.grad_written[id(leaf)] = leaf

    # ------------------------------------------------------------------ update

    def step(self, optimizer: Any) -> None:
        self._check_written("before optimizer.step()")
        self._block("update")
        name = self.code.ref(optimizer, "optimizer")
        holders = {key: self.holder.get(key) or self.code.param(p, "p") for key, p in self.grad_written.items()}
        lines = written_update(optimizer, holders, name, self.code.name, self.loss)
        if lines is None:  # a rule that reads its state (momentum, Adam): the optimizer's own step, every call
            rule = ((type(optimizer).__doc__ or "").strip().splitlines() or [type(optimizer).__name__])[0].rstrip(":")
            lines = [(f"{name}.step()", f"{rule}; its settings and state are read now")]
        for line, comment in lines:
            self._raw(line, comment)
        self.optimizers.append(optimizer)

    def write_grad(self, p: Any, g: Any) -> None:
        holder = self.code.param(p, self.names.get(id(p)) or p.name or "p")
        self._raw(f"{holder}.grad = {g if g is None or type(g) is int else literal(g)}", "set by hand in the step")

    def after_step(self, optimizer: Any) -> None:
        for key, p in self.params.items():
            self.first_data[key] = p.data
            self.var.pop(key, None)  # a later use reads the updated number

    def zero_grad(self, owner: Any) -> None:
        self.note_cleared(owner)
        if not self.stmts:
            self._block("forward")
        name = self.code.ref(owner, "optimizer" if hasattr(owner, "param_groups") else "model")
        self._raw(f"{name}.zero_grad()", "grad = None for every parameter")

    def _check_written(self, when: str) -> None:
        for key, p in self.params.items():
            if p.data != self.first_data[key] and not (
                p.data != p.data and self.first_data[key] != self.first_data[key]
            ):
                raise error(
                    f"parameter {self.names.get(key) or p.name or 'a Value'} was changed by hand ({when}: "
                    "p.data = ... or p.data -= lr * p.grad)",
                    "let an optimizer update it (opt = optim.SGD(params, lr=0.1); opt.step() inside the step), "
                    "so that the replay does the same",
                )

    def finish(self) -> None:
        self._check_written("in the step")
        for p in self.grad_written.values():
            if p.grad is None and id(p) not in self.hand_set:
                self._raw(f"{self.code.param(p, 'p')}.grad = None", "the step cleared this gradient")

    def number_check(self, check: Any, operands: tuple[Any, ...]) -> None:
        """A check on the numbers a function is given (number_checks.py): each replay runs it on its own."""
        if not any(type(x) is list and any(type(v) is Value for v in x) for x in operands):
            return  # constants only: they passed at trace time and cannot change
        as_array = self.code.ref(numbers, "numbers")
        parts = [
            call(as_array, *(self.operand(v) for v in x))
            if type(x) is list
            else named_const(repr(x) if type(x) in (int, float) else self.code.ref(x, "c"))
            for x in operands
        ]
        self._block("forward")
        self.stmts.append(
            _Stmt(None, call(self.code.ref(check, check.__name__.lstrip("_")), *parts), check_comment(check), False)
        )

    # ------------------------------------------------------------------ the return value and the text

    def result(self, x: Any) -> str:
        returns = self._returned(x)
        self._write()
        return returns

    def _returned(self, x: Any) -> str:
        if type(x) is Value:
            if id(x) in self.holder:
                return self.holder[id(x)]
            if id(x) in self.params:
                return self.code.param(x, "p")
            if id(x) not in self.var:
                return self.code.ref(x, "r")
            make = self.code.ref(_result, "_value")
            grad = self.grad_of.get(id(x))
            stmt = _Stmt(None, self.var[id(x)], "", pure=False)
            target = Var(self.code.name("result"), stmt)
            stmt.target = target
            stmt.expr = call(make, self.var[id(x)], grad if grad is not None else named_const("None"))
            self.stmts.append(stmt)
            return target.text
        text = container(x, self._returned)
        if text is not None:
            return text
        for p in (*self.grad_written.values(), *self.params.values()):
            if x is p.grad and type(x) is float:  # a parameter's gradient, returned as it is: each call's
                return f"{self.holder.get(id(p)) or self.code.param(p, 'p')}.grad"
        if x is None or isinstance(x, bool | int | float | str):
            return repr(x)
        return self.code.ref(x, "r")

    def _write(self) -> None:
        """Fold single-use values into their users (within DEPTH and SIZE), then print the statements."""
        self._adopt_names()
        for s in reversed(self.stmts):  # a value's users come after it: once reached, its count is final
            if type(s) is _Stmt and (s.uses or not s.pure or type(s.target) is not Var):
                s.refs = _count_uses(s.expr)
        for s in self.stmts:
            if type(s) is _Stmt and s.uses == 1 and s.pure and type(s.target) is Var and s.target.stmt is s:
                size, depth = s.expr.size, s.expr.depth
                for r in s.refs:  # the values folded into this one (a bound on the depth: at most this)
                    if r.inline:
                        size += r.size - 1
                        depth = max(depth, s.expr.depth + r.depth - 1)
                s.size, s.depth = size, depth
                s.inline = depth <= DEPTH and size <= SIZE

        def inline(v: Var) -> Expr | None:
            stmt = v.stmt
            return stmt.expr if stmt is not None and stmt.inline else None

        code = self.code
        for s in self.stmts:
            if type(s) is tuple:
                if s[0] == "block":
                    code.block(s[1])
                else:
                    code.emit(s[1], s[2])
            elif not s.inline and (s.uses > 0 or not s.pure or type(s.target) is not Var):
                target = s.target
                if type(target) is Var:
                    if target.text is None:
                        target.text = code.name(target.hint)
                    target = target.text
                comment = s.comment if type(s.comment) is str else "; ".join(map(_rule_doc, dict.fromkeys(s.comment)))
                assign = "" if target is None else f"{target} = "  # (a check: a call for what it raises)
                code.emit(f"{assign}{render(s.expr, inline)}", comment)


def _refuses(e: Expr) -> bool:
    """Whether `e` calls one of value_checks' checked functions (which raise where eager raises)."""
    todo = [e]
    while todo:
        e = todo.pop()
        if e.kind == "call" and e.text.startswith("checked_"):
            return True
        todo.extend(e.args)
    return False


_ONE = const(1.0)
_A, _B, _OUT = Var("a"), Var("b"), Var("out")  # the placeholders of the templates (`fill`)


def _one(e: Expr) -> Expr:
    """`e`, or the shared `_ONE` if it is the literal 1.0 (so `d is _ONE` finds the products to skip)."""
    return _ONE if e.kind == "const" and e.text == "1.0" else e


def _is_bias(many: Any, k: int) -> bool:
    """Whether edge k (the last, local 1.0, not part of a pair) is weighted_sum's bias edge."""
    pairs = many[2]
    paired = [True] * pairs if type(pairs) is int else list(pairs)
    edges = sum(2 if p else 1 for p in paired)
    return k >= edges


def _count_uses(e: Expr) -> list[_Stmt]:
    """Count one use of each statement `e` reads, and return those statements."""
    refs = []
    stack = [e]
    while stack:
        x = stack.pop()
        if x.kind == "var":
            stmt = x.stmt  # type: ignore[attr-defined]
            if stmt is not None:
                stmt.uses += 1
                refs.append(stmt)
        elif x.args:
            stack += x.args
    return refs


def _result(data: float, grad: Any) -> Value:
    """A returned Value as the eager step leaves it: its number and the gradient backward gave it."""
    v = Value(data)
    v.grad = grad
    return v
