"""The text of a compiled step: names, constants, three labelled blocks, and the namespace it runs in.

Both generators (`tensor_code`, `scalar_code`) write into one `Code`: it hands out readable,
unique variable names (`w5`, `a_h1`, `g_w5`), keeps the objects the code refers to (parameters,
optimizers, op classes) in the namespace it will run in, lists the Python numbers and arrays the
step read at trace time at the top of the source, and groups statements under `# forward`,
`# backward` and `# update` headers in the order the step ran them.
"""

from __future__ import annotations

import builtins
import functools
import keyword
import math
import re
from typing import Any

import numpy as np

from ..value_checks import checked_exp, checked_log, checked_pow

_NOT_NAME = re.compile(r"\W")


@functools.lru_cache(maxsize=4096)
def identifier(text: str) -> str:
    """`layers.0.weight` -> `layers_0_weight`; Greek letters stay (Python allows them: δ_o1)."""
    name = _NOT_NAME.sub("_", text).strip("_") or "v"
    if name[0].isdigit():
        name = "v" + name
    return name + "_" if keyword.iskeyword(name) else name


def literal(x: float) -> str:
    """A float as source text that reads back to exactly the same float."""
    if math.isnan(x):
        return "math.nan"
    if math.isinf(x):
        return "math.inf" if x > 0 else "-math.inf"
    return repr(float(x))


def container(x: Any, write: Any) -> str | None:
    """Source that rebuilds a tuple, list or dict the step returns, each item written by `write`; None otherwise."""
    if type(x) in (tuple, list):
        items = [write(i) for i in x]
        if type(x) is tuple:
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        return f"[{', '.join(items)}]"
    if type(x) is dict:
        return "{" + ", ".join(f"{k!r}: {write(v)}" for k, v in x.items()) + "}"
    return None


class Attributes:
    """What the code reads as `params.w5` or `np.multiply`: a plain object, whose attributes Python reads in
    half the time of a module's or a SimpleNamespace's (12 against 24 ns; the digits step reads about a
    hundred per call, 2-3 µs of its 80). A module's public names are copied in (`Attributes.of(np)`)."""

    def __init__(self, **names: Any) -> None:
        self.__dict__.update(names)

    @classmethod
    def of(cls, module: Any) -> Attributes:
        return cls(**{name: value for name, value in vars(module).items() if not name.startswith("_")})


_NUMPY, _MATH = Attributes.of(np), Attributes.of(math)  # (shared: the code only reads them)
# the scalar engine's ops that refuse some numbers, as eager runs them (value_checks.py)
_CHECKED = {f.__name__: f for f in (checked_exp, checked_log, checked_pow)}


class Code:
    """Statements under block headers, the names they use, and the objects they refer to."""

    def __init__(self, fn_name: str, params: list[str]) -> None:
        self.fn_name = fn_name
        self.params = params
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {"np": _NUMPY, "math": _MATH, **_CHECKED}
        self.constants: list[str] = []  # header lines: what the trace froze
        self.live: list[str] = []  # header lines: what each replay reads afresh
        self._used: set[str] = set(self.namespace) | set(params) | {fn_name, "params"} | set(dir(builtins))
        self._next: dict[str, int] = {}
        self._objects: dict[int, str] = {}
        self._block = ""

    def name(self, hint: str) -> str:
        """A fresh variable name from `hint`: `a_h1`, then `a_h1_2`, ..."""
        base = identifier(hint)
        name, k = base, self._next.get(base, 1)
        while name in self._used:
            k += 1
            name = f"{base}_{k}"
        self._next[base] = k
        self._used.add(name)
        return name

    def param(self, obj: Any, hint: str) -> str:
        """`params.<name>`: how the code reaches a parameter object (a Tensor or a Value) of the model."""
        key = id(obj)
        if key not in self._objects:
            holder = self.namespace.setdefault("params", Attributes())
            name, k = identifier(hint), 1
            while name in vars(holder):
                k += 1
                name = f"{identifier(hint)}_{k}"
            self._objects[key] = f"params.{name}"
            setattr(holder, name, obj)
        return self._objects[key]

    def ref(self, obj: Any, hint: str) -> str:
        """The name under which the code reaches `obj` (an optimizer, a parameter, an op class, a helper)."""
        key = id(obj)
        if key not in self._objects:
            name = hint if hint not in self._used else self.name(hint)
            self._used.add(name)
            self._objects[key] = name
            self.namespace[name] = obj
        return self._objects[key]

    def constant(self, value: Any, hint: str, why: str) -> str:
        """A value the trace froze (a Python number, an array made inside the step): named, listed at the top."""
        if isinstance(value, float | int) and not isinstance(value, bool):
            name = self.name(hint)
            self.namespace[name] = value
            self.constants.append(f"{name} = {value!r}  # {why}")
            return name
        if id(value) in self._objects:  # (listed once, however often the step uses it)
            return self._objects[id(value)]
        name = self.ref(value, identifier(hint))
        shape = f"array{tuple(np.shape(value))} {np.result_type(value)}" if hasattr(value, "shape") else repr(value)
        if np.ndim(value) == 0 and hasattr(value, "shape"):
            shape = f"{np.asarray(value)!s} (a 0-d {np.result_type(value)} array)"
        self.constants.append(f"{name}: {shape}  # {why}")
        return name

    @property
    def current(self) -> str:
        """The block being written ("" before the first)."""
        return self._block

    def block(self, title: str) -> None:
        """Start a labelled block (`forward`, `backward`, `update`), unless it is the current one."""
        if title != self._block:
            self._block = title
            self.lines.append("")
            self.lines.append(f"# ---- {title}")

    def emit(self, line: str, comment: str = "") -> None:
        self.lines.append(f"{line}  # {comment}" if comment else line)

    def source(self, doc: str, returns: str) -> str:
        head = [f"# {doc}"]
        if self.constants:
            head.append("# Constants of this trace (values fn read at trace time; pass what changes as an argument):")
            head += [f"#   {c}" for c in self.constants]
        if self.live:
            head.append("# Read afresh at every call:")
            head += [f"#   {c}" for c in self.live]
        body = [("    " + line) if line else "" for line in self.lines]
        return "\n".join([*head, f"def {self.fn_name}({', '.join(self.params)}):", *body, f"    return {returns}", ""])


def check_comment(check: Any) -> str:
    """The comment on a replayed check on numbers (number_checks.py): what it checks, from its docstring."""
    what = check.__doc__.strip().splitlines()[0] if check.__doc__ else check.__name__
    return f"checked at each call, as in eager: {what}"
