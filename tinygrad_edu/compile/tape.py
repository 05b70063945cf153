"""Stand-in arrays that write down the NumPy calls made on them: how a formula becomes code.

At trace time an op's formula (`ops.py`, `formulas.py`) and the optimizer's update run once more on
`Staged` arrays: views of the real numbers that compute exactly as NumPy does, and record each NumPy
call they take part in (ufuncs, the array functions and methods the formulas use, indexing) as a
`Stmt`. The recorded statements are that op's code: the same calls, in the same order, on the same
dtypes, so replaying them gives the same bits; `buffers.py` then gives them preallocated outputs.
What a stand-in cannot write down faithfully (a value read into Python, a method it does not know,
an array from nowhere) marks the recording `impure`, and the generator keeps the op's own call.
"""

from __future__ import annotations

import inspect
import math
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

Array = np.ndarray


def layout(a: Array) -> str:
    """How an array lies in memory: "C" (row by row), "F" (column by column) or, for any other, its strides.
    A sum over an axis or a matrix product adds the same numbers in another order when they lie otherwise
    (NumPy and BLAS take other paths), so a trace holds to the layouts it saw."""
    flags = a.flags
    return "C" if flags.c_contiguous else "F" if flags.f_contiguous else f"strides {a.strides}"


class Var:
    """One array value of the generated code: its name, the storage (memory) it lives in, and how it lay
    there at trace time (`order`: `layout`'s answer)."""

    __slots__ = ("dtype", "name", "order", "shape", "storage", "temp")

    def __init__(self, name: str, storage: Storage, array: Array) -> None:
        self.name, self.storage, self.shape, self.dtype = name, storage, array.shape, array.dtype
        self.order = layout(array)
        self.temp = False  # named t, t_2, ... by the tape: a better name may come (a formula's local variable)


class Storage:
    """An array's memory: `kind` is "planned" (a call may write it into a buffer), "fresh" (allocated at
    every replay), "external" (a parameter, an input, a constant) or "pinned" (read by code the planner
    cannot see into: kept as it is). `root` is the statement that allocates it. `fixed`: it holds the
    same numbers at every replay, so far (a constant, the seed dL/dL = 1, a result made from those only).
    `array`: an external storage's array at trace time (which memory two of them share: layouts.py)."""

    __slots__ = ("array", "buffer", "fixed", "kind", "last", "root")

    def __init__(self, kind: str, root: Stmt | None = None) -> None:
        self.kind, self.root, self.last, self.buffer, self.fixed = kind, root, -1, None, False
        self.array: Array | None = None


