"""The tensor engine's step as code: one line per op, calling the op's own formula from `ops.py`.

Forward: `h, s_h = Sigmoid.forward(z)` is exactly what `Tensor.sigmoid` runs, without the node
bookkeeping. Backward: the chain rule of `tensor._backprop` played once at trace time on the real
arrays (so every shape, dtype, broadcast and accumulation is known) and written down as the
calls it made: `g_z, = Sigmoid.backward(s_h, g_h, (True,))`. Each formula stays written once, in
`ops.py`; the generated code only fixes the order, which is what a replay saves: the heap, the
pending dicts, the Tensor objects. Update: the optimizer's own `step()`, which reads its
`param_groups` (learning rate, momentum, betas) and its state (Adam's step count) at every call.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any

import numpy as np

from .. import ops
from ..formulas import unbroadcast
from ..tensor import Tensor
from .code import Code, container, identifier
from .record import Listener
from .refuse import engine_reads, error, traced


def _doc(op: type[ops.Op]) -> tuple[str, str]:
    """(forward maths, backward maths) from the op's docstring `z = ... · dz/dx = ...`."""
    first = (op.__doc__ or op.__name__).strip().splitlines()[0]
    forward, _, backward = first.partition("·")
    return f"{op.__name__}: {forward.strip()}", f"{op.__name__}: {backward.strip() or forward.strip()}"


