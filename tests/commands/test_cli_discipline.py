"""The command line's discipline: bad arguments and unusable output paths are one line and exit 2,
before any work; `--help` states the exit statuses; a closed pipe is not an error."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from locations import ROOT

from tinygrad_edu.cli import EXIT_CODES, build_parser, main


def usage_error(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert len(err.strip().splitlines()) == 1, err  # one line, no usage block, no traceback
    return err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["train", "--seed", "-1"], "--seed: must be at least 0"),
        (["train", "--seed", "1.5"], "--seed: expected a whole number"),
        (["graph", "--max-nodes", "0"], "--max-nodes: must be at least 10"),
        (["graph", "--max-nodes", "-5"], "--max-nodes: must be at least 10"),
        (["graph", "--timeout", "0"], "--timeout: must be a positive, finite number"),
        (["graph", "--timeout", "-1"], "--timeout: must be a positive, finite number"),
        (["graph", "--timeout", "nan"], "--timeout: must be a positive, finite number"),
        (["graph", "--timeout", "inf"], "--timeout: must be a positive, finite number"),
        (["train", "--lr", "nan"], "--lr: must be a positive, finite number"),
        (["check", "f.py", "--timeout", "0"], "--timeout: must be a positive, finite number"),
        (["check", "f.py", "--steps", "0"], "--steps: must be from 1 to 1000, got 0"),
        (["check", "f.py", "--steps", "1001"], "--steps: must be from 1 to 1000, got 1001"),
        (["check", "f.py", "--rtol", "-0.5"], "--rtol: must be a finite number >= 0"),
        (["check", "f.py", "--atol", "nan"], "--atol: must be a finite number >= 0"),
    ],
)
def test_bad_numbers_are_refused_by_argparse(capsys, argv, says):
    assert says in usage_error(capsys, argv)


def test_format_and_suffix_must_agree(tmp_path, capsys):
    target = tmp_path / "x.svg"
    assert main(["graph", "--format", "png", "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert "--format png but -o" in err and "x.png" in err and len(err.strip().splitlines()) == 1
    assert not target.exists()  # nothing written, not PNG bytes in an .svg


def test_format_follows_the_suffix_and_an_unknown_suffix_takes_format(tmp_path, capsys):
    dot = tmp_path / "net.DOT"
    assert main(["graph", "-o", str(dot)]) == 0
    assert "digraph backprop {" in dot.read_text()
    other = tmp_path / "net.gv"
    assert main(["graph", "--format", "dot", "-o", str(other)]) == 0
    assert "digraph backprop {" in other.read_text()
    same = tmp_path / "same.dot"
    assert main(["graph", "--format", "dot", "-o", str(same)]) == 0 and same.exists()


@pytest.mark.parametrize("flag", ["--save", "--plot", "--graph"])
def test_train_refuses_a_folder_before_training(tmp_path, capsys, flag):
    target = str(tmp_path) + os.sep
    if flag == "--graph":
        with pytest.raises(SystemExit):  # argparse: the suffix must name a format
            main(["train", "--no-progress", flag, target])
        return
    assert main(["train", "--no-progress", "--epochs", "1", flag, target]) == 2
    out, err = capsys.readouterr()
    assert "is a folder" in err and out == ""  # refused before the header, let alone training


def test_train_refuses_a_read_only_file_before_training(tmp_path, capsys):
    target = tmp_path / "model.npz"
    target.write_bytes(b"keep me")
    target.chmod(0o444)
    assert main(["train", "--no-progress", "--save", str(target)]) == 2
    out, err = capsys.readouterr()
    assert "permission denied" in err and out == ""
    assert target.read_bytes() == b"keep me"


def test_article_graph_path_is_checked_first(tmp_path, capsys):
    assert main(["article", "--graph", str(tmp_path / "missing" / "g.svg")]) == 2
    out, err = capsys.readouterr()
    assert "does not exist" in err and out == ""


def test_check_takes_any_spelling_of_a_zero_tolerance():
    # `--rtol 0.00` was refused as "must be a finite number > 0": only the strings "0" and "0.0" meant zero
    for text in ("0", "0.0", "0.00", "0e0", "-0"):
        args = build_parser().parse_args(["check", "f.py", "--rtol", text, "--atol", text])
        assert args.rtol == 0.0 and args.atol == 0.0
    assert build_parser().parse_args(["check", "f.py", "--rtol", "1e-3"]).rtol == 1e-3


def test_check_graph_path_is_checked_before_the_file_runs(tmp_path, capsys):
    # it used to run the whole check, then die in the child with a traceback and a false "the file's code ended
    # the process" message
    level1 = str(ROOT / "examples" / "article_code" / "level1.py")
    assert main(["check", level1, "--graph", str(tmp_path / "missing" / "g.svg")]) == 2
    out, err = capsys.readouterr()
    assert "--graph" in err and "does not exist" in err and "Traceback" not in err and out == ""


def test_every_command_help_states_the_exit_codes():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.choices and "article" in a.choices)
    helps = {"": parser.format_help(), **{n: p.format_help() for n, p in subparsers.choices.items()}}
    assert set(helps) >= {"", "article", "train", "graph"}
    for name, text in helps.items():
        flat = " ".join(text.split())
        assert "exit status: 0 ok; 1 mistakes found" in flat, name
        assert "2 usage or input error" in flat, name


def test_readme_command_section_states_the_exit_codes():
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "exit status" in readme.lower() and "2 usage or input error" in readme
    assert "0 ok" in EXIT_CODES


@pytest.mark.parametrize("argv", [["article"], ["article", "--json"], ["--help"], ["train", "--help"]])
def test_a_closed_pipe_is_quiet(argv):
    """`tinygrad-edu article | head -1`: the reader leaves early; no 'Broken pipe', no error status."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tinygrad_edu", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT
    )
    child.stdout.close()  # before the child has written anything: its first write hits a closed pipe
    err = child.stderr.read().decode()
    assert child.wait(timeout=120) == 0
    assert err == ""


def test_render_takes_the_format_from_the_suffix_and_refuses_a_clash(tmp_path):
    from tinygrad_edu import Value
    from tinygrad_edu.errors import ArgumentError
    from tinygrad_edu.viz import render

    y = Value(2.0, name="x").tanh()
    y.backward()
    with pytest.raises(ArgumentError, match=r"ends in \.svg"):
        render(y, tmp_path / "x.svg", format="png")
    assert not (tmp_path / "x.svg").exists()
    written = render(y, tmp_path / "y.dot")  # no format: the suffix says dot
    assert "digraph backprop {" in Path(written).read_text()
