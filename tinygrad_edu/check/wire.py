"""Arrays across the pipe between `check`'s two processes, as JSON: nothing but data crosses it.

`encode` (in the child) turns what the learner's code returned into JSON: an array (NumPy, a torch
tensor, a list of lists of numbers) as `{"array": flat numbers, "dtype", "shape"}`, a dict as its
items, a function or an object only as its type name. `decode_array` turns one back into NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def encode(value: Any) -> Any:
    """JSON for the parent: arrays as {"array", "dtype", "shape"}; a torch tensor or a list of lists as an array."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype.kind in "fiub":
            return {"array": arr.astype(np.float64).reshape(-1).tolist(), "dtype": arr.dtype.name, "shape": arr.shape}
        return {"other": type(value).__name__, "repr": _short(value)}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, dict):
        return {"dict": [[str(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        try:
            arr = np.asarray(value, dtype=np.float64)
            if arr.dtype.kind == "f" and not any(isinstance(v, (str, dict)) for v in value):
                return {"array": arr.reshape(-1).tolist(), "dtype": _list_dtype(value), "shape": arr.shape}
        except (TypeError, ValueError):
            pass
        return {"list": [encode(v) for v in value]}
    if callable(value):
        return {"callable": getattr(value, "__name__", type(value).__name__)}
    return {"other": type(value).__name__, "repr": _short(value)}


def _list_dtype(value: Any) -> str:
    """The dtype of the numbers in a (nested) list: float32 when they are NumPy float32 scalars."""
    while isinstance(value, (list, tuple)) and value:
        value = value[0]
    return np.asarray(value).dtype.name if isinstance(value, np.generic) else "float64"


def decode_array(item: dict[str, Any]) -> np.ndarray:
    return np.asarray(item["array"], dtype=np.float64).reshape(item["shape"]).astype(item["dtype"])


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
