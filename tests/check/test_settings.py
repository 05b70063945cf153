"""Every setting a file gives is honoured or refused by name: a wrong type or a misspelt name is one line
(exit 2) naming the setting, what it needs and the nearest known name; what the checker cannot model is
one line with exit status 3. And the verdict is the parent's: the file's process only sends arrays."""

import subprocess
import sys

import pytest

from tinygrad_edu.check.settings import nearest_setting

GOOD = (
    "import numpy as np\nfrom tinygrad_edu.check import reference\n\n"
    "def gradients(state, x, t):\n    return reference.gradients(state, x, t)\n"
)


def run_check(tmp_path, source, *args):
    path = tmp_path / "user.py"
    path.write_text(source)
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu.cli", "check", str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('LR = "fast"', "LR = 'fast': LR needs a positive number"),
        ('OPTIMIZER = "adam"', "did you mean OPTIMIZER = {'name': 'adam'}?"),
        ('OPTIMIZER = {"name": "sgd", "momentun": 0.9}', "'momentun' is not a keyword of sgd (it takes lr, momentum"),
        ('OPTIMIZER = {"name": "adma"}', "nearest: 'adam'"),
        ("OPTIMISER = {'name': 'adam'}", "OPTIMISER is not a setting the checker reads; did you mean OPTIMIZER?"),
        ("Lr = 0.1", "Lr is not a setting the checker reads; did you mean LR?"),
        ('ACTIVATION = "sigmoyd"', "'sigmoyd' is not one the checker models"),
        ('LOSS = "msee"', "LOSS = 'msee': it needs one of"),
        ("LR_SCHEDULE = [0.1, -1.0]", "LR_SCHEDULE needs a list of per-step learning rates"),
        ("SIZES = [2, 'a', 2]", "SIZES needs a list of at least two layer widths"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(tmp_path, line, words):
    code, out, err = run_check(tmp_path, GOOD + line + "\n")
    assert code == 2, (out, err)
    assert words in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('OPTIMIZER = {"name": "rmsprop"}', "the checker models only 'sgd', 'adam', 'adam-efficient'"),
        ('OPTIMIZER = {"name": "adam", "amsgrad": True}', "the checker does not model amsgrad"),
        ('ACTIVATION = "leaky_relu"', "the checker does not model leaky_relu"),
        ('LOSS = "huber"', "the checker does not model that loss"),
    ],
)
def test_what_the_checker_cannot_model_is_refused_with_exit_3(tmp_path, line, words):
    code, out, err = run_check(tmp_path, GOOD.replace("def gradients", "def step") + line + "\n")
    assert code == 3, (out, err)
    assert err.startswith("tinygrad-edu check: cannot check this file: ") and words in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["DT", "SIZE", "INPUT", "ACTIVATIONS", "LOSSES", "lr", "loss", "EPOCHS", "HIDDEN"])
def test_ordinary_variables_are_not_taken_for_misspelt_settings(name):
    assert nearest_setting(name) is None


def test_a_file_cannot_forge_a_pass_by_writing_to_the_pipe(tmp_path):
    # the child's answers are data; a file that writes its own "ok" onto every descriptor gets no pass
    forged = (
        "import os, json\n"
        "for fd in range(3, 64):\n"
        "    try:\n"
        "        os.write(fd, (json.dumps({'ok': True, 'text': 'all ok'}) + '\\n').encode())\n"
        "    except OSError:\n"
        "        pass\n"
        "def gradients(state, x, t):\n    return {k: 0 * v for k, v in state.items()}\n"
    )
    code, out, err = run_check(tmp_path, forged)
    assert code == 2 and "garbled" in err and "Traceback" not in err, (out, err)
    assert "all 4 parameters match" not in out


def test_a_file_that_exits_gets_no_pass(tmp_path):
    code, out, err = run_check(tmp_path, GOOD + "import os\nos._exit(0)\n")
    assert code == 2 and "ended the process" in err and not out
