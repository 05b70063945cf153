"""Save a model's parameters to a `.npz` file and load them back, safely.

A checkpoint is `model.state_dict()` (parameter name -> array) written with `numpy.savez`, so any
NumPy program can read it, and a `torch.nn` model with the same layers can load it too. Two promises:

* **A failed save never damages the previous file.** The arrays go to a temporary file in the same
  folder, which is flushed to disk (`fsync`) and then renamed over the target with `os.replace`. A
  rename within one file system is atomic: a reader sees the old file or the new one, never half.
* **A read-only file is never replaced**: saving onto it raises `ReadOnlyFileError` (a
  `PermissionError`: "permission denied", as `cp` says). And a save killed outright (`kill -9`)
  leaves a hidden temporary file `.NAME.PID.RANDOM.tmp`; the next save to NAME removes it
  (see `tinygrad_edu.files`).
* **A bad file never damages the model.** Loading reads every array first (with
  `allow_pickle=False`, so a file cannot run code), then hands them to `load_state_dict`, which
  checks every name and shape before it copies anything. A truncated, corrupted or mismatched file
  raises `CheckpointError` and the model keeps its parameters.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from typing import Any

import numpy as np

from ..errors import ArgumentTypeError, CheckpointError, TinygradEduError
from ..files import write_atomic

# Stored next to the parameters; a reader can tell a checkpoint written by this package (and which
# layout) from any other .npz. Its name cannot clash with a parameter's dotted name.
FORMAT_KEY = "__tinygrad_edu_checkpoint__"
FORMAT_VERSION = 1

PathLike = str | os.PathLike


def save(model: Any, path: PathLike) -> None:
    """Write `model.state_dict()` to `path` (exactly that name: no `.npz` is appended) atomically."""
    path = os.fspath(path)
    _check_model(model, "save")
    arrays = dict(model.state_dict())
    if FORMAT_KEY in arrays:
        raise CheckpointError(f"save: a parameter is named {FORMAT_KEY!r}, which checkpoints reserve; rename it")
    arrays[FORMAT_KEY] = np.array(FORMAT_VERSION)
    write_atomic(path, lambda file: np.savez(file, **arrays))


def load(model: Any, path: PathLike) -> Any:
    """Load the parameters saved at `path` into `model` (in place) and return the model."""
    _check_model(model, "load")
    state = read_state_dict(path)
    try:
        model.load_state_dict(state, strict=True)
    except (TinygradEduError, KeyError, ValueError, TypeError) as error:
        raise CheckpointError(f"load: {os.fspath(path)} does not fit this model: {error}") from error
    return model


def _check_model(model: Any, where: str) -> None:
    if not (hasattr(model, "state_dict") and hasattr(model, "load_state_dict")):
        raise ArgumentTypeError(
            f"{where}: expected a model (an nn.Module, with state_dict and load_state_dict), got {type(model).__name__}"
        )


def read_state_dict(path: PathLike) -> dict[str, np.ndarray]:
    """Every parameter array stored at `path`, by name, without touching any model."""
    path = os.fspath(path)
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise CheckpointError(f"load: {path} holds one array, not a checkpoint (a .npz of named arrays)")
        with data:
            state = {name: data[name] for name in data.files}  # reads and CRC-checks every array now
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, KeyError, RuntimeError) as error:
        # RuntimeError: zipfile's answer to some damaged headers (encryption flags, unknown versions)
        if isinstance(error, FileNotFoundError):
            raise
        raise CheckpointError(
            f"load: {path} is not a readable checkpoint (truncated, corrupted or not a .npz file): {error}"
        ) from error
    version = state.pop(FORMAT_KEY, None)
    if version is not None:
        if version.shape != () or not np.issubdtype(version.dtype, np.integer):
            raise CheckpointError(
                f"load: {path} has a {FORMAT_KEY!r} entry that is not a format number "
                f"({version.dtype}, shape {version.shape}); the file is damaged or was not written by tinygrad_edu"
            )
        if int(version) > FORMAT_VERSION:
            raise CheckpointError(
                f"load: {path} was written in checkpoint format {int(version)}, newer than this version of "
                f"tinygrad_edu reads ({FORMAT_VERSION}); upgrade tinygrad_edu"
            )
    return state
