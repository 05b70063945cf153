"""Save a model's parameters (and, if given, its optimizer's state) to a `.npz` file and load them back, safely.

A checkpoint is `model.state_dict()` (parameter name -> array) written with `numpy.savez`, so any
NumPy program can read it, and a `torch.nn` model with the same layers can load it too. With
`optimizer=`, the optimizer's `state_dict()` goes into the same file under the reserved prefix
`__optimizer__/`: its buffers as arrays (`__optimizer__/state/0/exp_avg`), its hyperparameters as one
JSON string. Resuming from such a file gives the same numbers, bit for bit, as never stopping.
The promises:

* **A failed save never damages the previous file.** The arrays go to a temporary file in the same
  folder, which is flushed to disk (`fsync`) and then renamed over the target with `os.replace`. A
  rename within one file system is atomic: a reader sees the old file or the new one, never half.
* **A read-only file is never replaced**: saving onto it raises `ReadOnlyFileError` (a
  `PermissionError`: "permission denied", as `cp` says). And a save killed outright (`kill -9`)
  leaves a hidden temporary file `.NAME.PID.RANDOM.tmp`; the next save to NAME removes it
  (see `tinygrad_edu.files`).
* **A bad file never damages the model.** Loading reads every array first (with
  `allow_pickle=False`, so a file cannot run code, and each member's declared size checked against
  the file before anything is allocated), then hands them to `load_state_dict`, which checks every
  name and shape before it copies anything. A truncated, corrupted or mismatched file raises
  `CheckpointError` and the model (and the optimizer) keep what they had.
* **Old files still load**: format 1 (parameters only) and plain `numpy.savez` files of a state dict.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from typing import Any

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, CheckpointError, TinygradEduError
from ..files import write_atomic

# Stored next to the parameters; a reader can tell a checkpoint written by this package (and which
# layout) from any other .npz. Its name cannot clash with a parameter's dotted name.
FORMAT_KEY = "__tinygrad_edu_checkpoint__"
# 1: parameters only.  2: parameters, and the optimizer's state under OPTIMIZER_PREFIX when saved with one.
FORMAT_VERSION = 2
OPTIMIZER_PREFIX = "__optimizer__/"
_GROUPS = OPTIMIZER_PREFIX + "param_groups"  # JSON: {"type": "Adam", "param_groups": [...]}
_STATE = OPTIMIZER_PREFIX + "state/"  # + "<parameter index>/<buffer name>"

PathLike = str | os.PathLike


def save(model: Any, path: PathLike, optimizer: Any = None) -> None:
    """Write `model.state_dict()` (and `optimizer.state_dict()`, if given) to `path` atomically.

    The file gets exactly that name (no `.npz` is appended).
    """
    path = os.fspath(path)
    _check_model(model, "save")
    arrays = dict(model.state_dict())
    for name in arrays:
        if name == FORMAT_KEY or name.startswith(OPTIMIZER_PREFIX):
            raise CheckpointError(
                f"save: a parameter is named {name!r}, which checkpoints reserve for themselves; rename it"
            )
    if optimizer is not None:
        arrays.update(_optimizer_arrays(optimizer))
    arrays[FORMAT_KEY] = np.array(FORMAT_VERSION)
    write_atomic(path, lambda file: np.savez(file, **arrays))


def load(model: Any, path: PathLike, optimizer: Any = None) -> Any:
    """Load the parameters saved at `path` into `model` (in place) and return the model.

    With `optimizer`, its state is restored too (the file must have been saved with one). Everything
    is checked first: if the file does not fit, neither the model nor the optimizer changes.
    """
    _check_model(model, "load")
    if optimizer is not None:
        _check_optimizer(optimizer, "load")
    path = os.fspath(path)
    state, extra = _read(path)
    optimizer_state = None if optimizer is None else _optimizer_state(extra, path, optimizer)
    before = None if optimizer is None else model.state_dict()
    try:
        model.load_state_dict(state, strict=True)
    except (TinygradEduError, KeyError, ValueError, TypeError) as error:
        raise CheckpointError(f"load: {path} does not fit this model: {error}") from error
    if optimizer_state is not None:
        try:
            optimizer.load_state_dict(optimizer_state)  # checks everything before it changes anything
        except (TinygradEduError, KeyError, ValueError, TypeError) as error:
            model.load_state_dict(before, strict=True)  # so the model too keeps what it had
            raise CheckpointError(
                f"load: the optimizer state in {path} does not fit this optimizer: {error}"
            ) from error
    return model


def read_state_dict(path: PathLike) -> dict[str, np.ndarray]:
    """Every parameter array stored at `path`, by name, without touching any model."""
    return _read(os.fspath(path))[0]


def _check_model(model: Any, where: str) -> None:
    if not (hasattr(model, "state_dict") and hasattr(model, "load_state_dict")):
        raise ArgumentTypeError(
            f"{where}: expected a model (an nn.Module, with state_dict and load_state_dict), got {type(model).__name__}"
        )


def _check_optimizer(optimizer: Any, where: str) -> None:
    if not (hasattr(optimizer, "state_dict") and hasattr(optimizer, "load_state_dict")):
        raise ArgumentTypeError(
            f"{where}: optimizer= expects an optimizer (optim.SGD, optim.Adam, ...), got {type(optimizer).__name__}"
        )


# ---------------------------------------------------------------------- reading


def _read(path: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(the parameter arrays, the optimizer's entries) stored at `path`; every array read and checked now."""
    try:
        _check_declared_sizes(path)
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
    extra = {name: state.pop(name) for name in [n for n in state if n.startswith(OPTIMIZER_PREFIX)]}
    return state, extra


