"""The old home of checkpoints, kept so `from tinygrad_edu import checkpoint` still works.

The code lives in `tinygrad_edu/train/checkpoint.py`; import it as `from tinygrad_edu.train import checkpoint`.
"""

from .train.checkpoint import FORMAT_KEY, FORMAT_VERSION, CheckpointError, PathLike, load, read_state_dict, save

__all__ = ["FORMAT_KEY", "FORMAT_VERSION", "CheckpointError", "PathLike", "load", "read_state_dict", "save"]
