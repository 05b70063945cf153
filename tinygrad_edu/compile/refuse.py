"""What a compiled step refuses while it is traced, and the message that says what to write instead.

A replay runs generated code, not `fn`: anything `fn` reads into Python from a traced value
(`float(loss)`, `if x.item() > 0`, `loss.data`), draws at random, or writes in place by hand would
be frozen at its first value and the step would silently compute something else. So, as `jax.jit`
does, the trace refuses them with a `CompileError` naming the line of `fn`. The engine itself may
read traced arrays (shape checks, the ops' own formulas): only reads from outside the engine count.
A check on the numbers (a class index out of range) goes through `number_checks.check_numbers`, which
the trace writes into the code, so every replay runs it again.
"""

from __future__ import annotations

import contextlib
import random
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..errors import CompileError

# Modules whose reads of a traced array are the engine's own (formulas, shape checks, the optimizer).
_ENGINE = (
    "tinygrad_edu.tensor",
    "tinygrad_edu.ops",
    "tinygrad_edu.formulas",
    "tinygrad_edu.autograd",
    "tinygrad_edu.anomaly",
    "tinygrad_edu.optim",
    "tinygrad_edu.graph",
    "tinygrad_edu.versions",
    "tinygrad_edu.compile",
)
_local = threading.local()


@contextlib.contextmanager
def engine_reads() -> Iterator[None]:
    """Inside this block (an op, a backward pass, an optimizer step) traced arrays may be read."""
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        yield
    finally:
        _local.depth -= 1


def _caller() -> Any:
    """The nearest frame outside NumPy and this package's refusal machinery."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(("numpy", __name__)):
        frame = frame.f_back
    return frame


def _allowed() -> bool:
    if getattr(_local, "depth", 0):
        return True
    frame = _caller()
    if frame is None:
        return False
    return frame.f_globals.get("__name__", "").startswith(_ENGINE)


def where() -> str:
    """`file:line` of the innermost frame of user code (outside tinygrad_edu and NumPy)."""
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(("tinygrad_edu", "numpy", "contextlib")):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown line>"


def error(what: str, instead: str) -> CompileError:
    return CompileError(f"compile: {what} at {where()}: a replay would freeze it at its first value; {instead}")


_READ = (
    "return the value from the step and read it outside (loss = step(x, y); print(loss.item())), "
    "or use an op instead of Python / NumPy on it"
)


class TracedArray(np.ndarray):
    """The array of a traced Tensor (an input or a result): the engine reads it, user code may not."""

    what, instead = "the array (.data) of a traced tensor", _READ  # (how a refusal names it, what to write)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if not _allowed():
            raise error(f"NumPy's {ufunc.__name__} on {self.what}", self.instead)
        inputs = tuple(_plain(x) for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(_plain(x) for x in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if not _allowed():
            raise error(f"numpy.{func.__name__} on {self.what}", self.instead)
        return func(*unwrap(args), **unwrap(kwargs))

    def __getitem__(self, index: Any) -> Any:
        if not _allowed():
            raise error(f"indexing {self.what}", self.instead)
        return _plain(self)[index]


def _read(name: str) -> Callable[..., Any]:
    def refused(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _allowed():
            return getattr(_plain(self), name)(*args, **kwargs)
        raise error(f"{name}() on {self.what}", self.instead)

    return refused


for _name in ("__float__", "__int__", "__bool__", "__index__", "item", "tolist", "copy", "astype", "argmax", "argmin"):
    setattr(TracedArray, _name, _read(_name))
for _name in ("__iter__", "__repr__", "__str__", "__format__"):
    setattr(TracedArray, _name, _read(_name))


def _plain(x: Any) -> Any:
    return x.view(np.ndarray) if isinstance(x, TracedArray) else x


def unwrap(x: Any) -> Any:
    """`x` with each traced array in it (in tuples, lists and dicts too) as the plain array it views."""
    if isinstance(x, TracedArray):
        return x.view(np.ndarray)
    if type(x) in (tuple, list):
        return type(x)(unwrap(i) for i in x)
    if type(x) is dict:
        return {k: unwrap(v) for k, v in x.items()}
    return x


class TracedGrad(TracedArray):
    """A traced tensor's gradient (`p.grad`) as fn sees it."""

    what = "a gradient (p.grad) by hand"
    instead = (
        "let an optimizer use it: optim.SGD(model.parameters(), lr).step() inside the step (a replay does not do "
        "a hand-written p.data -= lr * p.grad), or return it from the step and read it outside"
    )


def traced(array: np.ndarray, kind: type[TracedArray] = TracedArray) -> TracedArray:
    return array.view(kind)


# ---------------------------------------------------------------------- patches for the trace


