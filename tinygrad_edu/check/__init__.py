"""Check autodiff against a derivation by hand: the article audit, gradient comparison, explain.

* `article.audit()` — every number of the article's worked example, three ways, with a verdict;
* `compare_gradients(model, loss_fn, inputs, targets, manual)` — a user's own backprop against
  autodiff, with a diagnosis of what is wrong, computed from the numbers;
* `explain(root, param)` — the chain rule for one gradient, path by path, from the recorded graph.
"""

from . import article
from .compare import GradientReport, ParamCheck, compare_gradients
from .explain import Explanation, explain

__all__ = ["Explanation", "GradientReport", "ParamCheck", "article", "compare_gradients", "explain"]
