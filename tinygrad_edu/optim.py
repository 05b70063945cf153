"""Optimizers: turn gradients into parameter updates, with PyTorch's names and exact update rules.

An optimizer holds the parameters (`model.parameters()`: Tensors, or scalar Values, alike) in
`param_groups`, each group a dict of the parameters and their hyperparameters (`lr`, ...), as in
PyTorch, so `opt.param_groups[0]["lr"] = 0.01` changes the learning rate. The loop is always:

    optimizer.zero_grad()      # forget last step's gradients
    loss = loss_fn(model(x), y)
    loss.backward()            # fill p.grad
    optimizer.step()           # p -= (something computed from p.grad)

`step` runs under `no_grad`, skips parameters whose `grad` is None, and updates in place. The
arithmetic is the same for a Tensor (NumPy arrays) and a Value (Python floats).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .errors import ArgumentError, ArgumentTypeError, DTypeError, GraphError, MathDomainError, ShapeError
from .graph import no_grad
from .tensor import Tensor
from .value import Value
from .versions import bump_version

Parameter = Tensor | Value


def _subtract(param: Parameter, delta: Any) -> None:
    """p -= delta, in place for a Tensor (the model and the optimizer share its array).

    The write bumps the tensor's version, so a graph built before the step and used for backward
    after it raises instead of giving gradients at the new weights.
    """
    if type(param) is Tensor:
        param.data -= delta
        bump_version(param)
    else:
        param.data = float(param.data - delta)


def _zeros_like(param: Parameter) -> Any:
    return np.zeros_like(param.data) if type(param) is Tensor else 0.0


def _sqrt(x: Any) -> Any:
    return np.sqrt(x) if isinstance(x, np.ndarray) else math.sqrt(x)


class Optimizer:
    """Base class: keeps `param_groups` and per-parameter `state`, and implements `zero_grad`.

    `state` maps each parameter itself to its buffers (`opt.state[p]["exp_avg"]`), as in PyTorch.
    Keyed by the object, not by `id(p)`, the state travels with its parameters: `copy.deepcopy((model,
    opt))` and pickle give an optimizer whose state belongs to the copied parameters. Tensors hash by
    identity (their `==` is elementwise), so two equal tensors are still two keys.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: defaultdict[Parameter, dict[str, Any]] = defaultdict(dict)  # param -> step, moments, ...
        items = list(params)
        if not items:
            raise ArgumentError(f"{type(self).__name__}: got an empty parameter list; pass model.parameters()")
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        self.param_groups: list[dict[str, Any]] = []
        seen: set[int] = set()
        for group in groups:
            group = {**self.defaults, **group, "params": list(group["params"])}
            for p in group["params"]:
                self._check_param(p)
                if id(p) in seen:
                    raise ArgumentError(f"{type(self).__name__}: a parameter appears twice; pass each once")
                seen.add(id(p))
            self.param_groups.append(group)

    def _check_param(self, p: Any) -> None:
        if type(p) not in (Tensor, Value):
            raise ArgumentTypeError(
                f"{type(self).__name__}: parameters must be Tensors or Values, got {type(p).__name__} "
                "(did you pass the model instead of model.parameters()?)"
            )
        if type(p) is Tensor and not p.is_leaf:
            raise GraphError(
                f"{type(self).__name__}: can only optimize leaf tensors (created by you, not results of ops)"
            )

    def zero_grad(self) -> None:
        """Set every parameter's grad to None (so the next backward starts from nothing)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient. `closure` recomputes and returns the loss."""
        loss = None
        if closure is not None:
            loss = closure()  # with grad enabled: the closure calls backward()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    grad = p.grad
                    if grad is not None:
                        if type(p) is Tensor and np.shape(grad) != p.data.shape:
                            _wrong_grad(self, p, grad)
                        self._update(p, grad, self.state[p], group)
        return loss

    def _update(self, p: Parameter, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: {name: int or numpy array}}, "param_groups": [{hyperparameters, "params": [index]}]}.

        Parameters are numbered in order across the groups, as in PyTorch, so the state loads
        into an optimizer built the same way over a fresh model.
        """
        state: dict[int, dict[str, Any]] = {}
        groups = []
        index = 0
        for group in self.param_groups:
            indices = []
            for p in group["params"]:
                buffers = self.state.get(p)
                if buffers:
                    state[index] = {k: v if isinstance(v, int) else np.array(v, copy=True) for k, v in buffers.items()}
                indices.append(index)
                index += 1
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": indices})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and buffers; everything is checked before anything changes."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ShapeError(
                f"{type(self).__name__}.load_state_dict: {len(groups)} parameter groups in the state, "
                f"{len(self.param_groups)} here; build the optimizer the same way as the saved one"
            )
        params: dict[int, Parameter] = {}
        for saved, group in zip(groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ShapeError(
                    f"{type(self).__name__}.load_state_dict: a group has {len(saved['params'])} parameters "
                    f"in the state but {len(group['params'])} here"
                )
            params.update(zip(saved["params"], group["params"]))
        new_state: defaultdict[Parameter, dict[str, Any]] = defaultdict(dict)
        for index, buffers in state_dict["state"].items():
            index = int(index)
            if index not in params:
                raise ShapeError(f"{type(self).__name__}.load_state_dict: state for unknown parameter {index}")
            p = params[index]
            shape = p.shape if type(p) is Tensor else ()
            entry: dict[str, Any] = {}
            for name, value in buffers.items():
                if name == "step":
                    entry[name] = int(value)
                    continue
                array = np.asarray(value)
                if array.shape != shape:
                    raise ShapeError(
                        f"{type(self).__name__}.load_state_dict: buffer {name!r} of parameter {index} is "
                        f"{array.shape}, the parameter is {shape}"
                    )
                if not np.issubdtype(array.dtype, np.floating):
                    raise DTypeError(f"{type(self).__name__}.load_state_dict: buffer {name!r} is {array.dtype}")
                entry[name] = array.astype(p.data.dtype, copy=True) if type(p) is Tensor else float(array)
            new_state[p] = entry
        self.state = new_state
        for saved, group in zip(groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join([*lines, ")"])


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's rule:

        g = grad + weight_decay · p
        b = g (first step), then b = momentum · b + (1 - dampening) · g     (when momentum > 0)
        g = g + momentum · b if nesterov else b
        p = p - lr · g

    With the defaults it is the article's update, w = w - lr · dE/dw.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        *,
        dampening: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        _check_hyperparameters("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay, dampening=dampening)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ArgumentError("SGD: nesterov needs momentum > 0 and dampening = 0")
        super().__init__(
            params,
            {
                "lr": lr,
                "momentum": momentum,
                "weight_decay": weight_decay,
                "dampening": dampening,
                "nesterov": nesterov,
            },
        )

    def _update(self, p: Parameter, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p.data
        momentum = group["momentum"]
        if momentum:
            if "momentum_buffer" not in state:
                buf = grad.copy() if isinstance(grad, np.ndarray) else grad
            else:
                buf = momentum * state["momentum_buffer"] + (1 - group["dampening"]) * grad
            state["momentum_buffer"] = buf
            grad = grad + momentum * buf if group["nesterov"] else buf
        _subtract(p, group["lr"] * grad)


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's rule, with step t counted per parameter:

        g = grad + weight_decay · p
        m = β₁ m + (1 - β₁) g             v = β₂ v + (1 - β₂) g²
        p = p - (lr / (1 - β₁ᵗ)) · m / (√v / √(1 - β₂ᵗ) + eps)

    m and v are running averages of the gradient and its square; the divisions by (1 - βᵗ) undo
    their bias towards the zeros they start from.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        _check_hyperparameters("Adam", lr=lr, eps=eps, weight_decay=weight_decay)
        if not all(0.0 <= b < 1.0 for b in betas):
            raise MathDomainError(f"Adam: betas must lie in [0, 1), got {betas}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay})

    def _update(self, p: Parameter, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        if not state:
            state.update(step=0, exp_avg=_zeros_like(p), exp_avg_sq=_zeros_like(p))
        state["step"] += 1
        t = state["step"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p.data
        m = state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * grad
        v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
        step_size = group["lr"] / (1 - beta1**t)
        denom = _sqrt(v) / math.sqrt(1 - beta2**t) + group["eps"]
        _subtract(p, step_size * m / denom)


def _wrong_grad(optimizer: Optimizer, p: Tensor, grad: Any) -> None:
    """A `.grad` set by hand to another shape would be broadcast into every element: refuse it (PyTorch does)."""
    raise ShapeError(
        f"{type(optimizer).__name__}.step: a parameter of shape {p.shape} has a .grad of shape {np.shape(grad)}; "
        "the update would broadcast it silently. A gradient must have its parameter's shape (set p.grad = None "
        "to skip a parameter)"
    )


def _check_hyperparameters(optimizer: str, **values: object) -> None:
    """Each must be a finite number >= 0: a NaN learning rate would silently turn every weight into NaN."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise DTypeError(f"{optimizer}: {name} must be a number, got {type(value).__name__} {value!r}")
        if not math.isfinite(value) or value < 0:
            raise MathDomainError(f"{optimizer}: {name} must be a finite number >= 0, got {value}")
