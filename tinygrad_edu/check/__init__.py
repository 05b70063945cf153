"""Check autodiff against a derivation by hand: the article audit, gradient comparison, explain.

* `article.audit()` — every number of the article's worked example, three ways, with a verdict;
* `compare_gradients(model, loss_fn, inputs, targets, manual)` — a user's own backprop against
  autodiff, with a diagnosis of what is wrong, computed from the numbers (`from_step` for code that
  updates the parameters, `loss_function(name)` for a loss convention);
* `compare_steps(...)` — several steps of a user's update against `optim.SGD` / `optim.Adam`;
* `check_file(path)` — all of it for a learner's Python file (what `tinygrad-edu check` runs);
* `explain(root, param)` — the chain rule for one gradient, path by path, from the recorded graph.
"""

from ..explain import Explanation, explain
from . import article
from .compare import CONVENTIONS, GradientReport, ParamCheck, compare_gradients, from_step, loss_function
from .steps import StepReport, compare_steps
from .userfile import FileResult, UserFileError, check_file

__all__ = [
    "CONVENTIONS",
    "Explanation",
    "FileResult",
    "GradientReport",
    "ParamCheck",
    "StepReport",
    "UserFileError",
    "article",
    "check_file",
    "compare_gradients",
    "compare_steps",
    "explain",
    "from_step",
    "loss_function",
]
