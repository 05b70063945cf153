"""Optimizers across the bridge: SGD and Adam, every setting, every parameter group and every buffer.

Parameters are paired by `state_dict` name through the model's conversion (`modules.record`): our
optimizer holds a Tensor per weight, or on the value engine one Value per number, and torch one
tensor per weight, so a value-engine weight's Values are gathered into one torch tensor (their
momentum buffers or Adam moments into one array, their Adam steps into one count) and scattered back.
The state is read and written through the optimizers' own `state_dict` / `load_state_dict`, so both
sides' own checks apply. The update rules are PyTorch's on both sides, which is what makes training
continue: 5 steps here, the hand-over and 5 steps in PyTorch land where 10 steps here do.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from .. import optim
from ..errors import ArgumentTypeError, ConversionError
from ..nn.module import Module
from ..tensor import Tensor
from ._torch import require_torch, torch_name
from .modules import leaves, named_slots, ours_paired_with, torch_paired_with

# torch settings our optimizers do not have: carried back only at their neutral value, refused by name otherwise.
_NEUTRAL = {
    "SGD": {"maximize": False},
    "Adam": {"amsgrad": False, "maximize": False, "decoupled_weight_decay": False},
}
# torch settings that choose an implementation (loops, fused kernels, graph capture), not the update: none to carry.
_IMPLEMENTATION = ("foreach", "fused", "capturable", "differentiable")


def _pairs() -> dict[type, Any]:
    torch = require_torch("to_torch")
    return {optim.SGD: torch.optim.SGD, optim.Adam: torch.optim.Adam}


# ---------------------------------------------------------------------- ours -> torch


def optimizer_to_torch(optimizer: optim.Optimizer, torch_model: Any) -> Any:
    """The torch.optim twin of `optimizer` over `torch_model`'s parameters, its state carried over."""
    torch = require_torch("to_torch")
    torch_cls = _pairs().get(type(optimizer))
    if torch_cls is None:
        raise ConversionError(
            f"to_torch: {type(optimizer).__name__} has no PyTorch counterpart here (SGD and Adam have)"
        )
    if not isinstance(torch_model, torch.nn.Module):
        raise ArgumentTypeError(
            "to_torch(optimizer, torch_model): torch_model must be the torch.nn.Module that to_torch(model) "
            f"returned, got {type(torch_model).__name__}"
        )
    pairs = ours_paired_with(torch_model)
    if pairs is None:
        raise ConversionError(
            "to_torch: this torch model was not made by tinygrad_edu.to_torch(model) (nor read by from_torch), so "
            "the optimizer's parameters cannot be paired with its own; pass the module to_torch(model) returned"
        )
    torch_params = torch_model.state_dict(keep_vars=True)
    saved = optimizer.state_dict()
    groups: list[dict[str, Any]] = []
    state: dict[Any, dict[str, Any]] = {}
    for group, (found, is_tensor) in zip(optimizer.param_groups, _pair_groups(optimizer, pairs)):
        params = []
        for key, at in found.items():
            if key not in torch_params:
                raise ConversionError(f"to_torch: the torch model has no {key!r} any more; convert the model again")
            tp = torch_params[key]
            count = 1 if is_tensor[key] else tp.numel()
            if len(at) != count:
                raise ConversionError(
                    f"to_torch: the optimizer holds {len(at)} of the {count} Values of {key!r}; PyTorch updates "
                    "the whole weight: give the optimizer all of them"
                )
            entries = [saved["state"].get(at[i]) for i in sorted(at)]
            buffers = dict(entries[0] or {}) if is_tensor[key] else _gather(key, entries, tuple(tp.shape))
            if buffers:
                state[tp] = _to_torch_buffers(torch, buffers, tp)
            params.append(tp)  # plain tensors: the optimizer a PyTorch user builds from torch_model.parameters()
        groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": params})
    accepted = inspect.signature(torch_cls).parameters
    out = torch_cls(groups, **{k: v for k, v in optimizer.defaults.items() if k in accepted})
    for tp, buffers in state.items():
        out.state[tp] = buffers
    return out


def _pair_groups(optimizer: optim.Optimizer, pairs: dict[int, tuple[Any, str, int]]) -> list[tuple[dict, dict]]:
    """Per group: {state_dict key: {index in the packed weight: our state index}} and {key: is it a Tensor}."""
    out: list[tuple[dict, dict]] = []
    group_of: dict[str, int] = {}
    index = 0
    for g, group in enumerate(optimizer.param_groups):
        found: dict[str, dict[int, int]] = {}
        is_tensor: dict[str, bool] = {}
        for p in group["params"]:
            hit = pairs.get(id(p))
            if hit is None or hit[0] is not p:
                raise ConversionError(
                    f"to_torch: the optimizer holds a parameter ({_describe(p)}) that to_torch(model) did not "
                    "convert; build the optimizer over the converted model's parameters only"
                )
            key = hit[1]
            if group_of.setdefault(key, g) != g:
                raise ConversionError(
                    f"to_torch: the Values of {key!r} are in parameter groups {group_of[key]} and {g}; PyTorch "
                    "holds the whole weight as one tensor in one group: put them in the same group"
                )
            found.setdefault(key, {})[hit[2]] = index
            is_tensor[key] = type(p) is Tensor
            index += 1
        out.append((found, is_tensor))
    return out


def _describe(p: Any) -> str:
    return f"a Tensor of shape {p.shape}" if type(p) is Tensor else f"a {type(p).__name__}"


