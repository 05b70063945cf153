"""Models across the bridge: one converter per layer, each way, and what each conversion paired.

A converter builds the other side's module with the same structure, settings and `state_dict` keys;
the numbers are copied afterwards, in one place for every module (`_copy_to_torch`, `_copy_from_torch`),
so a converter never touches a value and a registered one cannot get the copy wrong.

Which converter: the first class in the module's MRO that has one, user-registered first. A class
met on the way that defines its own behaviour (`forward`, an activation's `function`, its own state
layout) makes the module unknown: its forward is Python we cannot translate, so it is refused, naming
the class and `register_torch`. So a subclass of `Sequential` that only builds its layers in
`__init__` converts as a Sequential, and a custom Module with no forward of its own (a container)
converts as a container of its converted children.
"""

from __future__ import annotations

import inspect
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import nn
from ..errors import ArgumentTypeError, ConversionError
from ..nn.engines import check_engine, engine_of
from ..nn.module import Module, _grid_leaves
from ..tensor import Tensor
from ..value import Value
from ._torch import require_torch, torch_name

# fn(module) -> a torch.nn.Module with the same state_dict keys; fn(torch_module, engine) -> our Module.
ToTorch = Callable[[Module], Any]
FromTorch = Callable[[Any, str], Module]

_USER_TO: dict[type, ToTorch] = {}  # registered by the user, looked up before the built-in converters
_USER_FROM: dict[type, FromTorch] = {}

# What the conversions paired, for the optimizers: per torch model, our parameter leaves by id (leaf, state_dict
# key, index in the packed array); per our model, the torch parameters by id (parameter, key). Weak keys: a
# record goes when its model goes.
_OURS_OF: weakref.WeakKeyDictionary[Any, dict[int, tuple[Any, str, int]]] = weakref.WeakKeyDictionary()
_TORCH_OF: weakref.WeakKeyDictionary[Module, dict[int, tuple[Any, str]]] = weakref.WeakKeyDictionary()
_ENGINE_OF: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()  # torch model -> our model's engine
_PINNED: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()  # made from a layer built with engine=

_OUR_BEHAVIOUR = ("forward", "function", "_state_slots", "_state_children", "__call__")
_TORCH_BEHAVIOUR = ("forward", "__call__", "_call_impl")
_NUMPY_DTYPES = ("float16", "float32", "float64")


def register(cls: type, fn: Callable[..., Any]) -> None:
    """Register a converter: for a tinygrad_edu Module class, `fn(module)` returns the torch.nn.Module;
    for a torch.nn.Module class, `fn(torch_module, engine)` returns our Module."""
    if not isinstance(cls, type):
        raise ArgumentTypeError(f"register_torch: expected a Module class, got {type(cls).__name__} {cls!r}")
    if not callable(fn):
        raise ArgumentTypeError(f"register_torch: the converter must be callable, got {type(fn).__name__}")
    if issubclass(cls, Module):
        _USER_TO[cls] = fn
        return
    torch = require_torch("register_torch")
    if not issubclass(cls, torch.nn.Module):
        raise ArgumentTypeError(
            f"register_torch: {cls.__name__} is neither a tinygrad_edu.nn.Module nor a torch.nn.Module subclass"
        )
    _USER_FROM[cls] = fn


def _call_registered(fn: FromTorch, module: Any, engine: str) -> Module:
    """fn(torch_module, engine), or fn(torch_module) for a converter written for one engine."""
    try:
        takes = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):  # a builtin without a signature: give it both
        takes = [None, None]
    return fn(module) if len(takes) == 1 else fn(module, engine)


def _find(cls: type, registries: tuple[dict[type, Any], ...], behaviour: tuple[str, ...]) -> tuple[type, Any]:
    """(the class whose converter applies, the converter), or (the class that defines its own behaviour, None)."""
    for klass in cls.__mro__:
        for registry in registries:
            if klass in registry:
                return klass, registry[klass]
        if any(name in vars(klass) for name in behaviour):
            return klass, None
    return cls, None


def _where(path: str) -> str:
    return f" (at {path!r})" if path else ""


# ---------------------------------------------------------------------- ours -> torch