# Deflate cannot expand data by more than about 1032 to 1, so a member's claimed size beyond that is a lie.
_MAX_DEFLATE_RATIO = 1100


def _check_declared_sizes(path: str) -> None:
    """Refuse a member whose header declares more data than the file can hold, before NumPy allocates it.

    A `.npy` header is a few bytes that say "shape (10**11,)"; NumPy believes it and asks for 400 GB.
    Each member's declared bytes must fit in what the zip directory says the member holds, and that
    in turn must fit in the bytes actually stored (times deflate's best ratio, for a compressed member).
    """
    if not zipfile.is_zipfile(path):
        return  # np.load says what it is (a single .npy, or garbage)
    archive_size = os.path.getsize(path)
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            name = info.filename[: -len(".npy")]
            ratio = 1 if info.compress_type == zipfile.ZIP_STORED else _MAX_DEFLATE_RATIO
            if info.compress_size > archive_size or info.file_size > max(info.compress_size, 1) * ratio:
                raise CheckpointError(
                    f"load: {path} is damaged: member {name!r} claims {info.file_size} bytes "
                    f"but the file stores {info.compress_size} of them in a {archive_size}-byte file"
                )
            with archive.open(info.filename) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(member)
                else:  # (2, 0) and (3, 0) share the layout (3.0 allows UTF-8 field names, which we never write)
                    shape, _, dtype = np.lib.format.read_array_header_2_0(member)
                declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
                available = info.file_size - member.tell()
            if declared > available:
                raise CheckpointError(
                    f"load: {path} is damaged: member {name!r} declares shape {shape} of {dtype} "
                    f"({declared} bytes) but holds only {available} bytes; nothing was allocated or loaded"
                )


# ---------------------------------------------------------------------- the optimizer's state


def _optimizer_arrays(optimizer: Any) -> dict[str, np.ndarray]:
    """`optimizer.state_dict()` as named arrays: buffers under state/, hyperparameters as one JSON string."""
    _check_optimizer(optimizer, "save")
    state_dict = optimizer.state_dict()
    groups = {"type": type(optimizer).__name__, "param_groups": state_dict["param_groups"]}
    try:
        text = json.dumps(groups, default=_plain, allow_nan=True)
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"save: the optimizer's hyperparameters cannot be stored: {error}") from None
    arrays = {_GROUPS: np.array(text)}
    for index, buffers in state_dict["state"].items():
        for name, value in buffers.items():
            if "/" in str(name):
                raise CheckpointError(f"save: optimizer buffer {name!r} has a '/' in its name; rename it")
            arrays[f"{_STATE}{int(index)}/{name}"] = np.asarray(value)
    return arrays


def _plain(value: Any) -> Any:
    """JSON for NumPy numbers a user may have put into a param group (np.float32(0.1) as lr)."""
    if isinstance(value, np.generic):
        return value.item()
    raise ArgumentTypeError(f"{type(value).__name__} {value!r} is not a number, bool, string or list")


def _optimizer_state(extra: dict[str, np.ndarray], path: str, optimizer: Any) -> dict[str, Any]:
    """Rebuild the optimizer's state_dict from the file's entries, or say why it cannot be done."""
    kind = type(optimizer).__name__
    if _GROUPS not in extra:
        raise CheckpointError(
            f"load: {path} holds no optimizer state (it was saved without optimizer=); load the model "
            f"alone with load(model, path), or save with save(model, path, optimizer={kind.lower()})"
        )
    try:
        saved = json.loads(str(extra[_GROUPS][()]))
        saved_kind, groups = saved["type"], [_tuples(group) for group in saved["param_groups"]]
        state: dict[int, dict[str, Any]] = {}
        for name, array in extra.items():
            if name == _GROUPS:
                continue
            if not name.startswith(_STATE):
                raise ArgumentError(f"unknown entry {name!r}")
            index, buffer = name[len(_STATE) :].split("/")
            state.setdefault(int(index), {})[buffer] = array
        if not all("params" in group for group in groups):
            raise ArgumentError("a parameter group without its parameters")
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise CheckpointError(f"load: the optimizer state in {path} is damaged ({error})") from None
    if saved_kind != kind:
        raise CheckpointError(
            f"load: {path} holds the state of a {saved_kind} optimizer, not of a {kind}; build a {saved_kind}"
        )
    for saved_group, group in zip(groups, optimizer.param_groups):
        if set(saved_group) != set(group):
            raise CheckpointError(
                f"load: the {kind} state in {path} has the hyperparameters {sorted(saved_group)}, "
                f"this {kind} has {sorted(group)}"
            )
    return {"state": state, "param_groups": groups}


def _tuples(group: dict[str, Any]) -> dict[str, Any]:
    """JSON has no tuples: bring back `betas=(0.9, 0.999)` as a tuple (the parameter indices stay a list)."""
    return {k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in group.items()}
