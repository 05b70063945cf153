"""Where torch comes from: imported on first use, so tinygrad_edu runs without it."""

from __future__ import annotations

from typing import Any

from ..errors import MissingDependencyError

INSTALL = (
    "install it with `pip install torch` (in this repository: `pip install -e '.[torch]'`; CPU-only build: "
    "`pip install torch --index-url https://download.pytorch.org/whl/cpu`)"
)


def require_torch(where: str) -> Any:
    """The `torch` module, or `MissingDependencyError` saying in one line what to install."""
    try:
        import torch
    except ImportError:
        raise MissingDependencyError(f"{where}: needs PyTorch, which is not installed; {INSTALL}") from None
    return torch


def torch_name(cls: type) -> str:
    """`torch.nn.Conv2d` rather than `torch.nn.modules.conv.Conv2d`; other classes by module and name."""
    module = cls.__module__
    if module.startswith("torch.nn.modules."):
        return f"torch.nn.{cls.__qualname__}"
    if module.startswith("torch.optim."):
        return f"torch.optim.{cls.__qualname__}"
    return f"{module}.{cls.__qualname__}"