def model_to_torch(model: Module) -> Any:
    """Our model as a torch.nn.Module: same structure, same state_dict keys, copies of the numbers."""
    torch = require_torch("to_torch")
    if not isinstance(model, Module):
        raise ArgumentTypeError(f"to_torch: expected a tinygrad_edu Module or optimizer, got {type(model).__name__}")
    with torch.random.fork_rng(devices=[]):  # torch.nn.Linear draws weights we overwrite: leave torch's seed alone
        out = _ToTorch(torch).convert("", model)
    _copy_to_torch(torch, model, out)
    _ENGINE_OF[out] = engine_of(model, "tensor")
    record(model, out)
    return out


class _ToTorch:
    """One conversion: the converters, and a memo so a module shared under two names stays shared."""

    def __init__(self, torch: Any) -> None:
        self.torch = torch
        self.memo: dict[int, Any] = {}
        self.builtin = _builtin_to(torch, self.convert)

    def convert(self, path: str, module: Module) -> Any:
        if id(module) in self.memo:
            return self.memo[id(module)]
        if not isinstance(module, Module):
            raise ArgumentTypeError(f"to_torch: {path!r} is a {type(module).__name__}, not a Module")
        klass, fn = _find(type(module), (_USER_TO, self.builtin), _OUR_BEHAVIOUR)
        if fn is None:
            name = type(module).__name__
            raise ConversionError(
                f"to_torch: {name}{_where(path)} has its own {_own_behaviour(klass)}, which cannot be translated "
                f"into PyTorch; register a converter: tinygrad_edu.register_torch({name}, fn), where fn(module) "
                "returns a torch.nn.Module with the same state_dict keys (to_torch(child) converts its children)"
            )
        out = fn(module) if klass in _USER_TO else fn(path, module)
        if not isinstance(out, self.torch.nn.Module):
            raise ConversionError(
                f"to_torch: the converter registered for {klass.__name__} returned a {type(out).__name__}, "
                "not a torch.nn.Module"
            )
        out.training = module.training
        if getattr(module, "engine", None) is not None and next(module._named_parameters(), None) is None:
            _PINNED[out] = True  # an activation (or a Sequential of them) built with engine=
        self.memo[id(module)] = out
        return out


def _own_behaviour(klass: type) -> str:
    names = [name for name in _OUR_BEHAVIOUR if name in vars(klass)]
    return f"{names[0]}()" if names[0] != "function" else "function"


def _builtin_to(torch: Any, convert: Callable[[str, Module], Any]) -> dict[type, Callable[[str, Any], Any]]:
    """Our classes -> fn(path, module) building its torch twin (numbers copied later)."""
    from . import twins  # imports torch: only now that it is known to be installed

    def child(path: str, name: str, module: Module) -> Any:
        return convert(f"{path}.{name}" if path else name, module)

    def linear(path: str, m: nn.Linear) -> Any:
        dtype = _torch_dtype(torch, m.dtype, path)
        return torch.nn.Linear(m.in_features, m.out_features, bias=m.bias is not None, dtype=dtype)

    def sequential(path: str, m: nn.Sequential) -> Any:
        return torch.nn.Sequential(OrderedDict((name, child(path, name, c)) for name, c in m.named_children()))

    def module_list(path: str, m: nn.ModuleList) -> Any:
        return torch.nn.ModuleList([child(path, name, c) for name, c in m.named_children()])

    def container(path: str, m: Module) -> Any:
        out = torch.nn.Module()
        for name, slot in m._state_slots():
            dtype = _torch_dtype(torch, slot.obj.dtype if type(slot.obj) is Tensor else np.float64, path)
            out.register_parameter(name, torch.nn.Parameter(torch.zeros(slot.shape, dtype=dtype)))
        for name, c in m.named_children():
            out.add_module(name, child(path, name, c))
        return out

    def mse(path: str, m: nn.MSELoss) -> Any:
        return twins.HalfSumMSELoss() if m.reduction == "half_sum" else torch.nn.MSELoss(reduction=m.reduction)

    def layer(path: str, m: nn.Layer) -> Any:
        return twins.Layer(m.in_features, m.out_features)

    def network(path: str, m: nn.Network) -> Any:
        hidden = [child(path, f"hidden_layers.{k}", h) for k, h in enumerate(m.hidden_layers)]
        return twins.Network(hidden, child(path, "output_layer", m.output_layer))

    def plain(torch_cls: type) -> Callable[[str, Any], Any]:
        return lambda path, m: torch_cls()

    def reduced(torch_cls: type) -> Callable[[str, Any], Any]:
        return lambda path, m: torch_cls(reduction=m.reduction)

    from ..check.article_network import ArticleNetwork  # the audit's network (a sibling room, never importing us)

    return {
        ArticleNetwork: lambda path, m: twins.ArticleNetwork(),
        nn.Linear: linear,
        nn.Sigmoid: plain(torch.nn.Sigmoid),
        nn.ReLU: plain(torch.nn.ReLU),
        nn.Tanh: plain(torch.nn.Tanh),
        nn.Identity: plain(torch.nn.Identity),
        nn.Sequential: sequential,
        nn.ModuleList: module_list,
        nn.MSELoss: mse,
        nn.BCELoss: reduced(torch.nn.BCELoss),
        nn.CrossEntropyLoss: reduced(torch.nn.CrossEntropyLoss),
        nn.MaxMarginLoss: reduced(twins.MaxMarginLoss),
        nn.Neuron: lambda path, m: twins.Neuron(m.in_features),
        nn.Layer: layer,
        nn.Network: network,
        Module: container,  # a Module with no forward of its own: its parameters and converted children
    }


