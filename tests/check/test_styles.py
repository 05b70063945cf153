"""The new-style suite: files written the ways learners write backprop, each as its header says.

tests/checker_cases/styles/ is written by make_styles.py: class-based networks with weights (in, out),
lists of lists, a bias folded into W, torch tensors, minibatch loops, hand-written Adam, weight decay,
Nesterov, schedules, clipping, BCE, softmax cross-entropy, linear outputs, float32, a ReLU tie. Every
`bug_*` file is found and its cause named (`# EXPECT:` words), every `ok_*` file passes, every `refuse_*`
file gets the one-line refusal (exit status 3). Each runs on the file's own model and on the other engine
and dtype, and no report says two incompatible things.
"""

from pathlib import Path

import pytest
from locations import CHECKER_CASES

from tinygrad_edu.check.userfile import check_file
from tinygrad_edu.errors import CannotCheckError

STYLES = sorted((CHECKER_CASES / "styles").glob("*_case.py"))
# Written by hand, one at a time, the way a learner would (not from make_styles.py's templates): classes,
# (in, out) STATE, dicts of lists, torch, float32 lists, inline returns, undeclared losses, hand-written Adam.
LEARNERS = sorted((CHECKER_CASES / "learners").glob("*_case.py"))
CASES = STYLES + LEARNERS

# Pairs of sentences one report must never hold together.
CONTRADICTIONS = [
    ("δ is right", "δ is wrong"),
    ("δ is right", "the δ of layer"),
    ("parameters match autodiff", "WRONG"),
    ("parameters match autodiff", "* wrong: "),
    ("is missing the derivative", "is applied twice"),
    ("manual is zero: no gradient reached", "stale"),
    ("the backprop itself is not the cause", "follows from the wrong δ"),
    ("step for step", "your update leaves"),
]


def _expect(path: Path) -> tuple[str, str]:
    head = path.read_text().splitlines()[0]
    if head.startswith("# EXIT 3: "):
        return "refuse", head.removeprefix("# EXIT 3: ")
    return "report", head.removeprefix("# EXPECT: ")


def test_the_suite_is_as_broad_as_the_issue():
    names = {p.stem for p in STYLES}
    assert sum(n.startswith("bug_") for n in names) >= 20
    assert sum(n.startswith("ok_") for n in names) >= 20
    assert sum(n.startswith("refuse_") for n in names) >= 3
    for style in ("class", "lists", "folded", "torch", "minibatch", "adam", "clip", "schedule", "bce", "ce_", "linear"):
        assert any(style in n for n in names), style


def test_the_hand_written_suite_covers_the_planted_bugs_of_the_issue():
    names = {p.stem for p in LEARNERS}
    assert len(names) >= 25
    assert sum(n.startswith("bug_") for n in names) >= 15 and sum(n.startswith("ok_") for n in names) >= 12
    texts = " ".join(p.read_text() for p in LEARNERS)
    for style in ("class ", "torch", "float32", "tolist()", "STATE = {", "return {", "OPTIMIZER", "LR_SCHEDULE"):
        assert style in texts, style


@pytest.mark.parametrize("model", ["file's", "value float64", "tensor float32"])
@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem.removesuffix('_case')}")
def test_style_case(path, model):
    if "import torch" in path.read_text():
        pytest.importorskip("torch")  # a learner's file written with torch tensors (the torch extra)
    kind, words = _expect(path)
    options = {} if model == "file's" else {"engine": model.split()[0], "dtype": model.split()[1]}
    if kind == "refuse":
        with pytest.raises(CannotCheckError) as caught:
            check_file(str(path), **options)
        assert words in str(caught.value) and "\n" not in str(caught.value)
        return
    result = check_file(str(path), **options)
    if path.name.startswith("ok_"):
        assert result.ok, result.text
    else:
        assert not result.ok, result.text
    if words != "ok":
        assert words in result.text, result.text
    assert_one_story(result.text)


def assert_one_story(text: str) -> None:
    """A report never says two incompatible things (used by every suite's test)."""
    for one, other in CONTRADICTIONS:
        assert not (one in text and other in text), (one, other, text)
