"""`Module`: the bookkeeping every layer shares, with PyTorch's contract, for both engines.

A module finds its parameters and sub-modules by watching attribute assignment (`__setattr__`):

* a leaf `Tensor` or `Value` with `requires_grad=True` is a parameter (a result computed by ops,
  such as an activation kept for later, stays a plain attribute, as in PyTorch);
* a (nested, rectangular) list of `Value`s that all require grad is one parameter of that shape,
  the scalar engine's stand-in for an array: `weight[i][j]` is what `weight[i, j]` is on Tensors;
* a `Module` (a `ModuleList` or `Sequential` of them too) is a child.

PyTorch's rule for containers: a plain list, tuple or dict of Modules is *not* registered (wrap it
in `ModuleList`); `parameters()` warns (`UnregisteredParametersWarning`) when it finds one. The
one exception is the scalar engine's array above: a list of Values is a parameter when assigned.
Assigning a non-parameter over a parameter (`layer.weight = Tensor(values)`) raises
`ParameterAssignmentError` (PyTorch raises too): set values in place or use `load_state_dict`.

Naming. `named_parameters()` yields what an optimizer updates: a Tensor under its attribute name
(`0.weight`), and every scalar `Value` on its own, its list indices appended (`0.weight.1.0` is row 1,
column 0). `state_dict()` packs a list of Values back into one array under the attribute name
(`0.weight`, shape `(out, in)`), so a model exchanges state dicts with the same model on the other
engine, and with `torch.nn`.
"""

from __future__ import annotations

import sys
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from ..errors import (
    ArgumentTypeError,
    DTypeError,
    MixedEngineError,
    ParameterAssignmentError,
    ParameterNameError,
    ShapeError,
    UnregisteredParametersWarning,
)
from ..graph import no_grad
from ..tensor import Tensor
from ..value import Value
from ..versions import bump_version
from . import hooks
from .hooks import RemovableHandle as RemovableHandle  # here too, at PyTorch's path (torch.nn.modules.module)
from .hooks import register_module_forward_hook as register_module_forward_hook
from .hooks import register_module_forward_pre_hook as register_module_forward_pre_hook

Parameter = Tensor | Value
_REGISTRIES = ("_parameters", "_modules")  # a module's own bookkeeping dicts, not user attributes


# ---------------------------------------------------------------------- state slots
# A slot is one state_dict entry: its shape, and how to read it out and write it back in place.


class _Slot:
    """One `state_dict` entry over a Tensor, a Value, or a rectangular nested list of Values."""

    __slots__ = ("obj", "shape")

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        self.shape = obj.shape if type(obj) is Tensor else _grid_shape(obj)

    def read(self) -> np.ndarray:
        if type(self.obj) is Tensor:
            return self.obj.data.copy()
        return np.array(_grid_map(self.obj, lambda v: v.data), dtype=np.float64)

    def write(self, array: np.ndarray) -> None:
        """Copy `array` (already checked to have `self.shape`) into the parameter, in place.

        In place, so an optimizer holding the parameter keeps working after a load.
        """
        if type(self.obj) is Tensor:
            np.copyto(self.obj.data, array, casting="unsafe")
            bump_version(self.obj)  # a graph recorded before the load must not backpropagate through new weights
            return
        for value, number in zip(_grid_leaves(self.obj), np.asarray(array, dtype=np.float64).reshape(-1).tolist()):
            value.data = number


def _grid_shape(obj: Any) -> tuple[int, ...]:
    """The shape of a Value (`()`) or of a rectangular nested list of Values."""
    shape: list[int] = []
    while type(obj) is not Value:
        shape.append(len(obj))
        obj = obj[0]
    return tuple(shape)


def _grid_leaves(obj: Any) -> Iterator[Value]:
    """The Values of a nested list in row-major order (what `ndarray.reshape(-1)` gives)."""
    if type(obj) is Value:
        yield obj
        return
    for item in obj:
        yield from _grid_leaves(item)


def _grid_named(obj: Any, prefix: str) -> Iterator[tuple[str, Value]]:
    """(`prefix.i.j`, value) for each Value of a nested list; a lone Value keeps `prefix`."""
    if type(obj) is Value:
        yield prefix, obj
        return
    for i, item in enumerate(obj):
        yield from _grid_named(item, f"{prefix}.{i}")


def _grid_map(obj: Any, fn: Callable[[Value], Any]) -> Any:
    return fn(obj) if type(obj) is Value else [_grid_map(item, fn) for item in obj]


def _is_value_grid(obj: object) -> bool:
    """True for a non-empty nested list whose leaves are all leaf Values that require grad."""
    if not isinstance(obj, list) or not obj:
        return False
    stack: list[Any] = [obj]
    while stack:
        item = stack.pop()
        if type(item) is Value:
            if not item.requires_grad or item.parents:  # a computed Value is a result, not a parameter
                return False
        elif isinstance(item, list) and item:
            stack.extend(item)
        else:
            return False
    return True


