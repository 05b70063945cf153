"""The tensor engine's step as code: each op's own formula from `ops.py`, written out as NumPy calls.

Forward: as `Tensor.sigmoid` runs `Sigmoid.forward`, the trace runs that same formula once more on
stand-ins (`tape.py`) that record each NumPy call it makes; the calls become the op's lines, under
the op's rule as a comment. Backward: the chain rule of `tensor_backward.backprop` played once at
trace time (newest node first; each gradient summed back, cast and added into its input's total as
`Totals.add` does), each op's `backward` recorded the same way. Update: the optimizer's own `_update`, recorded too
(`tensor_update.py`), its learning rate read at every replay. `buffers.py` then writes each
allocating call into a preallocated buffer (`out=`), reused once its value is dead, so a replay
allocates only what it hands over: the `.grad` arrays and the returned values. Each formula stays
written once, in `ops.py`; an op whose formula the stand-ins cannot record (it reads a value into
Python) is written as one call of its own `forward`/`backward`, as the eager engine calls it.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any

import numpy as np

from .. import ops, optim
from ..errors import CompileError
from ..formulas import unbroadcast
from ..graph import tick
from ..nn import module as nn_module
from ..tensor import Tensor
from ..tensor_functions import array_arguments
from . import buffers, layouts
from .code import Code, check_comment, container, identifier
from .record import Listener
from .refuse import engine_reads, error, traced, where
from .tape import Named, Staged, Tape, Text, plain, variables
from .tensor_update import stage_update


def _doc(op: type[ops.Op]) -> tuple[str, str]:
    """(forward maths, backward maths) from the op's docstring `z = ... · dz/dx = ...`."""
    first = (op.__doc__ or op.__name__).strip().splitlines()[0]
    forward, _, backward = first.partition("·")
    return f"{op.__name__}: {forward.strip()}", f"{op.__name__}: {backward.strip() or forward.strip()}"


def _same(staged: Any, real: Any) -> bool:
    """Whether the stand-in computed exactly the eager engine's array (shape, dtype, every number)."""
    if not isinstance(staged, Staged) or staged.var is None:
        return False
    return _same_bits(plain(staged), np.asarray(real).view(np.ndarray))


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Same shape, dtype and bits (a NaN's payload and the sign of a zero too): one compare of the bytes,
    where np.array_equal's NaN handling cost ~15 µs a call (17 calls in the digits step's trace, 6% of it).
    Objects compare by value."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return a.tobytes() == b.tobytes() or (a.dtype.kind == "O" and np.array_equal(a, b))