def _refuse_read(owner: type, name: str) -> Callable[..., Any]:
    original = getattr(owner, name, None)

    def refused(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _allowed():  # the engine's own use: behave as before the trace
            if original is None:
                if name == "__bool__":
                    return True
                raise CompileError(f"compile: {owner.__name__} has no {name}")
            return original(self, *args, **kwargs)
        raise error(f"{name}() of a traced {owner.__name__}", _READ)

    return refused


def _refuse_random(what: str) -> Callable[..., Any]:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise error(
            f"{what} (random numbers) inside the step",
            "draw them outside and pass them in as an argument (mask = rng.random(shape) > p; step(x, y, mask))",
        )

    return refused


def patches(in_optimizer: Callable[[], bool]) -> list[tuple[Any, str, Any]]:
    """(owner, attribute, replacement) for everything the trace refuses."""
    from .. import rng
    from .. import tensor as tensor_module
    from ..tensor import Tensor
    from ..value import Value

    out: list[tuple[Any, str, Any]] = []
    for name in ("item", "numpy", "tolist", "__float__", "__int__", "__bool__", "__array__"):
        out.append((Tensor, name, _refuse_read(Tensor, name)))
    for name in ("item", "__float__", "__int__", "__bool__"):
        out.append((Value, name, _refuse_read(Value, name)))

    def value_format(self: Any, spec: str) -> str:
        if spec:
            raise error(f"formatting a traced Value with {spec!r}", _READ)
        return repr(self)

    out.append((Value, "__format__", value_format))
    inplace = tensor_module._inplace

    def checked_inplace(t: Any, name: str, ufunc: Any, other: Any, index: Any = None, graph_op: Any = None) -> Any:
        from ..graph import grad_mode

        records = grad_mode.enabled and (t.requires_grad or (type(other) is Tensor and other.requires_grad))
        if not records and not in_optimizer():
            raise error(
                f"an in-place write ({name}) to a tensor",
                "let an optimizer update parameters (optim.SGD(model.parameters(), lr).step()), or compute a new "
                "tensor (x = x * 0)",
            )
        return inplace(t, name, ufunc, other, index, graph_op)

    out.append((tensor_module, "_inplace", checked_inplace))
    compare = tensor_module._compare

    def checked_compare(t: Any, other: Any, ufunc: Any, symbol: str) -> Any:
        if isinstance(t.data, TracedArray) or (type(other) is Tensor and isinstance(other.data, TracedArray)):
            raise error(
                f"a comparison ({symbol}) of a traced tensor",
                "comparisons give a mask with no gradient, read at trace time; use an op that keeps the graph "
                "(x.relu(), x.maximum(y), x.clip(lo, hi)) or pass the mask in as an argument",
            )
        return compare(t, other, ufunc, symbol)

    out.append((tensor_module, "_compare", checked_compare))
    init = Tensor.__init__

    def checked_init(self: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        inner = data.data if type(data) is Tensor else data
        if isinstance(inner, TracedArray):
            raise error(
                "Tensor(...) made from a traced value (a copy, cut off from the graph)",
                "use the tensor itself (or t.detach() to stop its gradient), so the replay reads each call's values",
            )
        init(self, data, *args, **kwargs)

    out.append((Tensor, "__init__", checked_init))
    grad_slot = Tensor.__dict__["grad"]

    def read_grad(self: Any) -> Any:  # a tensor's `.grad` in fn: its numbers are the trace's, as `.data`'s are
        g = grad_slot.__get__(self)
        return g if g is None or type(g) is not np.ndarray or _allowed() else traced(g, TracedGrad)

    def write_grad(self: Any, g: Any) -> None:  # `p.grad = ...` in fn (None: the next call traces again)
        if g is not None and not _allowed():
            raise error(
                "a gradient written by hand (p.grad = ...) on a tensor",
                "a replay sets .grad from backward only; scale the loss instead (loss * 0.5 halves every "
                "gradient), or run the steps that change gradients (clipping) and the optimizer step eagerly",
            )
        grad_slot.__set__(self, g)

    out.append((Tensor, "grad", property(read_grad, write_grad)))
    for name in ("randn", "uniform"):
        out.append((Tensor, name, staticmethod(_refuse_random(f"Tensor.{name}"))))
    out.append((rng, "while_tracing", _refuse_random("a random generator")))  # every draw of the package
    for name in ("random", "uniform", "gauss", "normalvariate", "choice", "choices", "shuffle", "sample", "randint"):
        out.append((random, name, _refuse_random(f"random.{name}")))
    for name in ("rand", "randn", "random", "uniform", "normal", "permutation", "shuffle", "choice", "randint"):
        out.append((np.random, name, _refuse_random(f"numpy.random.{name}")))
    out.append((np.random, "default_rng", _refuse_random("numpy.random.default_rng")))
    return out


def no_create_graph(create_graph: bool) -> None:
    if create_graph:
        raise CompileError(
            "compile: backward(create_graph=True) is not compiled (a replay writes gradients as numbers); "
            "run higher-order steps eagerly"
        )


def no_closure(closure: Any) -> None:
    if closure is not None:
        raise CompileError("compile: optimizer.step(closure) is not compiled; call backward() and step() in fn")