def _check_rectangular(name: str, grid: list[Any]) -> None:
    """A list of Values is an array: every row needs the same length (and depth)."""
    shape = _grid_shape(grid)
    count = sum(1 for _ in _grid_leaves(grid))
    if count != int(np.prod(shape)):
        raise ShapeError(
            f"{name}: a list of Values is registered as one parameter array, so its rows must all have "
            f"the same length (the first rows suggest shape {shape}); pad or split the list"
        )


def parameter_slot(param: Any) -> _Slot:
    """The state slot of a parameter (used by `nn.init` to fill Tensors and Value lists alike)."""
    if type(param) is Tensor or type(param) is Value or _is_value_grid(param):
        return _Slot(param)
    raise ArgumentTypeError(
        f"expected a Tensor, a Value or a (nested) list of Values that require grad, got {type(param).__name__}"
    )


def _assignment_message(module: Module, name: str, value: Any) -> str:
    """Why `module.name = value` is refused, and how to do what was meant."""
    current = module._parameters[name]
    what = type(value).__name__
    if type(value) in (Tensor, Value):
        what += " computed by ops (not a leaf)" if value.requires_grad else " that does not require grad"
    if type(current) is Tensor:
        set_values = f"with no_grad(): layer.{name}.data[...] = new_values"
        replace = "assign Tensor(new_values, requires_grad=True)"
    elif type(current) is Value:
        set_values = f"with no_grad(): layer.{name}.data = new_value"
        replace = "assign Value(new_value)"
    else:
        set_values = f"load_state_dict({{{name!r}: array}}) or set each layer.{name}[i][j].data"
        replace = "assign a new list of Values"
    return (
        f"cannot assign a {what} to {type(module).__name__}.{name}, which is a parameter: it would silently drop "
        f"out of parameters() and state_dict(). To set its values in place (optimizers keep working): "
        f"{set_values}, or model.load_state_dict(...). To replace the parameter: {replace}. "
        f"To remove it: del layer.{name} (or assign None)"
    )


def _is_trainable(obj: object) -> bool:
    """A leaf Tensor or Value that requires grad (what a module would register as a parameter)."""
    if type(obj) is Tensor:
        return obj.requires_grad and obj.is_leaf  # `_op`, which stays after backward releases the graph
    return type(obj) is Value and obj.requires_grad and not obj.parents


def _unregistered_fix(container: list[Any] | tuple[Any, ...] | dict[Any, Any]) -> tuple[str, str] | None:
    """(what the plain container holds, the fix) if it holds Modules or parameters, else None."""
    items = list(container.values()) if isinstance(container, dict) else list(container)
    if any(isinstance(leaf, Module) for leaf in _leaves_of(items)):
        if isinstance(container, dict):
            return "Modules", "assign each one as its own attribute (setattr(self, key, module))"
        return "Modules", "wrap it in nn.ModuleList([...]) (or nn.Sequential(...) to call them in order)"
    if not any(_is_trainable(leaf) for leaf in _leaves_of(items)):  # stops at the first one
        return None
    if isinstance(container, list) and all(type(leaf) is Value and leaf.requires_grad for leaf in _leaves_of(items)):
        return (
            "Values filled in after it was assigned",
            "assign the filled list (self.w = [Value(...) for ...]): a list of Values is registered as one "
            "parameter array when it is assigned",
        )
    return "parameters", "assign each parameter as its own attribute, or keep each in a Module held by nn.ModuleList"


def _leaves_of(items: list[Any]) -> Iterator[Any]:
    """What nested lists, tuples and dicts hold, at any depth."""
    stack = list(items)
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        else:
            yield item


def _outside_package() -> int:
    """The `stacklevel` that points a warning at the user's line, past this package's frames."""
    frame, level = sys._getframe(1), 1
    package = __name__.split(".")[0]
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == package:
        frame, level = frame.f_back, level + 1
    return level


