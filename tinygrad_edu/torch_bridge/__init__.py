"""The bridge to PyTorch: carry a model, its optimizer and its training into `torch.nn` and back.

    torch_model = to_torch(model)                    # same function, same state_dict keys, copied numbers
    torch_opt = to_torch(optimizer, torch_model)     # same settings, groups, momentum buffers, Adam moments
    model = from_torch(torch_model, engine="value")  # and back, on either engine
    optimizer = from_torch(torch_opt, model)

Converted: `Linear`, `Sigmoid`, `ReLU`, `Tanh`, `Identity`, `Sequential`, `ModuleList`, the losses,
the article's `Neuron` / `Layer` / `Network` and the audit's `ArticleNetwork` (as small torch modules
in `twins`), and any Module whose forward is one of these (a subclass that only builds its layers)
or that has none (a container).
A Module with a forward of its own is Python that cannot be translated: it is refused by name
(`ConversionError`) until `register_torch(MyModule, fn)` says how to build its torch twin.

PyTorch is an optional extra (`pip install -e '.[torch]'`): it is imported on the first call, and
without it each function says in one line what to install.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ArgumentError, ArgumentTypeError
from ..nn.module import Module
from ..optim import Optimizer
from ._torch import require_torch
from .modules import model_from_torch, model_to_torch, register
from .optimizers import optimizer_from_torch, optimizer_to_torch

__all__ = ["from_torch", "register_torch", "to_torch"]


def to_torch(obj: Module | Optimizer, torch_model: Any = None) -> Any:
    """A tinygrad_edu model as a `torch.nn.Module`, or (given the converted model) an optimizer as `torch.optim`'s.

    The model: the same layers and `state_dict` keys, its numbers copied (no memory shared); a
    value-engine model becomes float64, a tensor model keeps its dtype. The optimizer: SGD or Adam
    over `torch_model`'s parameters (what `to_torch(model)` returned), paired by state_dict name,
    with every setting, parameter group and buffer, so training continues where it stopped.
    """
    if isinstance(obj, Optimizer):
        if torch_model is None:
            raise ArgumentError(
                "to_torch(optimizer): pass the converted model too, to_torch(optimizer, to_torch(model)): the "
                "torch optimizer must hold that model's parameters"
            )
        return optimizer_to_torch(obj, torch_model)
    if torch_model is not None:
        raise ArgumentError(
            "to_torch(model) takes the model alone; to_torch(optimizer, torch_model) converts an optimizer"
        )
    return model_to_torch(obj)


def from_torch(obj: Any, model: Module | str | None = None, engine: str | None = None) -> Any:
    """A `torch.nn.Module` as our Module on `engine`, or a `torch.optim` SGD/Adam as ours over `model`.

    `engine` "tensor" or "value"; by default the engine of the model `to_torch` made it from, else
    "tensor" (`from_torch(torch_model, "value")` says it positionally). The optimizer's parameters are
    paired with `model`'s by state_dict name through the conversion (`model = from_torch(torch_model)`).
    """
    torch = require_torch("from_torch")
    if isinstance(obj, torch.optim.Optimizer):
        if not isinstance(model, Module):
            raise ArgumentError(
                "from_torch(torch_optimizer, model): pass the tinygrad_edu model whose parameters it should hold "
                "(model = from_torch(torch_model))"
            )
        return optimizer_from_torch(obj, model)
    if isinstance(model, str):
        if engine is not None and engine != model:
            raise ArgumentError(f"from_torch: two engines given, {model!r} and {engine!r}")
        model, engine = None, model
    if model is not None:
        raise ArgumentTypeError(
            f"from_torch(torch_module, engine): the second argument is an engine name, got {type(model).__name__}"
        )
    return model_from_torch(obj, engine)


def register_torch(cls: type, fn: Callable[..., Any] | None = None) -> Any:
    """Teach the bridge a module it cannot translate by itself.

    For a tinygrad_edu Module class: `fn(module)` returns a torch.nn.Module with the same state_dict
    keys and shapes (`to_torch(child)` converts its children; the numbers are copied in afterwards).
    For a torch.nn.Module class: `fn(torch_module, engine)` (or `fn(torch_module)`) returns our Module
    the same way. Registered converters apply to subclasses that add no forward of their own.
    Without `fn`, it is a decorator: `@register_torch(MyModule)` above `def fn(module): ...`.
    """
    if fn is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            register(cls, fn)
            return fn

        return decorator
    register(cls, fn)
    return fn
