"""The old home of the delta-rule reference network, kept so `from tinygrad_edu import reference` still works.

The code lives with the checker, in `tinygrad_edu/check/reference.py`.
"""

from .check.reference import Backprop, Layer, backprop, gradients, layers_from_state, sigmoid

__all__ = ["Backprop", "Layer", "backprop", "gradients", "layers_from_state", "sigmoid"]