def _dotted_name_message(module: Module, name: str, value: Any) -> str:
    kind = "sub-module" if isinstance(value, Module) else "parameter"
    if not name:
        return f"{type(module).__name__}: a {kind} needs a name; an empty one has no state_dict key"
    head, _, tail = name.partition(".")
    return (
        f"{type(module).__name__}: cannot register a {kind} named {name!r}: state_dict keys join names with '.', "
        f"so {name!r} would also be the key of {tail!r} inside a sub-module {head!r}, and save/load would keep "
        f"only one of them (PyTorch refuses it too). Use a name without dots, such as {name.replace('.', '_')!r}"
    )


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` skipped (PyTorch returns the same pair)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


# ---------------------------------------------------------------------- Module


class Module:
    """Base class of every layer and model: subclass it, assign layers and parameters in
    `__init__`, write `forward`; call the module (not `forward`) to run it.

    `engine` is "tensor", "value", or None for modules that work on either (activations).
    """

    engine: str | None = None

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() ran; call super().__init__() first "
                f"in {type(self).__name__}.__init__"
            )
        single = type(value) is Tensor or type(value) is Value
        is_parameter = _is_trainable(value) if single else _is_value_grid(value)
        # As PyTorch: over a parameter only a parameter (or None); over a sub-module only a Module (or None).
        if name in self._parameters and not (is_parameter or value is None):
            raise ParameterAssignmentError(_assignment_message(self, name, value))
        if name in self._modules and not (isinstance(value, Module) or value is None):
            raise ParameterAssignmentError(
                f"cannot assign a {type(value).__name__} to {type(self).__name__}.{name}, which is a sub-module: "
                f"its parameters would silently drop out of parameters() and state_dict(). Assign a Module, "
                f"or remove it first: del model.{name} (or assign None)"
            )
        if (is_parameter or isinstance(value, Module)) and ("." in name or not name):
            raise ParameterNameError(_dotted_name_message(self, name, value))
        # A replaced entry keeps its place (PyTorch's order), so state_dict keys keep their order.
        if isinstance(value, Module):
            self._parameters.pop(name, None)
            self._modules[name] = value
        elif is_parameter:
            if not single:
                _check_rectangular(f"{type(self).__name__}.{name}", value)
            self._modules.pop(name, None)
            self._parameters[name] = value
        else:
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
        # Also a plain attribute, so reading `self.weight` in forward costs no lookup hook.
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    # ------------------------------------------------------------------ running

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward(...)")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if hooks.active:  # global forward hooks (nn.hooks), e.g. viz.record_modules() while it records
            return hooks.call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and every descendant (returns self)."""
        for _, module in self.named_modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode: `train(False)`."""
        return self.train(False)

    # ------------------------------------------------------------------ walking the tree

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all below it, depth first, with dotted names ("" for self)."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue  # a shared module is listed once, under its first name
            seen.add(id(module))
            yield name, module
            below = [
                (f"{name}.{child_name}" if name else child_name, child) for child_name, child in module._modules.items()
            ]
            stack.extend(reversed(below))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every trainable Tensor / scalar Value, with dotted names; shared ones once."""
        self._warn_unregistered()
        return self._named_parameters(prefix)

    def _named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        seen: set[int] = set()
        for module_name, module in self.named_modules(prefix):
            for name, param in module._parameters.items():
                full = f"{module_name}.{name}" if module_name else name
                leaves = [(full, param)] if type(param) is Tensor else _grid_named(param, full)
                for leaf_name, leaf in leaves:
                    if id(leaf) not in seen:
                        seen.add(id(leaf))
                        yield leaf_name, leaf

    def parameters(self) -> Iterator[Parameter]:
        for _, param in self.named_parameters():
            yield param

    def _warn_unregistered(self) -> None:
        """Warn about plain containers of Modules or parameters: PyTorch's rule is that only
        `ModuleList` / `Sequential` register, so their parameters would be missed silently."""
        for module_name, module in self.named_modules():
            for name, attr in vars(module).items():
                registered = name in module._parameters or name in module._modules or name in _REGISTRIES
                if registered or not isinstance(attr, (list, tuple, dict)):
                    continue
                fix = _unregistered_fix(attr)
                if fix:
                    where = f"{module_name}.{name}" if module_name else name
                    warnings.warn(
                        f"{type(module).__name__}.{name} (model attribute {where!r}) is a plain {type(attr).__name__} "
                        f"holding {fix[0]}, which a module does not register: parameters() and state_dict() "
                        f"leave them out, so they are never trained or saved. Fix: {fix[1]}",
                        UnregisteredParametersWarning,
                        stacklevel=_outside_package(),
                    )

    def num_parameters(self) -> int:
        """How many numbers training adjusts (a Tensor counts its size, a Value 1)."""
        return sum(p.size if type(p) is Tensor else 1 for p in self.parameters())

    def zero_grad(self) -> None:
        """Forget the gradients (`grad = None`), as PyTorch does by default."""
        for _, param in self._named_parameters():  # every step: no scan for plain lists here
            param.grad = None

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every module (children first, as in PyTorch); returns self."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    # ------------------------------------------------------------------ state

    def _state_slots(self) -> Iterator[tuple[str, _Slot]]:
        """This module's own state entries (children excluded). Override to pack state differently."""
        for name, param in self._parameters.items():
            yield name, _Slot(param)

    def _state_children(self) -> Iterator[tuple[str, Module]]:
        """The children whose state is listed under their own prefix (none, if `_state_slots` packs them)."""
        return self.named_children()

    def _named_slots(self) -> Iterator[tuple[str, _Slot]]:
        stack: list[tuple[str, Module]] = [("", self)]
        while stack:
            prefix, module = stack.pop()
            for name, slot in module._state_slots():
                yield prefix + name, slot
            stack.extend(reversed([(f"{prefix}{name}.", child) for name, child in module._state_children()]))

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """name -> a copy of the parameter as a NumPy array (a Value list packed into one array)."""
        return OrderedDict((name, slot.read()) for name, slot in self._named_slots())

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy `state_dict`'s arrays into the parameters, in place, after checking all of it.

        Every name and shape is checked before anything is copied, so a state dict that does not
        fit raises `ShapeError` (listing the missing, unexpected and mis-shaped keys) and leaves the
        model as it was. `strict=False` skips missing and unexpected keys (never wrong shapes).
        """
        slots = OrderedDict(self._named_slots())
        arrays: dict[str, np.ndarray] = {}
        for key, value in state_dict.items():
            try:
                array = np.asarray(value)
            except (TypeError, RuntimeError, ValueError) as error:
                raise DTypeError(
                    f"load_state_dict: {key!r} cannot become a NumPy array ({error}); "
                    "pass NumPy arrays (for torch tensors: t.detach().numpy())"
                ) from None
            if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
                raise DTypeError(f"load_state_dict: {key!r} holds {array.dtype} data; parameters need numbers")
            arrays[key] = array
        missing = [k for k in slots if k not in arrays]
        unexpected = [k for k in arrays if k not in slots]
        mis_shaped = [
            f"{k} is {arrays[k].shape} in the state_dict but {slots[k].shape} in the model"
            for k in slots
            if k in arrays and arrays[k].shape != slots[k].shape
        ]
        if mis_shaped or (strict and (missing or unexpected)):
            lines = [f"load_state_dict: the state_dict does not fit this {type(self).__name__}; nothing was loaded."]
            if missing:
                lines.append(f"  missing keys (in the model, not in the state_dict): {', '.join(missing)}")
            if unexpected:
                lines.append(f"  unexpected keys (in the state_dict, not in the model): {', '.join(unexpected)}")
            if mis_shaped:
                lines.append(f"  mis-shaped keys: {'; '.join(mis_shaped)}")
            lines.append(
                "  Fix: build the model with the same layers and sizes as the one that was saved"
                + (", or pass strict=False to skip missing and unexpected keys" if not mis_shaped else "")
            )
            raise ShapeError("\n".join(lines))
        with no_grad():
            for key, slot in slots.items():
                if key in arrays:
                    slot.write(arrays[key])
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr line (its settings)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = [extra] if extra and self._modules else []
        for name, module in self._modules.items():
            lines.append(f"({name}): " + repr(module).replace("\n", "\n  "))
        if not lines:
            return f"{type(self).__name__}({extra})"
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"


# ---------------------------------------------------------------------- containers


class ModuleList(Module):
    """A list of modules, registered as children "0", "1", ... (no forward of its own)."""

    def __init__(self, modules: Any = ()) -> None:
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise ArgumentTypeError(f"{type(self).__name__}.append: expected a Module, got {type(module).__name__}")
        setattr(self, str(len(self._modules)), module)
        return self

    def extend(self, modules: Any) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.values())
        if isinstance(index, slice):
            return type(self)(items[index]) if type(self) is ModuleList else _sliced(self, items[index])
        return items[index]

    def __setitem__(self, index: int, module: Module) -> None:
        names = list(self._modules)
        setattr(self, names[index], module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))


def _sliced(container: ModuleList, items: list[Module]) -> ModuleList:
    return type(container)(*items)  # Sequential takes modules as arguments


class Sequential(ModuleList):
    """Modules applied one after the other: `Sequential(Linear(2, 3), Sigmoid(), Linear(3, 2))`.

    Children are named "0", "1", ... (or by an `OrderedDict`'s keys). All modules with an engine must
    share it; `engine=` states it up front (a mismatch raises `MixedEngineError`).
    """

    def __init__(self, *modules: Module, engine: str | None = None) -> None:
        Module.__init__(self)
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                setattr(self, name, module)
        else:
            for module in modules:
                self.append(module)
        engines = {m.engine for m in self._modules.values() if m.engine is not None}
        if engine is not None:
            engines.add(engine)
        if len(engines) > 1:
            raise MixedEngineError(
                f"Sequential: the layers use different engines ({', '.join(sorted(engines))}); build every "
                "layer with the same engine= argument"
            )
        object.__setattr__(self, "engine", engines.pop() if engines else None)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x