def _torch_dtype(torch: Any, dtype: Any, path: str) -> Any:
    name = np.dtype(dtype).name
    if name not in _NUMPY_DTYPES:
        raise ConversionError(
            f"to_torch: parameters of dtype {name}{_where(path)} have no PyTorch dtype here; "
            "use float16, float32 or float64"
        )
    return getattr(torch, name)


def _copy_to_torch(torch: Any, model: Module, out: Any) -> None:
    """Copy our state_dict into the torch model's (after checking the two have the same keys and shapes)."""
    ours = model.state_dict()
    theirs = {k: tuple(v.shape) for k, v in out.state_dict().items()}
    _same_keys("to_torch", type(model).__name__, {k: v.shape for k, v in ours.items()}, theirs)
    with torch.no_grad():
        for key, param in out.state_dict(keep_vars=True).items():
            param.copy_(torch.as_tensor(ours[key]))  # into torch's own memory


def _same_keys(where: str, name: str, ours: dict[str, tuple[int, ...]], theirs: dict[str, tuple[int, ...]]) -> None:
    if list(ours) == list(theirs) and all(ours[k] == theirs[k] for k in ours):
        return
    parts = []
    if [k for k in ours if k not in theirs]:
        parts.append("missing in the torch model: " + ", ".join(k for k in ours if k not in theirs))
    if [k for k in theirs if k not in ours]:
        parts.append("not in ours: " + ", ".join(k for k in theirs if k not in ours))
    parts += [f"{k} is {ours[k]} here but {theirs[k]} in torch" for k in ours if k in theirs and ours[k] != theirs[k]]
    if not parts:
        parts.append(f"the keys come in another order ({', '.join(theirs)})")
    raise ConversionError(
        f"{where}: {name} and its conversion have different state_dicts ({'; '.join(parts)}); a registered "
        "converter must build a module with the same state_dict keys and shapes"
    )


# ---------------------------------------------------------------------- torch -> ours


def model_from_torch(torch_module: Any, engine: str | None) -> Module:
    """A torch.nn.Module as our Module on `engine` (None: the engine of the model it was made from, else tensor)."""
    torch = require_torch("from_torch")
    if not isinstance(torch_module, torch.nn.Module):
        raise ArgumentTypeError(
            f"from_torch: expected a torch.nn.Module or torch.optim optimizer, got {type(torch_module).__name__}"
        )
    if engine is None:
        engine = _ENGINE_OF.get(torch_module, "tensor")
    check_engine(engine, "from_torch")
    out = _FromTorch(torch, engine).convert("", torch_module)
    _copy_from_torch(torch_module, out)
    record(out, torch_module)
    return out