class TensorStep(Listener):
    """Records the code of one trace of a Tensor step as the eager engine runs it."""

    def __init__(self, code: Code, names: dict[int, str], start_tick: int) -> None:
        super().__init__()
        self.code = code
        self.names = names  # id(parameter) -> its name in the model (layers.0.weight)
        self.start = start_tick
        self.tape = Tape(code.name, lambda a: code.constant(a, "c", f"a {type(a).__name__} the step used"))
        self.st: dict[int, Staged] = {}  # id(tensor) -> the stand-in holding its array in the code
        self.saved: dict[int, Any] = {}  # id(result) -> what its op saved, as stand-ins (if its forward was recorded)
        self.saved_text: dict[int, str] = {}  # id(result) -> the variable holding what an unrecorded op saved
        self.keep: list[Any] = []  # objects whose ids are keys above stay alive during the trace
        self.params: dict[int, Tensor] = {}
        self.first_data: dict[int, np.ndarray] = {}  # a copy of each parameter's array at its first use
        self.supplied: set[Any] = set()  # the storages of the arguments and of tensors read afresh (layouts.py)
        # (address, shape, strides, dtype) -> the stand-in of an input's or a result's array, so that a NumPy
        # view of it made outside an op (`np.asarray(target.data)`) is still that value, not a constant
        self.by_address: dict[tuple[int, tuple, tuple, str], Staged] = {}
        self._outside: dict[tuple[int, tuple, tuple, str], Tensor] | None = None
        self.roots: set[int] = set()  # ids of the arrays that own the memory of every array known above
        self.grad_written: dict[int, Tensor] = {}
        self.grads: dict[int, Staged] = {}  # id(parameter) -> the gradient this step gave it
        self.root_grad: dict[int, str] = {}
        self.optimizers: list[Any] = []
        self.literals: set[float] = set()  # numbers written in fn itself (printed as they are)
        self.named: dict[float, str] = {}
        self.arrays: dict[int, Staged] = {}  # id(traced array) -> its stand-in (a detach() shares the array)
        self.traced: list[tuple[Tensor, np.ndarray]] = []  # tensors whose arrays are TracedArrays during the trace
        self.array_like: list[Tensor] = []  # results computed from array arguments alone (`_on_arrays_alone`)
        self.holder: dict[int, str] = {}  # id(input Tensor) -> the replay's name for the Tensor object itself
        self.fresh: set[int] = set()  # id(Var) of unrecorded results that are new arrays (ours to add into)
        self.returned: list[Any] = []
        self.seed: Staged | None = None  # the stand-in for `one`, where backward starts from dL/dL = 1
        self.cleared_by: tuple[Text, Any, list[Tensor]] | None = None  # the latest zero_grad(): its line, owner, params

    # ------------------------------------------------------------------ inputs and operands

    def take_inputs(self, args: tuple[Any, ...], names: list[str], trace: bool = True) -> tuple[list[Any], Any]:
        """fn's arguments as Tensors (arrays wrapped without a copy, numbers as 0-d float32), and an undo."""
        converted, undo = [], []
        if trace:
            self.tape.block("forward")
        for a, name in zip(args, names):
            if type(a) is Tensor:
                t = a
                if trace:
                    var = self.code.name(name + "_data")
                    self.tape.text(f"{var} = {name}.data", f"input {name}")
                    undo.append((t, t.data))
                    self.add_input(t, var, holder=name)
            elif isinstance(a, np.ndarray):
                t = Tensor.from_numpy(np.asarray(a))
                array_arguments.add(id(t))  # (a layer casts it to its dtype, as it casts the array: see linear)
                undo.append((t, None))
                if trace:
                    self.add_input(t, name)
            else:
                t = Tensor(a)
                if trace:
                    var = self.code.name(name + "_t")
                    self.tape.text(f"{var} = np.array({name}, dtype=np.{t.dtype})", f"input {name}, a 0-d tensor")
                    self.add_input(t, var, kind="pinned")
            converted.append(t)

        def restore() -> None:
            for t, data in [*self.traced, *undo]:
                if data is None:
                    array_arguments.discard(id(t))
                else:
                    t.data = data
            for t in self.array_like:
                array_arguments.discard(id(t))

        return converted, restore

    def add_input(self, t: Tensor, name: str, holder: str | None = None, kind: str = "external") -> None:
        """An input of the step: its array is variable `name` (and the Tensor object `holder`, if passed as one)."""
        staged = self.tape.stage(t.data, name, kind)
        self.st[id(t)] = staged
        self.supplied.add(staged.var.storage)
        if holder:
            self.holder[id(t)] = holder
        self.keep.append(t)
        a = t.data
        self._know(a, staged)
        self.traced.append((t, t.data))
        t.data = traced(t.data)
        self.arrays[id(t.data)] = staged

    def operand(self, x: Any) -> Any:
        """An op's input as a stand-in: a tensor's array, or a constant (an array, a number)."""
        if type(x) is Tensor:
            return self.st[id(x)] if id(x) in self.st else self._leaf(x)
        return self.stand_in(x, "c")

    def _leaf(self, t: Tensor) -> Staged:
        """A leaf the step reads: a parameter, or a constant tensor (read afresh, or frozen if made inside)."""
        self.keep.append(t)
        if id(t.data) in self.arrays:  # t.detach() of a traced tensor: the same array, no gradient
            staged = self.st[id(t)] = self.arrays[id(t.data)]
            return staged
        data = np.asarray(t.data).view(np.ndarray)
        if not t.requires_grad and t._order > self.start:  # made inside: a detach() of a parameter or of a tensor
            known = self.known(data)  # made outside shares its array, and reads it as that tensor does
            if known is not None:
                self.st[id(t)] = known
                return known
        afresh = False  # made outside fn: the code reads its array at each call
        if t.requires_grad:
            label = self.names.get(id(t)) or t.name or "p"
            name = self.code.name(label)
            holder = self.code.param(t, name)
            self.tape.text(f"{name} = {holder}.data", f"parameter {label}, shape {t.shape}")
            self.params[id(t)] = t
            self.first_data[id(t)] = t.data.copy()
        elif t._order > self.start:
            name = self.code.constant(np.array(t.data), identifier(t.name or "k"), "a tensor made inside the step")
        else:
            afresh = True
            label = t.name or self.names.get(id(t)) or "k"
            name = self.code.name(label)
            holder = self.code.ref(t, "T_" + name)
            self.tape.text(f"{name} = {holder}.data", f"tensor {label} made outside the step, read now")
            self.code.live.append(f"{holder}: a tensor of shape {t.shape} made outside fn (its .data now)")
            self.outside_read.append(t)  # (its shape, dtype and layout join the guard: another traces again)
        staged = self.st[id(t)] = self.tape.stage(data, name, "external")
        if afresh:
            self.supplied.add(staged.var.storage)  # (whatever array the tensor holds then)
        if t.requires_grad or t._order <= self.start:
            self._know(data, staged)
        return staged

    def stand_in(self, a: Any, hint: str) -> Any:
        """An op's non-tensor argument as the formula gets it: arrays and numbers named as the code names them."""
        if isinstance(a, np.ndarray) and not isinstance(a, Staged):
            known = self.known(a)
            if known is not None:
                return known
            return self._fixed(self.tape.stage(a, self.argument(a, hint), "external"))  # (argument refuses a view)
        if isinstance(a, float) and not isinstance(a, np.floating):
            return Named(a, self.argument(a, hint))
        if isinstance(a, np.generic):
            return self._fixed(self.tape.stage(np.asarray(a), self.argument(a, hint), "external"))
        if type(a) in (tuple, list):
            return type(a)(self.stand_in(x, hint) for x in a)
        if type(a) is slice:
            return slice(*(self.stand_in(x, hint) for x in (a.start, a.stop, a.step)))
        return a

    def _know(self, a: np.ndarray, staged: Staged) -> None:
        """`a` is the array of `staged` (found by its memory from now on)."""
        self.by_address[_address(a)] = staged
        self.roots.add(id(_root(a)))

    def _not_a_view_of_a_value(self, a: np.ndarray) -> None:
        """An array the trace would freeze must not be a NumPy view of a value the code reads afresh."""
        self._reach()
        if id(_root(a)) in self.roots:
            raise error(
                f"an array of shape {a.shape} made with NumPy from a tensor's .data (a view: reshape, [:, 0], .T)",
                "use the tensor's own op (labels.reshape(-1), labels[:, 0], w.T), which the replay runs on each "
                "call's numbers",
            )

    def known(self, a: np.ndarray) -> Staged | None:
        """The stand-in of `a` if it is the array of an input, of a traced result (or a view just like it), or of a
        tensor fn reaches that was made outside it (labels in a global Tensor: read afresh at every call)."""
        staged = self.arrays.get(id(a))
        if staged is None:
            staged = self.by_address.get(_address(a))
        if staged is None:
            outside = self._reach().get(_address(a))
            if outside is not None:
                staged = self.st[id(outside)] if id(outside) in self.st else self._leaf(outside)
        return staged

    def _reach(self) -> dict[tuple[int, tuple, tuple, str], Tensor]:
        """The tensors fn reaches, by their arrays' memory (made at the first array not found; their roots too)."""
        if self._outside is None:
            self._outside = {_address(t.data): t for t in self.reachable if type(t) is Tensor}
            self.roots.update(id(_root(t.data)) for t in self._outside.values())
        return self._outside

    @staticmethod
    def _fixed(staged: Staged) -> Staged:
        """A constant of the trace: the same numbers at every replay."""
        staged.var.storage.fixed = True
        return staged

    def argument(self, a: Any, hint: str) -> str:
        """An op's non-tensor argument as source text: a literal, an input's array, or a listed constant."""
        if a is None or (isinstance(a, bool | str | int) and not isinstance(a, np.integer)):
            return repr(a)
        if isinstance(a, float):
            if a in self.literals or a in (0.0, 1.0, -1.0) or a != a:
                return repr(a)
            if a not in self.named:
                self.named[a] = self.code.constant(a, hint, "a Python number the step used, read at trace time")
            return self.named[a]
        if isinstance(a, np.ndarray):
            known = self.known(a)
            if known is not None:
                return known.var.name
            self._not_a_view_of_a_value(a)
            return self.code.constant(np.array(a), hint, f"an array the step used, {a.shape} {a.dtype}")
        if type(a) is tuple:
            parts = [self.argument(x, hint) for x in a]
            return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
        if type(a) is slice:
            return (
                f"slice({self.argument(a.start, hint)}, {self.argument(a.stop, hint)}, {self.argument(a.step, hint)})"
            )
        if isinstance(a, np.integer | np.floating):
            return self.code.constant(a, hint, f"a NumPy {type(a).__name__} the step used")
        return self.code.constant(a, hint, f"a {type(a).__name__} the step used")

    # ------------------------------------------------------------------ forward

    def follow(self, op: Any, inputs: tuple[Any, ...], kwargs: dict, out: Tensor) -> None:
        """Where eager computed `out` on the arrays themselves, it is an array too: a layer casts it as one."""
        if _on_arrays_alone(op, inputs, kwargs):
            array_arguments.add(id(out))
            self.array_like.append(out)

    def tensor_op(self, op: Any, inputs: tuple[Any, ...], args: tuple[Any, ...], kwargs: dict, out: Any) -> None:
        self.follow(op, inputs, kwargs, out)
        if id(out) in array_arguments:  # (computed from array arguments alone: NumPy's dtype, or refused)
            _same_dtype_as_numpy(op, inputs, out)
        tape = self.tape
        tape.block("forward")
        kwargs = dict(kwargs)
        cast = kwargs.pop("cast", None)  # `_apply` casts the operands first (PyTorch's type promotion)
        staged = [self.operand(x) for x in inputs]
        name = self.code.name(out.name or op.__name__.lower())  # (before the op's own lines take names)
        forward, _ = _doc(op)
        start = len(tape.items)
        tape.text("", f"# {forward}")
        result, saved = self._record(op, staged, cast, args, kwargs, out.data)
        if result is None:  # not recordable: one call of the op's own forward
            del tape.items[start:]
            result = self._call_forward(op, staged, cast, args, kwargs, out, name, forward)
        else:
            self._rename(result, lambda: name, start)
            self.saved[id(out)] = saved
        self.st[id(out)] = result
        self.keep.append(out)
        self.traced.append((out, out.data))
        self._know(out.data, result)
        out.data = traced(out.data)
        self.arrays[id(out.data)] = result

    def _record(self, op: Any, staged: list, cast: Any, args: tuple, kwargs: dict, real: Any) -> tuple[Any, Any]:
        """Run the op's forward on the stand-ins: (result, saved), or (None, None) if it cannot be recorded."""
        tape = self.tape
        args = tuple(self.stand_in(a, "c") for a in args)
        kwargs = {k: self.stand_in(v, "c") for k, v in kwargs.items()}
        with tape.recording("t"), engine_reads():
            try:
                if cast is not None:
                    staged = [np.asarray(s).astype(cast, copy=False) for s in staged]
                with tape.names_from(op.forward):
                    result, saved = op.forward(*staged, *args, **kwargs)
                if isinstance(result, Staged) and result.ndim == 0 and result.var is not None:
                    result = np.asarray(result)  # a reduction gives a NumPy scalar; a tensor holds an array
            except Exception as error:  # a path the stand-ins cannot take: the op's own call is written instead
                tape.impure = tape.impure or f"{type(error).__name__}: {error}"
        ok = not tape.impure and _same(result, real) and "?" not in buffers.arg(tape.argument(saved))
        tape.impure = ""
        return (result, saved) if ok else (None, None)

    def _call_forward(self, op: Any, staged: list, cast: Any, args: tuple, kwargs: dict, out: Any, name: str, doc: str):
        parts = [s.var.name if isinstance(s, Staged) else self.argument(s, "c") for s in staged]
        if cast is not None:
            parts = [f"np.asarray({part}).astype(np.{np.dtype(cast)}, copy=False)" for part in parts]
        parts += [self.argument(a, "c") for a in args]
        parts += [f"{k}={self.argument(v, 'c')}" for k, v in kwargs.items()]
        cls = self.code.ref(op, op.__name__)
        reads = [s for s in staged if isinstance(s, Staged)]
        if out._op is not None:  # recorded: backward will want what the op saved
            saved = self.code.name("s_" + name)
            self.saved_text[id(out)] = saved
            self.tape.text(f"{name}, {saved} = {cls}.forward({', '.join(parts)})", doc, tuple(reads))
        else:
            self.tape.text(f"{name}, _ = {cls}.forward({', '.join(parts)})", doc, tuple(reads))
        if out.data.ndim == 0:
            self.tape.text(f"{name} = np.asarray({name})", "a reduction gives a NumPy scalar; a tensor holds an array")
        return self._opaque(out.data, name)

    def _opaque(self, array: Any, name: str) -> Staged:
        """An array made by a line the tape did not record: never reused, since that code may keep it."""
        staged = self.tape.stage(np.asarray(array).view(np.ndarray), name, "pinned")
        self.tape.items[-1].results.append(staged.var)
        return staged

    def _rename(self, result: Staged, name: Any, start: int) -> None:
        """Give the op's result the graph's name (`name()`), if the op's own lines made it."""
        for item in self.tape.items[start:]:
            if getattr(item, "result", None) is result.var:
                result.var.name, result.var.temp = name(), False
                return

    # ------------------------------------------------------------------ backward

    def backward(self, root: Any, gradient: Any) -> None:
        """Play `tensor_backward.backprop` over the graph behind `root`, recording each call it makes."""
        tape = self.tape
        tape.block("backward")
        g_root = self.code.name("g_" + (self.st[id(root)].var.name if id(root) in self.st else "root"))
        if gradient is None:
            seed = np.ones(root.data.shape, dtype=root.data.dtype)  # (the trace's; `one` is the replay's)
            one = self.code.ref(seed.copy(), "one")  # (copied at each call: 4x quicker than np.ones)
            tape.text(f"{g_root} = {one}.copy()", "dL/dL = 1: a new array at each call (it becomes the loss's .grad)")
            # backward reads `one` itself: the same numbers at every call, so what it computes from them alone
            # (cross-entropy's g / n) is made once (buffers._constants); never added into, never handed over
            start, ours = self._fixed(self.tape.stage(seed, one, "external")), False
            self.seed = start
        else:
            given = gradient.data if type(gradient) is Tensor else gradient
            seed = np.array(given, dtype=root.data.dtype)
            if type(gradient) is Tensor:
                text, reads = self.operand(gradient).var.name, (self.operand(gradient),)
            else:
                text, reads = self.argument(np.asarray(gradient), "seed"), ()
            tape.text(f"{g_root} = np.array({text}, dtype=np.{root.dtype})", "the gradient backward() was given", reads)
            start, ours = self._opaque(seed, g_root), True
        self.root_grad[id(root)] = g_root
        pending: dict[Tensor, list[Any]] = {root: [start, ours]}  # node -> [total, ours]
        frontier: list[tuple[int, int, Tensor]] = []
        if root._op is not None:
            heappush(frontier, (-root._order, id(root), root))
        with engine_reads():
            while frontier:
                node = heappop(frontier)[2]
                g, _ = pending.pop(node)
                grads = self._op_backward(node, g)
                for parent, grad, need in zip(node._parents, grads, node._needs):
                    if need and grad is not None:
                        self._arrive(pending, frontier, parent, grad, g)
        for leaf, (g, owned) in pending.items():
            if leaf.requires_grad:
                self._to_leaf(leaf, g, owned)

    def _op_backward(self, node: Any, g: Staged) -> list[Any]:
        """The node's op's backward on the stand-ins (checked against the real arrays), or its own call."""
        op, tape = node._op, self.tape
        real = op.backward(node._saved, plain(g), node._needs)
        start = len(tape.items)
        tape.text("", f"# {_doc(op)[1]}")
        grads: Any = None
        if id(node) in self.saved:
            with tape.recording("t"):
                try:
                    with tape.names_from(op.backward):
                        grads = op.backward(self.saved[id(node)], g, node._needs)
                except Exception as error:
                    tape.impure = tape.impure or f"{type(error).__name__}: {error}"
            ok = not tape.impure and grads is not None and len(grads) == len(real)
            ok = ok and all((r is None) == (s is None) and (r is None or _same(s, r)) for r, s in zip(real, grads))
            tape.impure = ""
            if ok:
                for parent, grad in zip(node._parents, grads):
                    if isinstance(grad, Staged) and grad is not g and parent is not None and id(parent) in self.st:
                        label = "g_" + self.st[id(parent)].var.name
                        self._rename(grad, lambda label=label: self.code.name(label), start)
                return list(grads)
        del tape.items[start:]
        return self._call_backward(node, g, real)

    def _call_backward(self, node: Any, g: Staged, real: Any) -> list[Any]:
        """One call of the op's own backward, its gradients kept as the arrays it gave."""
        op = node._op
        names = [
            self.code.name("g_" + (self.st[id(p)].var.name if id(p) in self.st else "x")) if need else "_"
            for p, need in zip(node._parents, node._needs)
        ]
        if id(node) in self.saved:
            saved = self.saved[id(node)]
            written = self.tape.argument(saved)
            text, reads = buffers.arg(written), list(variables([written]))
        else:
            text, reads = self.saved_text[id(node)], []
        cls = self.code.ref(op, op.__name__)
        target = names[0] + "," if len(names) == 1 else ", ".join(names)
        given = self.root_grad[id(node)] if g is self.seed else g.var.name  # (not `one`: the call's own copy)
        item = self.tape.text(f"{target} = {cls}.backward({text}, {given}, {node._needs!r})", _doc(op)[1], (g,))
        item.reads += reads
        out = []
        for grad, name in zip(real, names):
            if grad is None or name == "_":
                out.append(None)
                continue
            staged = self._opaque(grad, name)
            if grad is not plain(g) and type(grad) is np.ndarray and grad.base is None:
                self.fresh.add(id(staged.var))
            out.append(staged)
        return out

    def _ours(self, grad: Staged, upstream: Staged) -> bool:
        """Whether `grad` is a new array of the code's own (not the upstream gradient, not a view): then a
        second gradient is added into it in place, where `Totals.add` makes a new array (the same numbers),
        and it becomes a `.grad` as it is (no one else holds it, as `tensor_backward._sole` finds at run time)."""
        if grad is upstream or grad.var is upstream.var:
            return False
        root = grad.var.storage.root
        return (root is not None and root.result is grad.var) or id(grad.var) in self.fresh

    def _arrive(self, pending: dict, frontier: list, parent: Tensor, grad: Any, upstream: Staged) -> None:
        """One gradient reaching `parent`, summed back and cast as `Totals._conform` does, added into its total."""
        tape = self.tape
        shape, dtype = parent.data.shape, parent.data.dtype
        with tape.recording("t"):
            if grad.shape != shape or grad.dtype != dtype:
                ours = False
                if grad.shape != shape:
                    grad, ours = unbroadcast(grad, shape), True  # a sum: a new array
                    if grad.ndim == 0:
                        grad = np.asarray(grad)
                if grad.dtype != dtype:
                    grad, ours = grad.astype(dtype), True
            else:
                ours = self._ours(grad, upstream)
            entry = pending.get(parent)
            if entry is None:
                pending[parent] = [grad, ours]
                if parent._op is not None:
                    heappush(frontier, (-parent._order, id(parent), parent))
            elif entry[1]:
                entry[0] += grad
                tape.last.comment = "a second path: gradients add up"
            else:
                entry[0] = entry[0] + grad
                tape.last.comment = "a second path: gradients add up"
                entry[1] = True
        if tape.impure:
            raise error(f"compile could not write the gradient of {tuple(shape)} ({tape.impure})", "report this")

    def _to_leaf(self, leaf: Tensor, g: Staged, owned: bool) -> None:
        self.note_grad(leaf)
        label = self.operand(leaf).var.name  # (a leaf that is itself the root may not have been read yet)
        holder = self.holder.get(id(leaf)) or self.code.param(leaf, label)
        if leaf.grad is None:
            if not owned:
                with self.tape.recording("g_" + label):
                    g = g.copy()
            self.tape.text(f"{holder}.grad = {g.var.name}", f"dL/d{label}", (g,))
            self.grads[id(leaf)] = g
        else:
            self.tape.text(f"{holder}.grad += {g.var.name}", f"dL/d{label}, added to the gradient it had", (g,))
            self.grads.pop(id(leaf), None)
        self.grad_written[id(leaf)] = leaf

    def grad_var(self, p: Tensor) -> Staged:
        """The stand-in for `p.grad` where an update reads it: this step's gradient, or `.grad` read now."""
        if id(p) in self.grads:
            return self.grads[id(p)]
        name = self.code.name("g_" + self.operand(p).var.name)
        self.tape.text(f"{name} = {self.code.param(p, 'p')}.grad", "the gradient it holds")
        return self._opaque(np.asarray(p.grad), name)

    # ------------------------------------------------------------------ update

    def step(self, optimizer: Any) -> None:
        self._settle_zero_grad()  # (the update may read .grad: a gradient not yet set by then keeps zero_grad)
        self._check_written("before optimizer.step()")
        self.tape.block("update")
        if not stage_update(self, optimizer):
            name = self.code.ref(optimizer, "optimizer")
            rule = (type(optimizer).__doc__ or "").strip().splitlines()[0].rstrip(":")
            self.tape.text(f"{name}.step()", f"{rule}; its settings are read now", tuple(self.grads.values()))
        self.optimizers.append(optimizer)

    def after_step(self, optimizer: Any) -> None:
        for key, p in self.params.items():
            self.first_data[key] = p.data.copy()

    def number_check(self, check: Any, operands: tuple[Any, ...]) -> None:
        """A check on the numbers an op is given (number_checks.py): each replay runs it on its own arrays."""
        staged = [self._checked_operand(x) for x in operands]
        if all(x is None for x in staged):
            return  # constants only: they passed at trace time and cannot change
        self.cleared_by = None  # a zero_grad() before it stays: if it raises, eager has cleared the .grads
        parts = [x.var.name if x is not None else self.argument(a, "c") for x, a in zip(staged, operands)]
        name = self.code.ref(check, check.__name__.lstrip("_"))
        self.tape.block("forward")
        self.tape.text(
            f"{name}({', '.join(parts)})",
            check_comment(check),
            tuple(x for x in staged if x is not None),
        )

    def _checked_operand(self, x: Any) -> Staged | None:
        """A checked operand's stand-in: a Tensor as an op's operand (an input, a result, a tensor made outside fn,
        read afresh), its array then known by its memory to the op that reads it; an array by its memory."""
        if type(x) is Tensor:
            staged = self.operand(x)
            self._know(np.asarray(x.data), staged)
            return staged
        return self.known(x) if isinstance(x, np.ndarray) else None

    def zero_grad(self, owner: Any) -> None:
        self._settle_zero_grad()
        self.note_cleared(owner)
        self.tape.block(self.code.current or "forward")
        name = self.code.ref(owner, "optimizer" if hasattr(owner, "param_groups") else "model")
        line = self.tape.text(f"{name}.zero_grad()", "grad = None for every parameter")
        groups = getattr(owner, "param_groups", None)  # (what each zero_grad walks: Module's skips parameters())
        params = [p for g in groups for p in g["params"]] if groups else [p for _, p in owner._named_parameters()]
        self.cleared_by = (line, owner, params)
        self.grads.clear()

    def _settle_zero_grad(self) -> None:
        """The latest `zero_grad()` is left out of the code (kept as a comment) when backward then set every
        gradient it cleared (`p.grad = g`): the replay would set each to None and at once to its new array.
        Only the library's own zero_grad (a subclass's may do more) and only where nothing was left None."""
        if self.cleared_by is None:
            return
        line, owner, params = self.cleared_by
        self.cleared_by = None
        own = next(c for c in type(owner).__mro__ if "zero_grad" in c.__dict__)
        own = own if "zero_grad" not in getattr(owner, "__dict__", {}) else None  # (one set on the object itself)
        if own in (optim.Optimizer, nn_module.Module) and all(id(p) in self.grads for p in params):
            line.comment = f"# {line.line}: left out, as backward below sets every .grad it would clear"
            line.line = ""

    def _check_written(self, when: str) -> None:
        for key, p in self.params.items():
            if not _same_bits(p.data, self.first_data[key]):
                raise error(
                    f"the array of parameter {self.names.get(key) or p.name or tuple(p.shape)} was written by hand "
                    f"({when})",
                    "let an optimizer update it (opt = optim.SGD(model.parameters(), lr=0.1); opt.step() inside the "
                    "step), so that the replay does the same",
                )

    def finish(self) -> None:
        self._settle_zero_grad()
        self._check_written("in the step")
        for p in self.grad_written.values():
            if p.grad is None:
                self.tape.text(f"{self.code.param(p, 'p')}.grad = None", "the step cleared this gradient")

    # ------------------------------------------------------------------ the return value

    def result(self, x: Any) -> str:
        """Source text that rebuilds `fn`'s return value from the replay's arrays; writes the code into `code`."""
        self._result(x)  # (first to find what is returned: it leaves the step, so it is allocated at each
        for staged in self.returned:  # replay, as eager does; then again, with the names the code ended with)
            if staged.var.storage.kind in ("planned", "fresh"):
                staged.var.storage.kind = "pinned"
        layouts.choose(self.tape.items, self.code, self.supplied)
        buffers.plan(self.tape.items, self.code)
        buffers.render(self.tape.items, self.code)
        self.tape.release()
        return self._result(x)

    def _result(self, x: Any) -> str:
        if type(x) is Tensor:
            if id(x) in self.params:
                return self.code.param(x, "p")
            if id(x) in self.holder:
                return self.holder[id(x)]
            if id(x) not in self.st:
                return self.code.ref(x, "r")
            self.returned.append(self.st[id(x)])
            make = self.code.ref(_result, "_tensor")
            return f"{make}({self.st[id(x)].var.name}, {self.root_grad.get(id(x))}, {x.requires_grad!r})"
        text = container(x, self._result)
        if text is not None:
            return text
        if x is None or isinstance(x, bool | int | float | str):
            return repr(x)
        if isinstance(x, np.ndarray):
            for p in (*self.grad_written.values(), *self.params.values()):
                if isinstance(p.grad, np.ndarray) and _address(p.grad) == _address(x):  # a gradient: each call's
                    return f"{self.holder.get(id(p)) or self.code.param(p, 'p')}.grad"
        return self.code.ref(x, "r")


