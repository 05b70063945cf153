"""Check autodiff against central finite differences, in float64.

For each input element x_i: numeric = (f(x + eps e_i) - f(x - eps e_i)) / 2 eps, compared with the
gradient `backward()` computed. A non-scalar output is reduced to a scalar with fixed random
weights first, which checks the same vector-Jacobian product that backward computes.

`gradgradcheck` does the same one level up: the function checked is a random weighted sum of the
first gradient (computed with `create_graph=True`), so the gradient of a gradient, a Hessian-vector
product, is compared with finite differences of first gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .autograd import grad
from .errors import ArgumentError, ArgumentTypeError, GradcheckError
from .graph import no_grad
from .tensor import Tensor
from .value import Value


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Value | Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Return True if `fn(*inputs)`'s gradients match finite differences; raise `GradcheckError` if not.

    Inputs are copied to float64 leaves that require grad; the originals are not touched.
    """
    if not inputs:
        raise ArgumentError("gradcheck: give at least one input")
    if all(isinstance(x, Value) for x in inputs):
        return _check_values(fn, list(inputs), eps, atol, rtol)
    if all(isinstance(x, Tensor) for x in inputs):
        return _check_tensors(fn, list(inputs), eps, atol, rtol)
    raise ArgumentTypeError("gradcheck: inputs must be all Values or all Tensors")


def _leaves_and_output(fn: Callable[..., Any], inputs: list[Any], check: str) -> tuple[list[Any], Any]:
    """Fresh leaves for `inputs` (Tensors in float64, so finite differences are exact enough) and fn of them."""
    engine = type(inputs[0])
    if engine is Value:
        leaves: list[Any] = [Value(x.data, name=x.name) for x in inputs]
    else:
        leaves = [Tensor(np.asarray(x.data, dtype=np.float64), requires_grad=True, name=x.name) for x in inputs]
    out = fn(*leaves)
    if not isinstance(out, engine):
        name = engine.__name__
        raise ArgumentTypeError(f"{check}: fn must return a {name} for {name} inputs, got {type(out).__name__}")
    return leaves, out


def _check_values(fn: Callable[..., Any], inputs: list[Value], eps: float, atol: float, rtol: float) -> bool:
    leaves, out = _leaves_and_output(fn, inputs, "gradcheck")
    out.backward()
    for i, leaf in enumerate(leaves):

        def f(shift: float, i: int = i) -> float:
            with no_grad():
                args = [Value(x.data + (shift if j == i else 0.0)) for j, x in enumerate(leaves)]
                return fn(*args).data

        numeric = (f(eps) - f(-eps)) / (2 * eps)
        analytic = 0.0 if leaf.grad is None else leaf.grad
        _compare(analytic, numeric, f"input {i}" + (f" ({leaf.name})" if leaf.name else ""), (), atol, rtol)
    return True