class _FromTorch:
    def __init__(self, torch: Any, engine: str) -> None:
        self.torch = torch
        self.engine = engine
        self.memo: dict[int, Module] = {}
        self.builtin = _builtin_from(torch, engine, self.convert)

    def convert(self, path: str, module: Any) -> Module:
        if id(module) in self.memo:
            return self.memo[id(module)]
        klass, fn = _find(type(module), (_USER_FROM, self.builtin), _TORCH_BEHAVIOUR)
        if fn is None:
            name = torch_name(type(module))
            why = "has its own forward(), which cannot be translated"
            if klass.__module__.startswith("torch."):  # one of torch's own layers
                why = "has no counterpart in tinygrad_edu.nn"
            raise ConversionError(
                f"from_torch: {name}{_where(path)} {why}; register a converter: tinygrad_edu.register_torch("
                f"{name}, fn), where fn(torch_module, engine) returns a tinygrad_edu Module with the same "
                "state_dict keys"
            )
        out = _call_registered(fn, module, self.engine) if klass in _USER_FROM else fn(path, module)
        if not isinstance(out, Module):
            raise ConversionError(
                f"from_torch: the converter registered for {torch_name(klass)} returned a {type(out).__name__}, "
                "not a tinygrad_edu Module"
            )
        object.__setattr__(out, "training", bool(module.training))  # this module only, as Module.train sets it
        self.memo[id(module)] = out
        return out


def _builtin_from(torch: Any, engine: str, convert: Callable[[str, Any], Module]) -> dict[type, Any]:
    """torch classes -> fn(path, torch_module) building ours (numbers copied later)."""
    from . import twins

    def child(path: str, name: str, module: Any) -> Module:
        return convert(f"{path}.{name}" if path else name, module)

    def pin(m: Any) -> str | None:
        return engine if _PINNED.get(m) else None

    def linear(path: str, m: Any) -> nn.Linear:
        dtype = _numpy_dtype(m.weight.dtype, path)
        return nn.Linear(m.in_features, m.out_features, m.bias is not None, generator=0, dtype=dtype, engine=engine)

    def sequential(path: str, m: Any) -> nn.Sequential:
        children = OrderedDict((name, child(path, name, c)) for name, c in _torch_children(m))
        return nn.Sequential(children, engine=pin(m))

    def module_list(path: str, m: Any) -> nn.ModuleList:
        return nn.ModuleList([child(path, name, c) for name, c in _torch_children(m)])

    def container(path: str, m: Any) -> Module:
        buffers = [name for name, _ in m.named_buffers(recurse=False)]
        if buffers:
            raise ConversionError(
                f"from_torch: {torch_name(type(m))}{_where(path)} holds buffers ({', '.join(buffers)}), which "
                "tinygrad_edu modules do not have; register a converter: tinygrad_edu.register_torch(...)"
            )
        out = Module()
        for name, p in m.named_parameters(recurse=False):
            array = np.zeros(tuple(p.shape), dtype=_numpy_dtype(p.dtype, path))
            if array.size == 0:
                raise ConversionError(f"from_torch: parameter {name!r}{_where(path)} is empty (shape {array.shape})")
            setattr(out, name, Tensor(array, requires_grad=True) if engine == "tensor" else _value_grid(array))
        for name, c in _torch_children(m):
            setattr(out, name, child(path, name, c))
        return out

    def activation(cls: type) -> Callable[[str, Any], Module]:
        return lambda path, m: cls(engine=pin(m))

    def loss(cls: type, **fixed: Any) -> Callable[[str, Any], Module]:
        def build(path: str, m: Any) -> Module:
            for setting, neutral in fixed.items():
                value = getattr(m, setting, neutral)
                if not _is_neutral(value, neutral):
                    raise ConversionError(
                        f"from_torch: {torch_name(type(m))}({setting}={value!r}){_where(path)} has no counterpart: "
                        f"tinygrad_edu.nn.{cls.__name__} has no {setting}"
                    )
            if m.reduction not in cls._reductions:
                raise ConversionError(
                    f"from_torch: {torch_name(type(m))}(reduction={m.reduction!r}){_where(path)} has no counterpart: "
                    f"tinygrad_edu.nn.{cls.__name__} takes reduction in {cls._reductions}"
                )
            return cls(reduction=m.reduction)

        return build

    def value_only(build: Callable[[str, Any], Module]) -> Callable[[str, Any], Module]:
        def checked(path: str, m: Any) -> Module:
            if engine != "value":
                raise ConversionError(
                    f"from_torch: {type(m).__name__}{_where(path)} is the article's {type(m).__name__}, which runs on "
                    "the value engine only; pass engine='value' (or convert Network.to_sequential() instead)"
                )
            return build(path, m)

        return checked

    def layer(path: str, m: Any) -> nn.Layer:
        out_features, in_features = m.weight.shape
        return nn.Layer(nn.Neuron([0.0] * in_features, 0.0) for _ in range(out_features))

    def network(path: str, m: Any) -> nn.Network:
        hidden = [child(path, f"hidden_layers.{k}", h) for k, h in enumerate(m.hidden_layers)]
        return nn.Network(hidden, child(path, "output_layer", m.output_layer))

    from ..check.article_network import ArticleNetwork

    return {
        twins.ArticleNetwork: value_only(lambda path, m: ArticleNetwork()),
        torch.nn.Linear: linear,
        torch.nn.Sigmoid: activation(nn.Sigmoid),
        torch.nn.ReLU: activation(nn.ReLU),
        torch.nn.Tanh: activation(nn.Tanh),
        torch.nn.Identity: activation(nn.Identity),
        torch.nn.Sequential: sequential,
        torch.nn.ModuleList: module_list,
        torch.nn.MSELoss: loss(nn.MSELoss),
        torch.nn.BCELoss: loss(nn.BCELoss, weight=None),
        torch.nn.CrossEntropyLoss: loss(nn.CrossEntropyLoss, weight=None, ignore_index=-100, label_smoothing=0.0),
        twins.HalfSumMSELoss: lambda path, m: nn.MSELoss(reduction="half_sum"),
        twins.MaxMarginLoss: loss(nn.MaxMarginLoss),
        twins.Neuron: value_only(lambda path, m: nn.Neuron([0.0] * m.weights.shape[0], 0.0)),
        twins.Layer: value_only(layer),
        twins.Network: value_only(network),
        torch.nn.Module: container,  # a torch.nn.Module with no forward of its own: parameters and children
    }