def _gather(key: str, entries: list[dict[str, Any] | None], shape: tuple[int, ...]) -> dict[str, Any]:
    """A value-engine weight's buffers: its Values' numbers packed into arrays of the weight's shape."""
    names = {tuple(sorted(e)) if e else () for e in entries}
    if len(names) > 1:
        raise ConversionError(
            f"to_torch: the Values of {key!r} have different optimizer state (some never stepped); PyTorch keeps "
            "one state per weight: step them all (or none) before the hand-over"
        )
    if not entries[0]:
        return {}
    packed: dict[str, Any] = {}
    for name in entries[0]:
        if name == "step":
            steps = {int(e["step"]) for e in entries}
            if len(steps) > 1:
                raise ConversionError(
                    f"to_torch: the Values of {key!r} took different numbers of Adam steps ({sorted(steps)}); PyTorch "
                    "counts one step per weight"
                )
            packed["step"] = steps.pop()
        else:
            packed[name] = np.array([float(e[name]) for e in entries], dtype=np.float64).reshape(shape)
    return packed


def _to_torch_buffers(torch: Any, buffers: dict[str, Any], tp: Any) -> dict[str, Any]:
    # Adam's step is a 0-d float tensor in torch (float64 only under a float64 default dtype, as torch makes it).
    step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    out = {}
    for name, value in buffers.items():
        if name == "step":
            out[name] = torch.tensor(float(value), dtype=step_dtype)
        else:
            out[name] = torch.tensor(np.asarray(value), dtype=tp.dtype, device=tp.device)
    return out


# ---------------------------------------------------------------------- torch -> ours


def optimizer_from_torch(torch_optimizer: Any, model: Module) -> optim.Optimizer:
    """Our SGD or Adam over `model`'s parameters with `torch_optimizer`'s settings, groups and state."""
    torch = require_torch("from_torch")
    ours_cls = {torch.optim.SGD: optim.SGD, torch.optim.Adam: optim.Adam}.get(type(torch_optimizer))
    name = torch_name(type(torch_optimizer))
    if ours_cls is None:
        raise ConversionError(f"from_torch: {name} has no counterpart in tinygrad_edu.optim (it has SGD and Adam)")
    if not isinstance(model, Module):
        raise ArgumentTypeError(
            f"from_torch(torch_optimizer, model): model must be a tinygrad_edu Module, got {type(model).__name__}"
        )
    pairs = torch_paired_with(model) or {}
    slots = dict(named_slots(model))
    groups, saved_groups, state = [], [], {}
    index = 0
    for group in torch_optimizer.param_groups:
        settings = _settings(name, group)
        names = group.get("param_names")
        params, indices = [], []
        for j, tp in enumerate(group["params"]):
            hit = pairs.get(id(tp))
            key = hit[1] if hit is not None and hit[0] is tp else (names[j] if names else None)
            if key not in slots:
                raise ConversionError(
                    f"from_torch: the optimizer holds a parameter of shape {tuple(tp.shape)} that this model does not "
                    f"pair by name{f' ({key!r})' if key else ''}; pass the model from_torch(torch_model) returned "
                    "(or the one to_torch converted)"
                )
            ours = leaves(slots[key].obj)
            if tuple(tp.shape) != tuple(slots[key].shape):
                raise ConversionError(
                    f"from_torch: the optimizer's {key!r} is {tuple(tp.shape)} but the model's is {slots[key].shape}; "
                    "pass the model from_torch(torch_model) returned"
                )
            buffers = {k: _to_numpy(torch, v) for k, v in torch_optimizer.state.get(tp, {}).items() if v is not None}
            for i, leaf in enumerate(ours):
                if buffers:
                    state[index] = buffers if type(leaf) is Tensor else _one_value(buffers, i)
                params.append(leaf)
                indices.append(index)
                index += 1
        groups.append({**settings, "params": params})
        saved_groups.append({**settings, "params": indices})
    accepted = inspect.signature(ours_cls).parameters
    defaults = {k: v for k, v in _settings(name, torch_optimizer.defaults).items() if k in accepted}
    out = ours_cls(groups, **defaults)
    out.load_state_dict({"state": state, "param_groups": saved_groups})
    return out


def _settings(name: str, group: dict[str, Any]) -> dict[str, Any]:
    """A torch group's settings as ours: unsupported ones refused unless neutral, implementation choices dropped."""
    neutral = _NEUTRAL[name.rsplit(".", 1)[-1]]
    out = {}
    for key, value in group.items():
        if key in ("params", "param_names") or key in _IMPLEMENTATION:
            continue
        if key in neutral:
            if bool(value) != neutral[key]:
                raise ConversionError(
                    f"from_torch: {name}({key}={value!r}) has no counterpart: tinygrad_edu.optim's "
                    f"{name.rsplit('.', 1)[-1]} has no {key}"
                )
            continue
        out[key] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    """torch allows tensors as lr and betas: ours takes numbers."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return float(value.item())
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def _to_numpy(torch: Any, value: Any) -> Any:
    if torch.is_tensor(value):
        return int(value.item()) if value.ndim == 0 and not value.is_floating_point() else value.detach().cpu().numpy()
    return value


def _one_value(buffers: dict[str, Any], i: int) -> dict[str, Any]:
    """The buffers of the i-th Value of a weight (row-major), from the weight's arrays."""
    out = {}
    for name, value in buffers.items():
        if name == "step":
            out[name] = int(float(value))
        else:
            out[name] = float(np.asarray(value).reshape(-1)[i])
    return out
