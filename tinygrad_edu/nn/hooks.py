"""Global forward hooks: run a function around every `Module` call, as PyTorch's
`torch.nn.modules.module.register_module_forward_pre_hook` / `register_module_forward_hook` do.

    handle = register_module_forward_hook(lambda module, args, output: print(type(module).__name__))
    model(x)          # prints each module's name as its call returns, innermost first
    handle.remove()   # or: with register_module_forward_hook(...): ...

A pre-hook is called as `hook(module, args)` before `forward`; a non-None result replaces the
positional arguments (a non-tuple is wrapped in one). A forward hook is called as
`hook(module, args, output)` after `forward` returns; a non-None result replaces the output. If
`forward` raises, forward hooks are not called (PyTorch's default), so a hook that pairs "before"
with "after" must expect a "before" with no "after".

The hooks are process-wide (every thread's calls run them), as in PyTorch. With none registered,
a module call costs one flag test: `Module.__call__` goes straight to `forward`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from ..errors import ArgumentTypeError

PreHook = Callable[[Any, tuple], Any]
ForwardHook = Callable[[Any, tuple, Any], Any]

# The registered hooks, as tuples replaced whole under the lock: a call iterates the tuple it read,
# so a hook added or removed meanwhile (on another thread, or by a hook) cannot break that loop.
_pre: tuple[tuple[int, PreHook], ...] = ()
_post: tuple[tuple[int, ForwardHook], ...] = ()
active = False  # any hook registered: the one thing `Module.__call__` tests
_lock = threading.Lock()
_ids = itertools.count()


class RemovableHandle:
    """What registering returns: `.remove()` unregisters the hook (twice is harmless); also a context manager."""

    def __init__(self, key: int) -> None:
        self.id = key

    def remove(self) -> None:
        global _pre, _post, active
        with _lock:
            _pre = tuple(entry for entry in _pre if entry[0] != self.id)
            _post = tuple(entry for entry in _post if entry[0] != self.id)
            active = bool(_pre or _post)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register_module_forward_pre_hook(hook: PreHook) -> RemovableHandle:
    """Call `hook(module, args)` before every module's `forward`; a non-None result replaces `args`."""
    global _pre, active
    _check_callable(hook, "register_module_forward_pre_hook")
    with _lock:
        key = next(_ids)
        _pre = (*_pre, (key, hook))
        active = True
    return RemovableHandle(key)


def register_module_forward_hook(hook: ForwardHook) -> RemovableHandle:
    """Call `hook(module, args, output)` after every module's `forward` returns; a non-None result replaces it."""
    global _post, active
    _check_callable(hook, "register_module_forward_hook")
    with _lock:
        key = next(_ids)
        _post = (*_post, (key, hook))
        active = True
    return RemovableHandle(key)


def call_with_hooks(module: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
    """`module.forward(*args, **kwargs)` with the registered hooks around it (the slow path of `Module.__call__`)."""
    for _, hook in _pre:
        result = hook(module, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    output = module.forward(*args, **kwargs)
    for _, hook in _post:
        result = hook(module, args, output)
        if result is not None:
            output = result
    return output


def _check_callable(hook: Any, op: str) -> None:
    if not callable(hook):
        raise ArgumentTypeError(f"{op}: hook must be callable, got {type(hook).__name__}; pass a function")
