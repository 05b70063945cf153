"""Output buffers for the recorded NumPy calls, reused once a value is dead, and the code as text.

A call that allocates its result and accepts `out=` (a ufunc, a reduction) gets a buffer made once,
at trace time: `np.multiply(a, b, out=buf_3)` computes exactly what `a * b` does, into memory that
is already there. Liveness over the straight-line code decides reuse: a buffer returns to the pool
after the last statement that reads any value living in it (a view keeps its base alive), and the
next call wanting that dtype and at most that many numbers takes it, through a view of its shape made
once (the smallest that fits, the latest freed: fewer bytes to keep in cache, as malloc's reuse does).
Arrays that leave the step (a `.grad`, the returned loss, an optimizer's state) or that code outside
the tape reads are allocated afresh at each replay, as the eager step does: a user may keep them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .code import Code
from .tape import Source, Stmt, Storage, Text, Var


def plan(items: list[Stmt | Text], code: Code) -> int:
    """Give each planned storage a buffer (a name in `code`'s namespace); returns how many were made."""
    for i, item in enumerate(items):
        for var in item.reads() if type(item) is Stmt else item.reads:
            var.storage.last = i
            if type(item) is Text and var.storage.kind == "planned":
                var.storage.kind = "pinned"  # read by code the planner cannot see into: never reused
        if type(item) is Stmt:
            if item.writes is not None:
                item.writes.storage.last = i
            if item.result is not None:
                storage = item.result.storage
                storage.last = max(storage.last, i)
                row_major = item.result.order == "C"  # (as a buffer is; any other value is made as eager made it)
                if storage.root is item and storage.kind == "planned" and (not item.outable or not row_major):
                    storage.kind = "fresh"
        elif item.results:
            for var in item.results:
                var.storage.last = max(var.storage.last, i)
    _constants(items, code)
    free: dict[str, list[np.ndarray]] = {}  # dtype -> the buffers no live value uses, the latest freed last
    block: dict[int, np.ndarray] = {}  # id(storage) -> the buffer its value lives in
    dying: dict[int, list[Storage]] = {}
    made = 0
    for i, item in enumerate(items):
        if type(item) is Stmt and item.result is not None:
            storage = item.result.storage
            taken = _dead_copy_source(item, i)
            if taken is not None:  # a copy of a value read nowhere after: it takes the value's buffer
                storage.buffer, item.form = taken.buffer, "alias"
                block[id(storage)] = block.pop(id(taken))
                dying[i].remove(taken)
                dying.setdefault(storage.last, []).append(storage)
            elif storage.root is item and storage.kind == "planned":
                shape, dtype = item.result.shape, item.result.dtype
                size = math.prod(shape)
                base = _fitting(free.get(dtype.str, []), size)
                if base is None:
                    base = np.empty(shape, dtype)
                    made += 1
                block[id(storage)] = base
                view = base if base.shape == shape else base.reshape(-1)[:size].reshape(shape)
                storage.buffer = code.ref(view, "buf")
                dying.setdefault(storage.last, []).append(storage)
        for storage in dying.pop(i, ()):
            free.setdefault(storage.root.result.dtype.str, []).append(block.pop(id(storage)))
    return made


def _fitting(pool: list[np.ndarray], size: int) -> np.ndarray | None:
    """The free buffer to hold `size` numbers: the smallest that holds them, the most recently freed of
    equals (its memory is the likeliest still in the CPU's cache, as malloc's reuse keeps it); taken out."""
    best = None
    for k in range(len(pool) - 1, -1, -1):
        if pool[k].size >= size and (best is None or pool[k].size < pool[best].size):
            best = k
    return None if best is None else pool.pop(best)


def _dead_copy_source(item: Stmt, i: int) -> Storage | None:
    """The storage of `x` in `t = x.copy()` when statement `i` is the last to read it and both live in
    buffers of the step's own: then `t = x` gives the same numbers without the copy."""
    if item.form != "method" or item.func != "copy" or type(item.args[0]) is not Var or item.kwargs:
        return None
    source, storage = item.args[0].storage, item.result.storage
    whole = source.root is not None and source.root.result is item.args[0]  # the value itself, not a view of it
    if whole and source.kind == storage.kind == "planned" and source.last == i and source.buffer is not None:
        return source if storage.root is item else None
    return None


def _constants(items: list[Stmt | Text], code: Code) -> None:
    """A result made from fixed numbers only (`np.arange(32)`, `g / 32` where g is the seed dL/dL = 1) that
    nothing writes into and nothing outside the tape reads is made once, at trace time, as a constant."""
    written = {id(item.writes.storage) for item in items if type(item) is Stmt and item.writes is not None}
    for item in items:
        if type(item) is Stmt and item.made is not None and item.result is not None:
            storage = item.result.storage
            if id(storage) not in written and storage.kind in ("planned", "fresh"):
                call = statement(item).partition(" = ")[2]
                if item.scalar and call.startswith("np.asarray("):
                    call = call[len("np.asarray(") : -1]  # (a NumPy scalar made an array: the call is the same)
                hint = (
                    ("c" if list(item.reads()) else item.func.rpartition(".")[2])
                    if item.result.temp
                    else item.result.name
                )
                item.result.name = code.constant(item.made, hint, f"{call}, made once")
                storage.kind, item.form = "external", "const"


def render(items: list[Stmt | Text], code: Code) -> None:
    """Write the items into `code`: one line per NumPy call, under the block headers."""
    readers: dict[int, int] = {}
    for item in items:  # (a line of text counts as many readers: its text already holds the names)
        for var in item.reads() if type(item) is Stmt else item.reads:
            readers[id(var)] = readers.get(id(var), 0) + (1 if type(item) is Stmt else 2)
    made = {id(item.result) for item in items if type(item) is Stmt and item.result is not None}
    for item in reversed(items):  # np.asarray of an array: the array itself (named as the result, if only read here)
        if type(item) is Stmt and _no_op(item):
            if readers.get(id(item.args[0]), 0) == 1 and id(item.args[0]) in made:
                item.args[0].name = item.result.name
            item.result.name, item.form = item.args[0].name, "const"
    for item in items:
        if type(item) is Stmt and item.form == "attr" and readers.get(id(item.result), 0) == 1:
            item.result.name, item.form = statement(item).partition(" = ")[2], "const"  # `W1.T`, where it is used
    for item in items:
        if type(item) is Text:
            if item.line:
                code.emit(item.indent + item.line, item.comment)
            elif item.comment.startswith("#"):
                code.emit(item.comment)
            else:
                code.block(item.comment)
            continue
        if item.form != "const":
            code.emit(item.indent + statement(item), item.comment)


def _no_op(stmt: Stmt) -> bool:
    """`np.asarray(a)` (or with a's own dtype): every variable of the code is an array at replay (a NumPy
    scalar is made one where it arises), so this gives `a` itself."""
    if stmt.func != "np.asarray" or len(stmt.args) != 1 or type(stmt.args[0]) is not Var or stmt.result is None:
        return False
    dtype = stmt.kwargs.get("dtype")
    return set(stmt.kwargs) <= {"dtype"} and (dtype is None or dtype == f"np.{stmt.args[0].dtype.name}")


def statement(stmt: Stmt) -> str:
    """`name = np.add(a, b, out=buf_2)`, `x.sum(axis=0)`, `a[rows, y] = t`: one recorded call as source."""
    args = [arg(a) for a in stmt.args]
    kwargs = [f"{k}={arg(v)}" for k, v in stmt.kwargs.items()]
    storage = stmt.result.storage if stmt.result is not None else None
    if storage is not None and storage.root is stmt and storage.buffer is not None:
        name, buffer = stmt.result.name, storage.buffer
        if stmt.form == "method" and stmt.func == "copy":  # the same numbers, copied into the buffer
            return f"{name} = {buffer}; np.copyto({name}, {args[0]})"
        if stmt.func in ("np.empty", "np.zeros", "np.ones"):  # a new array's numbers, in the buffer
            fill = {"np.empty": "", "np.zeros": f"; {name}.fill(0)", "np.ones": f"; {name}.fill(1)"}[stmt.func]
            return f"{name} = {buffer}{fill}"
        kwargs.append(f"out={storage.buffer}")
    if _in_place(stmt):
        return f"{args[0]} {_IN_PLACE[stmt.func]}= {args[1]}"  # the same call, as NumPy's operator makes it
    if stmt.form == "alias":
        return f"{stmt.result.name} = {args[0]}  # ({args[0]} is not read again: its buffer, not a copy)"
    if stmt.form == "set":
        return f"{args[0]}[{index(stmt.args[1])}] = {args[2]}"
    if stmt.form == "get":
        text = f"{args[0]}[{index(stmt.args[1])}]"
    elif stmt.form == "attr":
        text = f"{args[0]}.{stmt.func}"
    elif stmt.form == "method" and stmt.func == "sum":  # what ndarray.sum calls, without its Python wrapper
        axis = [] if len(args) > 1 or "axis" in stmt.kwargs else ["axis=None"]  # (sum's default; reduce's is 0)
        text = f"np.add.reduce({', '.join(args + axis + kwargs)})"
    elif stmt.form == "method":
        text = f"{args[0]}.{stmt.func}({', '.join(args[1:] + kwargs)})"
    else:
        text = f"{stmt.func}({', '.join(args + kwargs)})"
    if stmt.scalar and (storage is None or storage.buffer is None):
        text = f"np.asarray({text})"  # the trace held a 0-d array here, as the code that follows expects
    return text if stmt.result is None else f"{stmt.result.name} = {text}"


# `x op= y` is `np.<ufunc>(x, y, out=x)` (ndarray's in-place operators call exactly that), reads as the
# maths does, and skips the keyword argument and the attribute lookup: 40-50 ns a call
_IN_PLACE = {"np.add": "+", "np.subtract": "-", "np.multiply": "*", "np.divide": "/", "np.true_divide": "/"}
_IN_PLACE |= {"np.power": "**", "np.floor_divide": "//", "np.remainder": "%"}


def _in_place(stmt: Stmt) -> bool:
    """`np.add(x, y, out=x)` and its kin: written `x += y`."""
    if stmt.result is not None or stmt.form != "call" or stmt.func not in _IN_PLACE or len(stmt.args) != 2:
        return False
    return set(stmt.kwargs) == {"out"} and stmt.kwargs["out"] is stmt.args[0]


def arg(a: Any) -> str:
    if type(a) is Var:
        return a.name
    if isinstance(a, Source):  # (a Live one too)
        return str(a)
    if type(a) is tuple:
        return f"({arg(a[0])},)" if len(a) == 1 else f"({', '.join(arg(i) for i in a)})"
    if type(a) is list:
        return f"[{', '.join(arg(i) for i in a)}]"
    if type(a) is slice:
        return f"slice({arg(a.start)}, {arg(a.stop)}, {arg(a.step)})"
    return repr(a)


def index(a: Any) -> str:
    """An index as written inside [ ]: slices as `a:b`, a tuple without its parentheses."""

    def one(i: Any) -> str:
        if type(i) is slice:
            parts = ["" if v == Source("None") else arg(v) for v in (i.start, i.stop, i.step)]
            return ":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else "")
        return arg(i)

    if type(a) is tuple:
        return ", ".join(one(i) for i in a) if a else "()"
    return one(a)
