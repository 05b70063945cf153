"""`compile(fn)`: trace a training step once, then replay the generated code.

The first call with a new signature runs `fn` on the eager engine while `record.recording` reports
each op, backward and optimizer step to a code generator (`tensor_code` or `scalar_code`); the code
is compiled and kept, with a guard on what the trace assumed about the parameters (their arrays,
which `.grad` were None, `requires_grad`). Later calls whose signature and guard match run the code;
the first of them also runs the eager step and compares (`check.py`).
"""

from __future__ import annotations

import builtins
import functools
import itertools
import linecache
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import CompileError
from ..graph import gc_paused, tick
from ..quiet import quietly
from ..tensor import Tensor
from ..value import Value
from . import check, inputs, refuse
from .code import Code
from .fits import fits_functions
from .record import following, recording
from .refuse import where
from .tape import layout

_files = itertools.count(1)


class Trace:
    """One trace: its code, the function compiled from it, and the guard under which it replays."""

    def __init__(
        self,
        key: tuple[Any, ...],
        source: str,
        step: Callable[..., Any],
        guard: list[tuple[Any, ...]],
        listener: Any,
        other: Callable[[Any, tuple[Any, ...]], Any],
    ) -> None:
        self.source = source
        self.run = quietly(step)  # NumPy's warnings off in the replay, as in the eager backward pass (quiet.py)
        self.params = list(listener.params.values())
        self.optimizers = list(dict.fromkeys(listener.optimizers))
        self.names = listener.names
        self.checked = False  # whether a call has replayed it (and, with check=True, compared it with eager)
        self.line = where()
        # guard: (param, its array or None, grad was None or None if cleared by fn, requires_grad); and the
        # tensors made outside fn that the code reads afresh, with the shape, dtype and layout the code was written for
        outside = [(t, t.data.shape, t.data.dtype, layout(t.data)) for t in listener.outside_read]
        self._fits_of = (key, guard, list(listener.buffers.values()), step, outside, other)
        # replay(compiled, *args): run(*args) if the call fits, else other(compiled, args); see `_write`
        self.replay: Callable[..., Any] | None = None

    def fits(self, args: tuple[Any, ...]) -> bool:
        """Whether a call with `args` replays this trace (written out on first use: `_write`)."""
        return self._write().fits(args)

    def _write(self) -> Trace:
        """Write the guard test out as generated functions (fits.py): `fits`, which then stands in for the
        method, and `replay`. Only traces that are asked get them."""
        if self.replay is None:
            self.fits, self.replay = fits_functions(*self._fits_of)  # type: ignore[method-assign]
        return self


