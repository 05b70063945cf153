"""The old home of `summary`, kept so `from tinygrad_edu.summary import summary` still works.

The code lives in `tinygrad_edu/train/model_summary.py`; import it as `from tinygrad_edu.train import summary`.
"""

from .train.model_summary import summary

__all__ = ["summary"]