def _check_tensors(fn: Callable[..., Any], inputs: list[Tensor], eps: float, atol: float, rtol: float) -> bool:
    leaves, out = _leaves_and_output(fn, inputs, "gradcheck")
    weights = np.random.default_rng(0).uniform(0.5, 1.5, out.shape)

    def scalar(args: list[Tensor]) -> float:
        return float((fn(*args).data * weights).sum())

    (out * weights).sum().backward()
    for i, leaf in enumerate(leaves):
        analytic = np.zeros_like(leaf.data) if leaf.grad is None else leaf.grad
        for index in np.ndindex(leaf.shape):
            with no_grad():
                plus = [Tensor(x.data.copy()) for x in leaves]
                minus = [Tensor(x.data.copy()) for x in leaves]
                plus[i].data[index] += eps
                minus[i].data[index] -= eps
                numeric = (scalar(plus) - scalar(minus)) / (2 * eps)
            name = f"input {i}" + (f" ({leaf.name})" if leaf.name else "")
            _compare(float(analytic[index]), numeric, name, index, atol, rtol)
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Value | Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Return True if `fn(*inputs)`'s second derivatives match finite differences of its first; raise if not.

    The second derivatives come from differentiating the gradient (`grad(..., create_graph=True)`);
    the numeric ones are (∂f/∂xᵢ at x + eps eⱼ - ∂f/∂xᵢ at x - eps eⱼ) / 2 eps, with ∂f/∂xᵢ from
    a plain backward pass. Inputs are copied to leaves; the originals are not touched. For Tensors,
    with fixed random weights w (on the output) and v (on each input's gradient), the checked
    quantity is d/dx of S(x) = Σ v · ∂(w · fn(x))/∂x, a Hessian-vector product, element by element.
    """
    if not inputs:
        raise ArgumentError("gradgradcheck: give at least one input")
    checkers = _GRADGRAD_CHECKERS.get(type(inputs[0]))
    if checkers is None or not all(type(x) is type(inputs[0]) for x in inputs):
        raise ArgumentTypeError(
            f"gradgradcheck: inputs must be all of one engine ({', '.join(t.__name__ for t in _GRADGRAD_CHECKERS)})"
        )
    return checkers(fn, list(inputs), eps, atol, rtol)


def _gradgrad_values(fn: Callable[..., Any], inputs: list[Value], eps: float, atol: float, rtol: float) -> bool:
    leaves, out = _leaves_and_output(fn, inputs, "gradgradcheck")
    first = grad(out, leaves, create_graph=True, allow_unused=True)

    def first_at(shift: float, j: int) -> list[float]:
        args = [Value(x.data + (shift if k == j else 0.0)) for k, x in enumerate(leaves)]
        return [0.0 if g is None else g for g in grad(fn(*args), args, allow_unused=True)]

    for i, g in enumerate(first):
        needs = g is not None and g.requires_grad
        second = grad(g, leaves, allow_unused=True) if needs else (None,) * len(leaves)
        for j, leaf in enumerate(leaves):
            numeric = (first_at(eps, j)[i] - first_at(-eps, j)[i]) / (2 * eps)
            analytic = 0.0 if second[j] is None else second[j]
            name = f"d/d(input {j}) of the gradient for input {i}" + (f" ({leaf.name})" if leaf.name else "")
            _compare(analytic, numeric, name, (), atol, rtol)
    return True


def _gradgrad_tensors(fn: Callable[..., Any], inputs: list[Tensor], eps: float, atol: float, rtol: float) -> bool:
    leaves, out = _leaves_and_output(fn, inputs, "gradgradcheck")
    rng = np.random.default_rng(0)
    w = rng.uniform(0.5, 1.5, out.shape)
    vs = [rng.uniform(-1.0, 1.0, x.shape) for x in leaves]

    def first_sum(args: list[Tensor], create_graph: bool) -> Any:
        """S = Σ v · ∂(w · fn)/∂x: a Tensor with a graph when create_graph, else a float."""
        loss = (fn(*args) * w).sum()
        if not loss.requires_grad:
            return 0.0
        firsts = grad(loss, args, create_graph=create_graph, allow_unused=True)
        terms = [(f * v).sum() if create_graph else float((f * v).sum()) for f, v in zip(firsts, vs) if f is not None]
        return sum(terms[1:], terms[0]) if terms else 0.0

    total = first_sum(leaves, create_graph=True)
    if isinstance(total, Tensor) and total.requires_grad:
        seconds = grad(total, leaves, allow_unused=True)
    else:  # the first gradient does not depend on the inputs: every second derivative is 0
        seconds = (None,) * len(leaves)
    for i, leaf in enumerate(leaves):
        analytic = np.zeros(leaf.shape) if seconds[i] is None else np.asarray(seconds[i])
        for index in np.ndindex(leaf.shape):
            plus = [Tensor(x.data.copy(), requires_grad=True) for x in leaves]
            minus = [Tensor(x.data.copy(), requires_grad=True) for x in leaves]
            plus[i].data[index] += eps
            minus[i].data[index] -= eps
            numeric = (first_sum(plus, create_graph=False) - first_sum(minus, create_graph=False)) / (2 * eps)
            name = f"input {i}" + (f" ({leaf.name})" if leaf.name else "")
            _compare(float(analytic[index]), numeric, f"second derivative, {name}", index, atol, rtol)
    return True


# One second-derivative checker per engine.
_GRADGRAD_CHECKERS: dict[type, Callable[..., bool]] = {Value: _gradgrad_values, Tensor: _gradgrad_tensors}


def _compare(analytic: float, numeric: float, name: str, index: tuple[int, ...], atol: float, rtol: float) -> None:
    if not abs(analytic - numeric) <= atol + rtol * abs(numeric):
        raise GradcheckError(
            f"gradcheck: {name}, element {index}: autodiff gives {analytic:.10g} but finite differences "
            f"give {numeric:.10g} (difference {abs(analytic - numeric):.3g}, allowed {atol + rtol * abs(numeric):.3g})"
        )
