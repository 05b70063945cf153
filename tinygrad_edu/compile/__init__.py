"""`tinygrad_edu.compile`: a training step traced once and replayed as code you can read.

    step = tinygrad_edu.compile(train_step)     # or @tinygrad_edu.compile above it
    loss = step(x, y)                           # first call: traced on the eager engine
    loss = step(x, y)                           # later calls: the generated code (step.source)

One idea per file: `record` (the trace), `refuse` (what a trace refuses), `inputs` (arguments and
signatures), `code` (the text), `tensor_code` and `scalar_code` (the two engines' generators),
`check` (the second call's comparison), `step` (the cache and the call).

This module is itself callable, so `import tinygrad_edu.compile` followed by
`tinygrad_edu.compile(fn)` works whichever of the two the name refers to.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ..errors import CompileError
from .step import CompiledStep, compile  # noqa: A004 (the package's one function, named as in PyTorch)

__all__ = ["CompileError", "CompiledStep", "compile"]


class _CallableModule(types.ModuleType):
    def __call__(self, fn: Any = None, **options: Any) -> Any:
        return compile(fn, **options)


sys.modules[__name__].__class__ = _CallableModule
