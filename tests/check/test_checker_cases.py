"""The planted-bug suite: every bug found and named by its cause, no false alarm on a correct file.

The files in tests/checker_cases/ are written by make_cases.py from one correct backprop: each
`bug_*` file carries one deliberate mistake and says, in `# EXPECT:`, the words the diagnosis must
contain; each `ok_*` file must pass. Both engines, float32 and float64, sigmoid/tanh/ReLU, one
sample and batches, SGD, momentum and Adam.
"""

from pathlib import Path

import pytest
from locations import CHECKER_CASES
from test_styles import assert_one_story

from tinygrad_edu.check.userfile import check_file

CASES = sorted((CHECKER_CASES).glob("*_case.py"))


def _header(path: Path) -> tuple[str, dict[str, str]]:
    lines = path.read_text().splitlines()
    expect = lines[0].removeprefix("# EXPECT: ")
    options = dict(item.split("=", 1) for item in lines[1].removeprefix("# OPTIONS:").split())
    return expect, options


def test_the_suite_is_big_enough():
    assert sum(p.name.startswith("bug_") for p in CASES) >= 30
    assert sum(p.name.startswith("ok_") for p in CASES) >= 10


@pytest.mark.parametrize("model", ["file's", "value float32", "tensor float32", "value float64"])
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem.removesuffix("_case"))
def test_case(path, model):
    """Each file as its header says, then on both engines and both dtypes of the model: same verdict, same cause."""
    expect, options = _header(path)
    if model != "file's":
        options = {**options, "engine": model.split()[0], "dtype": model.split()[1]}
    result = check_file(str(path), **options)
    if expect == "ok":
        assert result.ok, result.text
    else:
        assert not result.ok, result.text
        assert expect in result.text, result.text
    assert_one_story(result.text)  # one story: never two incompatible things in one report


@pytest.mark.parametrize(
    ("case", "line_text"),
    [
        ("bug_hidden_sigma_twice", "delta = (delta @ W[k]) * fprime(acts[i]) * fprime(acts[i])"),
        ("bug_output_sigma_missing_tanh_batch", "delta = (acts[-1] - T)"),
    ],
)
def test_the_line_that_computed_the_first_wrong_delta_is_named(case, line_text):
    path = CHECKER_CASES / f"{case}_case.py"
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.strip() == line_text)
    result = check_file(str(path))
    assert f"is first computed at {path}, line {line}: {line_text}" in result.text


def test_the_file_can_name_its_loss(tmp_path):
    source = (CHECKER_CASES / "bug_mean_loss_3_outputs_case.py").read_text()
    assert not check_file(str(_write(tmp_path, "plain.py", source))).ok  # checked as ½ Σ: 0.6667x
    told = _write(tmp_path, "told.py", source + '\nLOSS = "mean"\n')
    assert check_file(str(told)).ok
    assert not check_file(str(told), loss="half-sum").ok  # the command line wins


def _write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path
