"""`summary(model, input_shape)`: a Keras-style table of a model's layers, output shapes and sizes.

The output shapes are not worked out by rule; they are measured. One sample of zeros goes through
the model (with no graph recorded) while every layer's `forward` is briefly wrapped to note the
shape of what it returns. A Linear layer's parameter count is `in*out + out`: for the article's
Level 3 model, 2*3 + 3 = 9 and 3*2 + 2 = 8, 17 in all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import ArgumentTypeError, ShapeError
from ..graph import no_grad
from ..nn.engines import engine_of
from ..nn.module import Module, ModuleList
from ..tensor import Tensor
from ..value import Value

_WIDTHS = (29, 26, 10)  # Layer (type) | Output Shape | Param #


def summary(model: Module, input_shape: int | Sequence[int], print_fn: Callable[[str], Any] | None = print) -> str:
    """Print (with `print_fn`, None for silence) and return the table for `model` fed `input_shape`.

    `input_shape` is one sample's shape, without the batch axis, as in Keras: `(2,)` for the
    article's two inputs. Tensor layers show `(None, ...)`, where None is the batch size; a scalar
    layer takes one sample and returns a list of Values, shown as `(n,)`.
    """
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape) or isinstance(input_shape, str):
        raise ArgumentTypeError(
            f"summary: input_shape is one sample's shape, whole numbers >= 0 such as (2,) or (1, 28, 28); "
            f"got {input_shape!r}"
        )
    rows = list(_rows(model))
    shapes: dict[int, str] = {}
    _run_and_record(model, shape, rows, shapes)

    line = "_" * sum(_WIDTHS)
    table = [
        f'Model: "{type(model).__name__}"',
        line,
        _row("Layer (type)", "Output Shape", "Param #"),
        "=" * sum(_WIDTHS),
    ]
    for name, module in rows:
        count = _count(module.parameters())
        table.append(_row(f"{name} ({type(module).__name__})", shapes.get(id(module), "(not called)"), f"{count:,}"))
    trainable = _count(p for p in model.parameters() if p.requires_grad)
    total = _count(model.parameters())
    table += [
        "=" * sum(_WIDTHS),
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
        line,
    ]
    text = "\n".join(table)
    if print_fn is not None:
        print_fn(text)
    return text


def _rows(model: Module, prefix: str = "") -> Iterator[tuple[str, Module]]:
    """The layers to list: the model's children, looking inside containers (`Sequential`, `ModuleList`)."""
    children = list(model.named_children())
    if not children:
        yield (prefix or type(model).__name__.lower()), model
        return
    stack = [(f"{prefix}{name}", child) for name, child in reversed(children)]
    while stack:
        name, module = stack.pop()
        if isinstance(module, ModuleList) and len(module):
            stack.extend((f"{name}.{n}", child) for n, child in reversed(list(module.named_children())))
        else:
            yield name, module


def _run_and_record(model: Module, shape: tuple[int, ...], rows: list[tuple[str, Module]], shapes: dict) -> None:
    """One forward pass of zeros, with each row's forward wrapped to record its output shape."""
    params = list(model.parameters())
    is_value = engine_of(model, "tensor") == "value"
    wrapped = []
    for _, module in rows:
        if "forward" in module.__dict__:
            continue  # already wrapped: a layer listed twice (shared) is recorded once
        original = module.forward

        def recording(*args: Any, _module: Module = module, _forward: Callable = original, **kwargs: Any) -> Any:
            out = _forward(*args, **kwargs)
            shapes.setdefault(id(_module), _describe(out))
            return out

        object.__setattr__(module, "forward", recording)
        wrapped.append(module)
    try:
        with no_grad():
            if is_value:
                if len(shape) != 1:
                    raise ShapeError(f"summary: a scalar-engine model takes one flat sample; input_shape {shape}")
                model([0.0] * shape[0])
            else:
                dtype = params[0].data.dtype if params else np.float32
                model(Tensor(np.zeros((1, *shape), dtype=dtype)))
    finally:
        for module in wrapped:
            object.__delattr__(module, "forward")


def _describe(out: Any) -> str:
    if isinstance(out, Tensor):
        return str((None, *out.shape[1:])) if out.ndim else "()"
    if isinstance(out, Value):
        return "()"
    if isinstance(out, (list, tuple)):
        return f"({len(out)},)"
    return type(out).__name__


def _count(params: Any) -> int:
    return sum(p.size if isinstance(p, Tensor) else 1 for p in params)


def _row(*cells: str) -> str:
    return " " + "".join(cell.ljust(width) for cell, width in zip(cells, _WIDTHS)).rstrip()