class Stmt:
    """One NumPy call: `call(args)` with the result bound to `result` (or writing `writes` in place)."""

    __slots__ = ("args", "comment", "form", "func", "indent", "kwargs", "made", "outable", "result", "scalar", "writes")

    def __init__(self, form: str, func: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        self.form, self.func, self.args, self.kwargs = form, func, args, kwargs  # form: call, method, attr, get, set
        self.result: Var | None = None
        self.writes: Var | None = None
        self.outable = False  # the call takes `out=`: its result can be written into a buffer
        self.comment = ""
        self.indent = ""
        self.scalar = False  # NumPy gives a scalar here (a full reduction): without a buffer, made an array
        self.made: Any = None  # what an array maker (np.arange, np.zeros) made: a constant, unless written into

    def reads(self) -> Iterator[Var]:
        yield from variables(self.args)
        yield from variables(list(self.kwargs.values()))


class Text:
    """A line the tape did not record (a parameter read, `.grad = g`, an op's own call): what it reads."""

    __slots__ = ("comment", "indent", "line", "reads", "results")

    def __init__(self, line: str, comment: str, reads: list[Var], results: list[Var]) -> None:
        self.line, self.comment, self.reads, self.results = line, comment, reads, results
        self.indent = ""


def variables(items: list[Any]) -> Iterator[Var]:
    for item in items:
        if type(item) is Var:
            yield item
        elif type(item) in (tuple, list):
            yield from variables(list(item))
        elif type(item) is slice:
            yield from variables([item.start, item.stop, item.step])


class Named(float):
    """A Python number the code reads at every replay (a learning rate), written as its `text`."""

    text: str

    def __new__(cls, value: float, text: str) -> Named:
        self = super().__new__(cls, value)
        self.text = text
        return self


def _number_op(name: str) -> Callable[..., Any]:
    def op(self: Named, other: Any) -> Any:
        if isinstance(other, np.ndarray):
            return NotImplemented  # the array's reflected operator records it
        _active().impure = f"Python arithmetic on {self.text}"  # the result would be frozen as a number
        return getattr(float(self), name)(other)

    return op


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow"):
    for _name in (f"__{_op}__", f"__r{_op}__"):
        setattr(Named, _name, _number_op(_name))


# ---------------------------------------------------------------------- the stand-in array


class Staged(np.ndarray):
    """An array that records the NumPy calls it takes part in on the active tape."""

    var: Var | None = None  # None: made by a call the tape did not see (using it makes the recording impure)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return _active().ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return _active().function(func, args, kwargs)

    def __getitem__(self, index: Any) -> Any:
        return _active().call("get", "", (self, index), {}, lambda: plain(self)[_plain_all(index)])

    def __setitem__(self, index: Any, value: Any) -> None:
        tape = _active()
        tape.call("set", "", (self, index, value), {}, _on_plain(plain(self).__setitem__, (index, value), {}))
        tape.wrote(self.var)

    @property
    def T(self) -> Any:  # noqa: N802 (NumPy's name)
        return _active().call("attr", "T", (self,), {}, lambda: plain(self).T)


def _method(name: str, outable: bool) -> Callable[..., Any]:
    def method(self: Staged, *args: Any, **kwargs: Any) -> Any:
        tape = _active()
        if "out" in kwargs:
            tape.impure = f".{name}(out=...) is not one the tape writes"
        out = tape.call("method", name, (self, *args), kwargs, _on_plain(getattr(plain(self), name), args, kwargs))
        tape.last.outable = outable and tape.last.result is not None
        return out

    return method


for _name in ("sum", "mean", "max", "min", "prod", "all", "any", "copy"):  # (a copy into a buffer: np.copyto)
    setattr(Staged, _name, _method(_name, outable=True))
for _name in ("reshape", "swapaxes", "transpose", "squeeze", "ravel", "astype", "view"):
    setattr(Staged, _name, _method(_name, outable=False))


def _read(name: str) -> Callable[..., Any]:
    def read(self: Staged, *args: Any, **kwargs: Any) -> Any:
        tape = getattr(_local, "tape", None)
        if tape is not None:  # (outside a recording, a debugger's repr)
            tape.impure = f"{name}() reads an array into Python"
        return getattr(plain(self), name)(*args, **kwargs)

    return read


for _name in ("__bool__", "__float__", "__int__", "__index__", "__complex__", "item", "tolist", "__iter__"):
    setattr(Staged, _name, _read(_name))
for _name in ("fill", "sort", "put", "resize", "itemset", "partition", "__repr__", "__str__", "__format__"):
    setattr(Staged, _name, _read(_name))


def plain(x: Any) -> Any:
    return np.ndarray.view(x, np.ndarray) if isinstance(x, Staged) else x


def _on_plain(f: Callable[..., Any], args: Any, kwargs: dict[str, Any]) -> Callable[[], Any]:
    """`f` called on the real arrays behind the stand-ins (what the recorded call computes)."""
    return lambda: f(*_plain_all(args), **_plain_all(kwargs))


def _plain_all(x: Any) -> Any:
    if isinstance(x, Staged):
        return np.ndarray.view(x, np.ndarray)
    if type(x) is Named:
        return float(x)  # a plain float: NumPy treats it as a weak Python number, as the eager step does
    if type(x) in (tuple, list):
        return type(x)(_plain_all(i) for i in x)
    if type(x) is dict:
        return {k: _plain_all(v) for k, v in x.items()}
    if type(x) is slice:
        return slice(_plain_all(x.start), _plain_all(x.stop), _plain_all(x.step))
    return x


# ---------------------------------------------------------------------- the tape

_local = threading.local()
_asarray, _array = np.asarray, np.array  # (the tape's own use: never recorded, even while they are swapped)
_CREATORS = ("arange", "zeros", "ones", "empty", "full", "asarray", "array", "ascontiguousarray")
_METADATA = {np.shape, np.ndim, np.result_type, np.size}


def _active() -> Tape:
    return _local.tape  # (a stand-in is only ever used inside `Tape.recording`)


class Tape:
    """Statements recorded in order, and the first reason (if any) the recording cannot be trusted."""

    def __init__(self, name: Callable[[str], str], constant: Callable[[Any], str]) -> None:
        self.name = name  # a fresh variable name from a hint (Code.name)
        self.constant = constant  # source text for a value frozen into the code (Code.constant)
        self.items: list[Stmt | Text] = []
        self.impure = ""
        self.depth = 0  # > 0 inside NumPy, called by a recorder: what NumPy does there is not recorded
        self.last: Stmt = Stmt("call", "", [], {})
        self.hint = "t"
        self.indent = ""  # "    " inside the `else:` of a guarded update
        self.originals = {name: getattr(np, name) for name in _CREATORS}
        self.watch: Any = None  # the code object of the formula whose locals name values (names_from)
        self.frame: Any = None

    # -------------------------------------------------------------- values

    def stage(self, array: Any, name: str, kind: str, root: Stmt | None = None) -> Staged:
        """`array` as a stand-in holding a new variable `name` in a new storage of `kind`."""
        array = _asarray(plain(array))
        staged = np.ndarray.view(array, Staged)
        staged.var = Var(name, Storage(kind, root), array)
        if kind == "external":
            staged.var.storage.array = array
        return staged

    def alias(self, array: Any, name: str, storage: Storage) -> Staged:
        staged = np.ndarray.view(_asarray(plain(array)), Staged)
        staged.var = Var(name, storage, staged)
        return staged

    def block(self, title: str) -> None:
        self.items.append(Text("", title, [], []))  # (an empty line: a block header)

    def text(self, line: str, comment: str = "", reads: tuple[Any, ...] = ()) -> Text:
        item = Text(line, comment, [x.var for x in reads if isinstance(x, Staged) and x.var is not None], [])
        item.indent = self.indent
        self.items.append(item)
        return item

    @contextmanager
    def recording(self, hint: str) -> Iterator[Tape]:
        """Make this the active tape while a formula runs; NumPy's array makers (`np.zeros`, ...) record too."""
        outer = getattr(_local, "tape", None)
        _local.tape, self.hint = self, hint
        if outer is None:  # (makers made here, not kept: a tape holding closures over itself would be a
            owner = threading.get_ident()  # cycle, its statements freed only by the cyclic collector)
            for name, original in self.originals.items():
                setattr(np, name, self._creator(name, original, owner))
        try:
            yield self
        finally:
            if outer is None:
                for name, original in self.originals.items():
                    setattr(np, name, original)
            _local.tape = outer

    def _creator(self, name: str, original: Callable[..., Any], owner: int) -> Callable[..., Any]:
        def create(*args: Any, **kwargs: Any) -> Any:
            if self.depth or threading.get_ident() != owner:
                return original(*args, **kwargs)
            staged = any(isinstance(a, Staged) for a in _leaves(args))
            if name in ("asarray", "array", "ascontiguousarray") and not staged and _is_array(args[0]):
                return original(*args, **kwargs)  # (an array from elsewhere: used as an argument, it is refused)
            out = self.call("call", f"np.{name}", args, kwargs, _on_plain(original, args, kwargs))
            made = not staged and name != "empty" and not _live(self.last)
            if made and isinstance(out, Staged) and out.var.storage.root is self.last:
                self.last.made = _array(plain(out))  # made from literals only: a constant, unless written into
                out.var.storage.fixed = True
            return out

        return create

    @contextmanager
    def names_from(self, function: Any) -> Iterator[None]:
        """Name the values `function` makes after its own local variables (`shifted`, `e`, `total`)."""
        self.watch, self.frame = getattr(inspect.unwrap(function), "__code__", None), None
        try:
            yield
        finally:
            frame, self.watch, self.frame = self.frame, None, None
            if frame is not None:  # (a finished frame keeps its locals as they were at its return)
                for local, value in frame.f_locals.items():
                    var = value.var if isinstance(value, Staged) else None
                    if var is not None and var.temp and local not in ("out", "result"):
                        var.name, var.temp = self.name(local), False

    def _find_frame(self) -> None:
        """The frame of the watched function, found from the first call it records."""
        frame = sys._getframe(2)
        for _ in range(8):
            if frame is None or frame.f_code is self.watch:
                self.frame = frame
                return
            frame = frame.f_back

    def release(self) -> None:
        """The code is written: unlink each storage from the statement that made it (storage → statement →
        variable → storage is a cycle), so reference counting frees the tape, not the cyclic collector."""
        for item in self.items:
            if type(item) is Stmt and item.result is not None:
                item.result.storage.root = None

    # -------------------------------------------------------------- recording

    def ufunc(self, ufunc: Any, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if getattr(np, ufunc.__name__, None) is not ufunc or ufunc.nout != 1:
            self.impure = f"NumPy's {ufunc.__name__} is not one the tape writes"
        func = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        out = kwargs.get("out")
        if out is not None:
            out = out[0] if type(out) is tuple else out
            kwargs = {**kwargs, "out": out}

        def run() -> Any:
            return getattr(ufunc, method)(*_plain_all(inputs), **_plain_all(kwargs))

        if out is not None or method == "at":
            target = out if out is not None else inputs[0]
            self.call("call", func, inputs, kwargs, run, result=False)
            self.wrote(target.var if isinstance(target, Staged) else None)
            if self.last.writes is None:
                self.impure = f"{func} writes into an array the tape does not know"
            return target if method != "at" else None
        result = self.call("call", func, inputs, kwargs, run)
        self.last.outable = method in ("__call__", "reduce", "accumulate")
        return result

    def function(self, func: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        if getattr(np, func.__name__, None) is not func:
            self.impure = f"numpy {func.__name__} is not one the tape writes"
        if func in _METADATA:
            self.depth += 1
            try:
                return func(*_plain_all(args), **_plain_all(kwargs))
            finally:
                self.depth -= 1
        return self.call("call", f"np.{func.__name__}", args, kwargs, _on_plain(func, args, kwargs))

    def call(self, form: str, func: str, args: Any, kwargs: dict, run: Callable[[], Any], result: bool = True) -> Any:
        """Run one NumPy call on the real arrays and record it; its result is a new variable or a view."""
        if self.watch is not None and self.frame is None:
            self._find_frame()
        stmt = Stmt(form, func, [self.argument(a) for a in args], {k: self.argument(v) for k, v in kwargs.items()})
        self.depth += 1
        try:
            value = run()
        finally:
            self.depth -= 1
        stmt.indent = self.indent
        self.items.append(stmt)
        self.last = stmt
        if not result or value is None:
            return value
        if isinstance(value, np.generic):
            value, stmt.scalar = _asarray(value), True  # a NumPy scalar: a 0-d array of the same dtype
        if not isinstance(value, np.ndarray):
            self.impure = f"{func or form} gave a {type(value).__name__}, not an array"
            return value
        base = self._base_of(value, args)
        name = self.name(self.hint)
        staged = self.alias(value, name, base) if base is not None else self.stage(value, name, "planned", stmt)
        stmt.result = staged.var
        staged.var.temp = True
        reads = list(stmt.reads())
        if base is None and reads and all(var.storage.fixed for var in reads) and not _live(stmt):  # fixed only:
            staged.var.storage.fixed, stmt.made = True, _array(value)  # a constant too, unless written into
        if func == "np.empty" or (func in ("np.zeros", "np.ones") and "dtype" in kwargs):
            stmt.outable = True  # a buffer serves: np.empty's numbers are any; zeros and ones are filled in
        return staged

    def wrote(self, var: Var | None) -> None:
        """The last call wrote into `var` in place: from here on its numbers are the replay's own."""
        self.last.writes = var
        if var is not None:
            if var.storage.fixed and var.storage.kind == "external":  # (`one`, a constant: shared by every call)
                self.impure = "a formula writes into a constant of the trace"
            var.storage.fixed = False

    def _base_of(self, value: Array, args: Any) -> Storage | None:
        """The storage `value` shares memory with (a view), or None (new memory)."""
        for a in _leaves(args):
            if isinstance(a, Staged) and a.var is not None and np.may_share_memory(plain(value), plain(a)):
                return a.var.storage
        return None

    def argument(self, a: Any) -> Any:
        """An argument as what rendering needs: a Var, a structure of them, or source text (`Source`)."""
        if isinstance(a, Staged):
            if a.var is None:
                self.impure = "an array made by a call the tape did not see"
                return Source("?")
            return a.var
        if type(a) in (tuple, list):
            return type(a)(self.argument(i) for i in a)
        if type(a) is slice:
            return slice(self.argument(a.start), self.argument(a.stop), self.argument(a.step))
        if type(a) is Named:
            return Live(a.text)
        if a is None or a is Ellipsis or type(a) in (bool, int, str):
            return Source(repr(a) if a is not Ellipsis else "...")
        if type(a) is float:
            return Source(repr(a) if math.isfinite(a) else f"float({str(a)!r})")
        if (isinstance(a, type) and issubclass(a, np.generic)) or isinstance(a, np.dtype):
            return Source(f"np.{np.dtype(a).name}")
        if isinstance(a, np.ndarray):
            self.impure = "an array from outside the tape"
            return Source("?")
        return Source(self.constant(a))


class Source(str):
    """Source text standing for an argument (a literal, a constant's name)."""


class Live(Source):
    """Source text for a number read at every replay (a learning rate): what reads it is never made once."""


def _live(stmt: Stmt) -> bool:
    parts = (
        p for a in _leaves([stmt.args, stmt.kwargs]) for p in ((a.start, a.stop, a.step) if type(a) is slice else (a,))
    )
    return any(type(p) is Live for p in parts)


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or (type(x) in (list, tuple) and any(isinstance(i, np.ndarray) for i in x))


def _leaves(x: Any) -> Iterator[Any]:
    if type(x) in (tuple, list):
        for i in x:
            yield from _leaves(i)
    elif type(x) is dict:
        for i in x.values():
            yield from _leaves(i)
    else:
        yield x
