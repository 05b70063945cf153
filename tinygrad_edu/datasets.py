"""The old home of the data sets, kept so `from tinygrad_edu.datasets import load_article` still works.

The code lives in `tinygrad_edu/train/datasets.py`; import it as `from tinygrad_edu.train.datasets import ...`.
"""

from .train.datasets import load_article, load_digits, make_moons, one_hot

__all__ = ["load_article", "load_digits", "make_moons", "one_hot"]
