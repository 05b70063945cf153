"""Every file the CLI writes, onto every kind of path: a symbolic link is followed (its target written
atomically, the link kept), a FIFO or a character device is written in place (never replaced by a file its
reader never sees, never opened by a pre-check, which would block), `graph -o -` writes to standard output.
Only temporary links, FIFOs and device nodes are used here, never the machine's own (/dev/stdout)."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import threading
import zipfile

import numpy as np
import pytest
from locations import CHECKER_CASES

from tinygrad_edu import nn
from tinygrad_edu.cli import main
from tinygrad_edu.files import write_atomic
from tinygrad_edu.train import checkpoint


def is_page(data: bytes) -> bool:
    return data.lstrip().lower().startswith(b"<!doctype html") and data.rstrip().endswith(b"</html>")


def is_dot(data: bytes) -> bool:
    return b"digraph" in data[:200] and data.rstrip().endswith(b"}")


TRAIN = ["train", "--dataset", "article", "--epochs", "1", "--no-progress"]

# (argv before the path, the flag, a file name whose suffix picks the format, how to tell the bytes are right)
WRITERS = {
    "graph -o": (["graph", "--format", "dot"], "-o", "g.dot", is_dot),
    "article --graph": (["article"], "--graph", "g.dot", is_dot),
    "train --save": (TRAIN, "--save", "m.npz", lambda data: "0.weight" in np.load(io.BytesIO(data)).files),
    "train --graph": (TRAIN, "--graph", "g.dot", is_dot),
    # (issue 24's hunt: the other writers, probed on every kind of path, behave the same; kept so)
    "train --record": (TRAIN, "--record", "run.html", is_page),
    "train --plot": (TRAIN, "--plot", "loss.png", lambda data: data.startswith(b"\x89PNG")),
    "check --graph": (["check", str(CHECKER_CASES / "ok_article_sigmoid_case.py")], "--graph", "check.html", is_page),
}


def needs(writer: str) -> None:
    if writer == "train --plot":
        pytest.importorskip("matplotlib")


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_symlink_is_followed_and_stays_a_link(tmp_path, writer, capsys):
    needs(writer)
    argv, flag, name, looks_right = WRITERS[writer]
    target = tmp_path / "real" / name
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / f"link-{name}"
    link.symlink_to(os.path.relpath(target, tmp_path))  # a relative link, as `ln -s` makes
    assert main([*argv, flag, str(link)]) == 0, capsys.readouterr().err
    assert link.is_symlink(), "the link was replaced by a regular file"
    assert looks_right(target.read_bytes()), "the link's target was not written"
    assert sorted(os.listdir(tmp_path / "real")) == [name]  # no temporary file left beside the target


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link, target = tmp_path / "link.dot", tmp_path / "made.dot"
    link.symlink_to(target)
    assert main(["graph", "--format", "dot", "-o", str(link)]) == 0
    assert link.is_symlink() and is_dot(target.read_bytes())


def test_a_symlink_loop_is_refused_before_any_work(tmp_path, capsys):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    a.symlink_to(b)
    b.symlink_to(a)
    assert main([*TRAIN, "--save", str(a)]) == 2
    err = capsys.readouterr().err
    assert "--save" in err and "loop" in err and "Traceback" not in err
    assert a.is_symlink() and b.is_symlink()


def read_fifo_in_background(fifo):
    """Start a reader of `fifo`; returns a function giving its bytes (unblocking it if no writer ever came)."""
    spare = fifo.with_name(fifo.name + ".spare")
    os.link(fifo, spare)  # a second name for the same pipe, to unblock the reader if the pipe is replaced
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()), daemon=True)  # noqa: SIM115
    reader.start()

    def result() -> bytes:
        reader.join(timeout=20)
        if reader.is_alive():  # nobody wrote into the pipe: end the reader's wait, then fail below
            os.close(os.open(spare, os.O_WRONLY | os.O_NONBLOCK))
            reader.join(timeout=5)
        return got[0] if got else b""

    return result


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_fifo_is_written_in_place(tmp_path, writer, capsys):
    needs(writer)
    argv, flag, name, looks_right = WRITERS[writer]
    fifo = tmp_path / name
    os.mkfifo(fifo)
    result = read_fifo_in_background(fifo)
    assert main([*argv, flag, str(fifo)]) == 0, capsys.readouterr().err
    data = result()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a regular file"
    assert looks_right(data), f"the reader got {data[:40]!r}"


def test_a_character_device_is_written_in_place(tmp_path, capsys):
    device = tmp_path / "null.dot"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a private twin of /dev/null
    except (PermissionError, OSError) as error:
        pytest.skip(f"cannot make a device node here ({error})")
    assert main(["graph", "--format", "dot", "-o", str(device)]) == 0, capsys.readouterr().err
    assert stat.S_ISCHR(os.lstat(device).st_mode), "the device node was replaced by a regular file"
    assert os.listdir(tmp_path) == ["null.dot"]


def test_graph_o_dash_writes_the_drawing_to_stdout(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu", "graph", "--format", "dot", "-o", "-"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert is_dot(result.stdout)
    assert b"wrote the drawing to standard output" in result.stderr
    assert os.listdir(tmp_path) == []  # no file named "-"


@pytest.mark.parametrize("argv", [[*TRAIN, "--save", "-"], ["article", "--graph", "-"]], ids=["train", "article"])
def test_dash_is_refused_where_stdout_carries_the_report(tmp_path, argv, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert "standard output" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_the_library_writers_follow_links_too(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3, generator=0))
    target, link = tmp_path / "t.npz", tmp_path / "l.npz"
    link.symlink_to(target)
    checkpoint.save(model, link)
    assert link.is_symlink() and zipfile.is_zipfile(target)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = read_fifo_in_background(fifo)
    write_atomic(fifo, lambda file: file.write(b"through the pipe"))
    assert result() == b"through the pipe" and stat.S_ISFIFO(os.lstat(fifo).st_mode)