class CompiledStep:
    """A training step compiled to straight-line code; call it like `fn`. `source` shows the code."""

    def __init__(self, fn: Callable[..., Any], *, check: bool = True, cache_size: int = 8) -> None:
        functools.update_wrapper(self, fn)
        # A class of its own, whose `__call__` becomes the replay of the trace that calls use (`_use`): an
        # ordinary call then runs the guard and the code with no frame in between (fits.py).
        self.__class__ = type(CompiledStep.__name__, (CompiledStep,), {"__doc__": CompiledStep.__doc__})
        self.fn = fn
        self.check = check
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[Any, ...], list[Trace]] = OrderedDict()
        self._latest: Trace | None = None
        self._used: Trace | None = None  # the checked trace whose replay is this step's `__call__`
        self.traces = 0  # how many times fn was traced

    def __copy__(self) -> CompiledStep:
        """A copy (shallow or deep) compiles the same `fn` afresh: its code and guards name live objects."""
        return CompiledStep(self.fn, check=self.check, cache_size=self.cache_size)

    def __deepcopy__(self, memo: dict[int, Any]) -> CompiledStep:
        return self.__copy__()

    def __reduce__(self) -> Any:
        raise CompileError(
            f"pickle: a compiled step ({getattr(self.fn, '__qualname__', 'fn')}) holds generated code and the live "
            "parameters it updates, so it cannot be pickled; pickle (or save) the model and optimizer, then "
            "compile the step again after loading them"
        )

    @property
    def source(self) -> str:
        """The code the latest trace generated: exactly what replays run."""
        if self._latest is None:
            raise CompileError("compile: the step has not run yet, so there is no code; call it once first")
        return self._latest.source

    def __call__(self, *args: Any) -> Any:
        """Find or make the trace for `args` and run it (the usual call skips this: see `_use`)."""
        return self._call(args)

    def _call(self, args: tuple[Any, ...]) -> Any:
        key = inputs.signature(args)
        trace = next((t for t in self._cache.get(key, ()) if t.fits(args)), None)
        if trace is None:
            return self._trace(key, args)
        self._latest = trace
        if not trace.checked:
            if self.check:
                out = self._checked(trace, args)
                trace.checked = True
                return out
            trace.checked = True
        self._use(trace)
        return trace.run(*args)

    def _use(self, trace: Trace | None) -> None:
        """Let calls go straight to `trace`'s replay, which runs its code when a call fits it and `_call`
        when not; `None`: every call goes through `_call`."""
        self._used = trace
        type(self).__call__ = CompiledStep.__call__ if trace is None else trace._write().replay  # type: ignore[method-assign]

    # ------------------------------------------------------------------ tracing

    def _trace(self, key: tuple[Any, ...], args: tuple[Any, ...]) -> Any:
        from .scalar_code import ScalarStep
        from .tensor_code import TensorStep

        nested = inputs.called(self.fn, CompiledStep)
        if nested:
            raise CompileError(
                f"compile: {getattr(self.fn, '__qualname__', 'fn')} calls the compiled step {nested[0]}: a trace "
                "cannot see inside another compiled step's replay (its result would be a constant); compile only "
                f"the outer step, calling {nested[0]}'s plain function inside it"
            )
        names, reachable = inputs.owners(self.fn)
        engine = inputs.engine_of(args, reachable)
        known = [p for trace in itertools.chain.from_iterable(self._cache.values()) for p in trace.params]
        entry = {id(p): p.grad is None for p in (*reachable, *known)}  # .grad at entry (see record.Listener)
        params = inputs.arg_names(self.fn, len(args))
        code = Code("step", params)
        start = tick()
        listener = (TensorStep if engine == "tensor" else ScalarStep)(code, names, start)
        listener.literals = inputs.literals(self.fn)
        listener.reachable = reachable
        listener.watch.update(entry)
        for optimizer in inputs.optimizers(self.fn):
            listener.note_settings(optimizer)
        converted, restore = listener.take_inputs(args, params)
        # The cyclic GC is paused throughout: it would re-scan the growing graph and code over and over, and
        # nothing here is cyclic.
        with gc_paused():
            try:
                with recording(listener):
                    result = self.fn(*converted)
                    listener.check_settings(self.fn)
                    listener.finish()
                    returns = listener.result(result)
            finally:
                restore()
            doc = f"{getattr(self.fn, '__qualname__', 'fn')}, compiled by tinygrad_edu.compile ({engine} engine)"
            source = code.source(doc, returns)
            filename = f"<tinygrad_edu.compile step {next(_files)}>"
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            namespace = code.namespace
            exec(builtins.compile(source, filename, "exec"), namespace)
            guard = [
                (p, p.data if type(p) is Tensor else None, listener.grad_at_entry(key_p, entry), p.requires_grad)
                for key_p, p in listener.params.items()
            ]
        trace = Trace(key, source, namespace["step"], guard, listener, CompiledStep._call)
        self.traces += 1
        self._latest = trace
        self._use(None)  # (the next call checks it, then takes the fast path)
        self._cache.setdefault(key, []).insert(0, trace)
        self._cache.move_to_end(key)
        while sum(len(v) for v in self._cache.values()) > self.cache_size:
            oldest = next(iter(self._cache))
            dropped = self._cache[oldest].pop()
            if dropped is self._latest:  # (cache_size=0 keeps none)
                self._latest = None
            if dropped is self._used:
                self._use(None)
            if not self._cache[oldest]:
                del self._cache[oldest]
        return refuse.unwrap(result)  # (a gradient fn returned, as the plain array: fn saw it traced)

    # ------------------------------------------------------------------ the second call's check

    def _checked(self, trace: Trace, args: tuple[Any, ...]) -> Any:
        before = check.State(trace.params, trace.optimizers)
        out = trace.run(*args)
        replayed = check.State(trace.params, trace.optimizers)
        before.restore()
        from .scalar_code import ScalarStep
        from .tensor_code import TensorStep

        engine = inputs.engine_of(args, trace.params)
        listener = (TensorStep if engine == "tensor" else ScalarStep)(Code("step", []), {}, tick())
        converted, restore = listener.take_inputs(args, inputs.arg_names(self.fn, len(args)), trace=False)
        try:
            with gc_paused(), following(listener):  # (what is computed from array arguments alone: as in the trace)
                eager_out = self.fn(*converted)
        finally:
            restore()
        eager = check.State(trace.params, trace.optimizers)
        what = check.first_difference(replayed, eager, trace.names)
        if what is None and not check.same(_plain(out), _plain(eager_out)):
            what = "the value the step returned"
        if what is not None:  # the trace froze something: it is dropped, so no later call replays it unchecked
            for traces in self._cache.values():
                if trace in traces:
                    traces.remove(trace)
            self._latest = None
            self._use(None)
            raise check.mismatch(what, trace.line)
        return out


def _plain(x: Any) -> Any:
    """A returned value as numbers: what the comparison looks at (values and gradients, not graph links)."""
    if type(x) is Tensor:
        return (np.asarray(x.data), x.grad)
    if type(x) is Value:
        return (x.data, x.grad)
    if type(x) in (list, tuple):
        return [_plain(i) for i in x]
    if type(x) is dict:
        return {k: _plain(v) for k, v in x.items()}
    return x


def compile(fn: Callable[..., Any] | None = None, *, check: bool = True, cache_size: int = 8) -> Any:  # noqa: A001
    """Compile a training step: `step = compile(fn)` or `@compile` / `@compile(check=False)`.

    The first call traces `fn` on the eager engine; later calls with the same signature run generated
    straight-line code (`step.source`), bit-identical to the eager step. `check=True` runs the eager
    step once more on the second call and compares. See docs/compile.md ("Your step as code").
    """
    if fn is None:
        return lambda f: CompiledStep(f, check=check, cache_size=cache_size)
    if not callable(fn):
        raise CompileError(f"compile: expected a function (the training step), got {type(fn).__name__}")
    return CompiledStep(fn, check=check, cache_size=cache_size)