def _torch_children(m: Any) -> list[tuple[str, Any]]:
    """Every child under every name: torch's named_children() lists a module shared under two names once."""
    return [(name, c) for name, c in m._modules.items() if c is not None]


def _is_neutral(value: Any, neutral: Any) -> bool:
    return value is None if neutral is None else value == neutral


def _numpy_dtype(dtype: Any, path: str) -> np.dtype:
    name = str(dtype).removeprefix("torch.")
    if name not in _NUMPY_DTYPES:
        raise ConversionError(
            f"from_torch: parameters of dtype {dtype}{_where(path)} have no NumPy dtype here; "
            "convert the model first (model.double() or model.float())"
        )
    return np.dtype(name)


def _value_grid(array: np.ndarray) -> Any:
    """An array as a Value (0-d) or a nested list of Values (the value engine's parameter arrays)."""
    return Value(float(array)) if array.ndim == 0 else [_value_grid(row) for row in array]


def _copy_from_torch(torch_module: Any, out: Module) -> None:
    theirs = {k: v.detach().cpu().numpy() for k, v in torch_module.state_dict().items()}
    ours = {k: slot.shape for k, slot in out._named_slots()}
    _same_keys("from_torch", torch_name(type(torch_module)), ours, {k: v.shape for k, v in theirs.items()})
    out.load_state_dict(theirs)


# ---------------------------------------------------------------------- what a conversion paired


def leaves(obj: Any) -> list[Any]:
    """The parameters an optimizer holds for one state_dict entry: the Tensor, or each Value in row-major order."""
    return [obj] if type(obj) is Tensor else list(_grid_leaves(obj))


def named_slots(model: Module) -> Iterator[tuple[str, Any]]:
    """(state_dict key, its slot: `.obj` the Tensor, Value or list of Values behind it, `.shape` its shape)."""
    return model._named_slots()


def record(ours: Module, theirs: Any) -> None:
    """Remember which torch parameter and which of ours share each state_dict key (optimizers pair by it)."""
    torch_params = theirs.state_dict(keep_vars=True)
    ours_by_id = _OURS_OF.setdefault(theirs, {})
    theirs_by_id = _TORCH_OF.setdefault(ours, {})
    for key, slot in named_slots(ours):
        for index, leaf in enumerate(leaves(slot.obj)):
            ours_by_id[id(leaf)] = (leaf, key, index)
        theirs_by_id[id(torch_params[key])] = (torch_params[key], key)


def ours_paired_with(torch_model: Any) -> dict[int, tuple[Any, str, int]] | None:
    return _OURS_OF.get(torch_model)


def torch_paired_with(model: Module) -> dict[int, tuple[Any, str]] | None:
    return _TORCH_OF.get(model)