_UFUNCS = {
    ops.Add: np.add,
    ops.Sub: np.subtract,
    ops.Mul: np.multiply,
    ops.Div: np.true_divide,
    ops.Pow: np.power,
    ops.Neg: np.negative,
}
_VIEWS = {ops.Reshape, ops.Permute, ops.Index}


def _on_arrays_alone(op: Any, inputs: tuple[Any, ...], kwargs: dict) -> bool:
    """Whether eager computed this op on NumPy arrays: on a step's array arguments alone, NumPy computes the
    arithmetic above alike (in NumPy's dtype: `_same_dtype_as_numpy`, whatever operand cast the Tensor op
    makes on the way) and a reshape, transpose or index (not a layer's cast, a Reshape with `cast`). Then the
    result is an array too (`x / 16`, `y.reshape(-1)`), which a layer casts to its dtype as it casts one."""
    tensors = [x for x in inputs if type(x) is Tensor]
    return (
        (op in _UFUNCS or (op in _VIEWS and kwargs.get("cast") is None))
        and bool(tensors)
        and all(id(x) in array_arguments for x in tensors)
    )


def _same_dtype_as_numpy(op: Any, inputs: tuple[Any, ...], out: Tensor) -> None:
    """Arithmetic on a step's array arguments alone (`_on_arrays_alone`) and numbers: eagerly NumPy computes it,
    in NumPy's dtype (a uint8 batch minus 0.5 is float64); a Tensor input computes in PyTorch's (float32).
    Where the two differ, refuse."""
    ufunc = _UFUNCS.get(op)
    if ufunc is None:
        return
    tensors = [x for x in inputs if type(x) is Tensor]
    try:  # (arrays as 0-d stand-ins of their dtype; a Python number stays one: NumPy treats it as weak)
        numpy_dtype = ufunc(
            *(np.empty((), _dtype(x)) if isinstance(x, Tensor | np.ndarray) else x for x in inputs)
        ).dtype
    except (TypeError, ValueError):  # NumPy refuses them (an integer to a negative power): eager raises too
        return
    if numpy_dtype != out.data.dtype:
        raise CompileError(
            f"compile: {op.__name__.lower()} of an array argument of dtype {tensors[0].data.dtype} at {where()}: "
            f"eagerly NumPy computes it in {numpy_dtype}, a compiled step (its arguments are Tensors) in "
            f"{out.data.dtype}, so the numbers would differ; convert the batch before the call "
            "(step(x.astype(np.float32), y)) or do this arithmetic outside the step"
        )


def _dtype(x: Tensor | np.ndarray) -> np.dtype:
    return x.data.dtype if type(x) is Tensor else x.dtype


def _root(a: np.ndarray) -> np.ndarray:
    """The array that owns `a`'s memory (`a` itself, or the base its views lead to)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _address(a: np.ndarray) -> tuple[int, tuple, tuple, str]:
    """What makes two arrays the same numbers: their memory, shape, strides and dtype."""
    return a.__array_interface__["data"][0], a.shape, a.strides, a.dtype.str


def _result(array: np.ndarray, grad: Any, requires_grad: bool) -> Tensor:
    """A returned tensor as the eager step leaves it: its value, and for the root of backward its gradient."""
    t = Tensor.__new__(Tensor)
    t.data, t.grad, t.name, t.requires_grad = array, grad, None, requires_grad
    t._op, t._parents, t._saved, t._needs = None, (), None, ()
    t._order = tick()
    return t