class TensorStep(Listener):
    """Writes the code of one trace of a Tensor step as the eager engine runs it."""

    def __init__(self, code: Code, names: dict[int, str], start_tick: int) -> None:
        super().__init__()
        self.code = code
        self.names = names  # id(parameter) -> its name in the model (layers.0.weight)
        self.start = start_tick
        self.var: dict[int, str] = {}  # id(tensor) -> the variable holding its array
        self.saved: dict[int, str] = {}  # id(result) -> the variable holding what its op saved
        self.keep: list[Any] = []  # objects whose ids are keys above stay alive during the trace
        self.params: dict[int, Tensor] = {}
        self.first_data: dict[int, np.ndarray] = {}  # a copy of each parameter's array at its first use
        self.inputs: dict[tuple[int, tuple, tuple], str] = {}  # (address, shape, strides) -> input variable
        self.grad_written: dict[int, Tensor] = {}
        self.root_grad: dict[int, str] = {}
        self.optimizers: list[Any] = []
        self.literals: set[float] = set()  # numbers written in fn itself (printed as they are)
        self.named: dict[float, str] = {}
        self.arrays: dict[int, str] = {}  # id(traced array) -> its variable (a detach() shares the array)
        self.traced: list[tuple[Tensor, np.ndarray]] = []  # tensors whose arrays are TracedArrays during the trace
        self.holder: dict[int, str] = {}  # id(input Tensor) -> the replay's name for the Tensor object itself

    # ------------------------------------------------------------------ inputs and operands

    def take_inputs(self, args: tuple[Any, ...], names: list[str], trace: bool = True) -> tuple[list[Any], Any]:
        """fn's arguments as Tensors (arrays wrapped without a copy, numbers as 0-d float32), and an undo."""
        converted, undo = [], []
        if trace:
            self.code.block("forward")
        for a, name in zip(args, names):
            if type(a) is Tensor:
                t = a
                if trace:
                    var = self.code.name(name + "_data")
                    self.code.emit(f"{var} = {name}.data", f"input {name}")
                    undo.append((t, t.data))
                    self.add_input(t, var, holder=name)
            elif isinstance(a, np.ndarray):
                t = Tensor.from_numpy(np.asarray(a))
                if trace:
                    self.add_input(t, name)
            else:
                t = Tensor(a)
                if trace:
                    var = self.code.name(name + "_t")
                    self.code.emit(f"{var} = np.array({name}, dtype=np.{t.dtype})", f"input {name}, a 0-d tensor")
                    self.add_input(t, var)
            converted.append(t)

        def restore() -> None:
            for t, data in [*self.traced, *undo]:
                t.data = data

        return converted, restore

    def add_input(self, t: Tensor, name: str, holder: str | None = None) -> None:
        """An input of the step: its array is variable `name` (and the Tensor object `holder`, if passed as one)."""
        self.var[id(t)] = name
        if holder:
            self.holder[id(t)] = holder
        self.keep.append(t)
        a = t.data
        self.inputs[(a.__array_interface__["data"][0], a.shape, a.strides)] = name
        self.traced.append((t, t.data))
        t.data = traced(t.data)
        self.arrays[id(t.data)] = name

    def operand(self, x: Any) -> str:
        if type(x) is Tensor:
            if id(x) in self.var:
                return self.var[id(x)]
            return self._leaf(x)
        return self.argument(x, "c")

    def _leaf(self, t: Tensor) -> str:
        """A leaf the step reads: a parameter, or a constant tensor (read afresh, or frozen if made inside)."""
        self.keep.append(t)
        if id(t.data) in self.arrays:  # t.detach() of a traced tensor: the same array, no gradient
            name = self.arrays[id(t.data)]
            self.var[id(t)] = name
            return name
        if t.requires_grad:
            label = self.names.get(id(t)) or t.name or "p"
            name = self.code.name(label)
            holder = self.code.param(t, name)
            self.code.emit(f"{name} = {holder}.data", f"parameter {label}, shape {t.shape}")
            self.params[id(t)] = t
            self.first_data[id(t)] = t.data.copy()
        elif t._order > self.start:
            name = self.code.constant(np.array(t.data), identifier(t.name or "k"), "a tensor made inside the step")
        else:
            label = t.name or "k"
            name = self.code.name(label)
            holder = self.code.ref(t, "T_" + name)
            self.code.emit(f"{name} = {holder}.data", f"tensor {label} made outside the step, read now")
            self.code.live.append(f"{holder}: a tensor of shape {t.shape} made outside fn (its .data now)")
        self.var[id(t)] = name
        return name

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
            key = (a.__array_interface__["data"][0], a.shape, a.strides)
            if key in self.inputs:
                return self.inputs[key]
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

    def tensor_op(self, op: Any, inputs: tuple[Any, ...], args: tuple[Any, ...], kwargs: dict, out: Any) -> None:
        code = self.code
        code.block("forward")
        kwargs = dict(kwargs)
        cast = kwargs.pop("cast", None)  # `_apply` casts the operands first (PyTorch's type promotion)
        parts = [self.operand(x) for x in inputs]
        if cast is not None:
            parts = [f"np.asarray({part}).astype(np.{np.dtype(cast)}, copy=False)" for part in parts]
        parts += [self.argument(a, "c") for a in args]
        parts += [f"{k}={self.argument(v, 'c')}" for k, v in kwargs.items()]
        name = code.name(out.name or op.__name__.lower())
        cls = code.ref(op, op.__name__)
        forward, _ = _doc(op)
        if out._op is not None:  # recorded: backward will want what the op saved
            saved = code.name("s_" + name)
            self.saved[id(out)] = saved
            code.emit(f"{name}, {saved} = {cls}.forward({', '.join(parts)})", forward)
        else:
            code.emit(f"{name}, _ = {cls}.forward({', '.join(parts)})", forward)
        if out.data.ndim == 0:
            code.emit(f"{name} = np.asarray({name})", "a reduction gives a NumPy scalar; a tensor holds an array")
        self.var[id(out)] = name
        self.keep.append(out)
        self.traced.append((out, out.data))
        out.data = traced(out.data)
        self.arrays[id(out.data)] = name

    # ------------------------------------------------------------------ backward

    def backward(self, root: Any, gradient: Any) -> None:
        """Play `tensor._backprop` over the graph behind `root`, writing each call it makes."""
        code = self.code
        code.block("backward")
        g_root = code.name("g_" + self.var.get(id(root), "root"))
        if gradient is None:
            seed = np.ones(root.data.shape, dtype=root.data.dtype)
            code.emit(f"{g_root} = np.ones({root.shape!r}, dtype=np.{root.dtype})", "dL/dL = 1")
        else:
            given = gradient.data if type(gradient) is Tensor else gradient
            seed = np.array(given, dtype=root.data.dtype)
            text = self.operand(gradient) if type(gradient) is Tensor else self.argument(np.asarray(gradient), "seed")
            code.emit(f"{g_root} = np.array({text}, dtype=np.{root.dtype})", "the gradient backward() was given")
        self.root_grad[id(root)] = g_root
        pending: dict[Tensor, list[Any]] = {}  # node -> [array, variable, owned]
        frontier: list[tuple[int, int, Tensor]] = []
        if root._op is not None:
            heappush(frontier, (-root._order, id(root), root))
        pending[root] = [seed, g_root, True]
        with engine_reads():
            while frontier:
                node = heappop(frontier)[2]
                g, g_var, _ = pending.pop(node)
                op = node._op
                outs = []
                for parent, need in zip(node._parents, node._needs):
                    outs.append(code.name("g_" + self.var.get(id(parent), "x")) if need else "_")
                grads = op.backward(node._saved, g, node._needs)
                cls = code.ref(op, op.__name__)
                target = outs[0] + "," if len(outs) == 1 else ", ".join(outs)
                code.emit(f"{target} = {cls}.backward({self.saved[id(node)]}, {g_var}, {node._needs!r})", _doc(op)[1])
                for parent, grad, need, var in zip(node._parents, grads, node._needs, outs):
                    if not need or grad is None:
                        continue
                    self._arrive(pending, frontier, parent, grad, var, g)
        for leaf, (g, var, owned) in pending.items():
            if leaf.requires_grad:
                self._to_leaf(leaf, g, var, owned)

    def _arrive(self, pending: dict, frontier: list, parent: Tensor, grad: Any, var: str, g: Any) -> None:
        """One gradient reaching `parent`: `_backprop`'s usual edge, or `_hand_over` (sum it back, cast, add)."""
        code = self.code
        code.ref(unbroadcast, "unbroadcast")
        shape, dtype = parent.data.shape, parent.data.dtype
        if parent not in pending:
            if parent._op is not None:
                heappush(frontier, (-parent._order, id(parent), parent))
            if type(grad) is np.ndarray and grad.dtype == dtype:
                owned = False
                if grad.shape != shape:
                    grad = np.asarray(unbroadcast(grad, shape))
                    code.emit(f"{var} = np.asarray(unbroadcast({var}, {shape!r}))", "summed over the broadcast axes")
                    owned = True
                elif grad is not g and grad.base is None:
                    owned = True
                pending[parent] = [grad, var, owned]
                return
        fresh = grad is not g and type(grad) is np.ndarray and grad.base is None
        if np.shape(grad) != shape:
            grad = unbroadcast(grad, shape)
            code.emit(f"{var} = unbroadcast({var}, {shape!r})", "summed over the broadcast axes")
            fresh = type(grad) is np.ndarray
        if type(grad) is not np.ndarray:
            grad = np.asarray(grad)
            code.emit(f"{var} = np.asarray({var})")
        if grad.dtype != dtype:
            grad = grad.astype(dtype)
            code.emit(f"{var} = {var}.astype(np.{dtype})", f"cast to the input's dtype {dtype}")
            fresh = True
        entry = pending.get(parent)
        if entry is None:
            pending[parent] = [grad, var, fresh]
        elif entry[2]:
            entry[0] = entry[0] + grad
            code.emit(f"{entry[1]} += {var}", "a second path: gradients add up")
        else:
            entry[0] = np.asarray(entry[0] + grad)
            code.emit(f"{entry[1]} = np.asarray({entry[1]} + {var})", "a second path: gradients add up")
            entry[2] = True

    def _to_leaf(self, leaf: Tensor, g: Any, var: str, owned: bool) -> None:
        code = self.code
        self.note_grad(leaf)
        holder = self.holder.get(id(leaf)) or code.param(leaf, self.var[id(leaf)])
        label = self.var[id(leaf)]
        if leaf.grad is None:
            copy = "" if owned else ".copy()"
            code.emit(f"{holder}.grad = {var}{copy}", f"dL/d{label}")
        else:
            code.emit(f"{holder}.grad += {var}", f"dL/d{label}, added to the gradient it had")
        self.grad_written[id(leaf)] = leaf

    # ------------------------------------------------------------------ update

    def step(self, optimizer: Any) -> None:
        self._check_written("before optimizer.step()")
        self.code.block("update")
        name = self.code.ref(optimizer, "optimizer")
        rule = (type(optimizer).__doc__ or "").strip().splitlines()[0].rstrip(":")
        self.code.emit(f"{name}.step()", f"{rule}; its settings are read now")
        self.optimizers.append(optimizer)

    def after_step(self, optimizer: Any) -> None:
        for key, p in self.params.items():
            self.first_data[key] = p.data.copy()

    def zero_grad(self, owner: Any) -> None:
        self.note_cleared(owner)
        self.code.block(self.code.current or "forward")
        name = self.code.ref(owner, "optimizer" if hasattr(owner, "param_groups") else "model")
        self.code.emit(f"{name}.zero_grad()", "grad = None for every parameter")

    def _check_written(self, when: str) -> None:
        for key, p in self.params.items():
            if not np.array_equal(p.data, self.first_data[key], equal_nan=True):
                raise error(
                    f"the array of parameter {self.names.get(key) or p.name or tuple(p.shape)} was written by hand "
                    f"({when})",
                    "let an optimizer update it (opt = optim.SGD(model.parameters(), lr=0.1); opt.step() inside the "
                    "step), so that the replay does the same",
                )

    def finish(self) -> None:
        self._check_written("in the step")
        for p in self.grad_written.values():
            if p.grad is None:
                self.code.emit(f"{self.code.param(p, 'p')}.grad = None", "the step cleared this gradient")

    # ------------------------------------------------------------------ the return value

    def result(self, x: Any) -> str:
        """Source text that rebuilds `fn`'s return value from the replay's arrays."""
        if type(x) is Tensor:
            if id(x) in self.params:
                return self.code.param(x, "p")
            if id(x) in self.holder:
                return self.holder[id(x)]
            if id(x) not in self.var:
                return self.code.ref(x, "r")
            make = self.code.ref(_result, "_tensor")
            return f"{make}({self.var[id(x)]}, {self.root_grad.get(id(x))}, {x.requires_grad!r})"
        text = container(x, self.result)
        if text is not None:
            return text
        if x is None or isinstance(x, bool | int | float | str):
            return repr(x)
        return self.code.ref(x, "r")


def _result(array: np.ndarray, grad: Any, requires_grad: bool) -> Tensor:
    """A returned tensor as the eager step leaves it: its value, and for the root of backward its gradient."""
    t = Tensor.__new__(Tensor)
    t.data, t.grad, t.name, t.requires_grad = array, grad, None, requires_grad
    t._op, t._parents, t._saved, t._needs = None, (), None, ()
    from ..graph import tick

    t._order = tick()
    return t
