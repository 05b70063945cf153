"""`train --live` and `train --record` as a learner runs them: in a subprocess, with a real SIGINT."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from tinygrad_edu.cli import main

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def train(*args: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "tinygrad_edu", "train", "--no-progress", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)


@pytest.mark.parametrize("engine", ["tensor", "value"])
def test_ctrl_c_ends_train_live_quietly_with_status_0(engine):
    process = train("--dataset", "article", "--engine", engine, "--epochs", "2", "--live", "--no-open")
    try:
        first = process.stdout.readline()
        assert first.startswith("live view: http://127.0.0.1:") and first.endswith("/\n")
        url = first.split()[-1]
        page = urllib.request.urlopen(url, timeout=10).read().decode()
        assert 'id="boundary"' in page
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert err == ""
    assert "final loss" in out and "trained in" in out


def test_live_writes_save_plot_graph_and_record_when_the_server_stops(tmp_path):
    pytest.importorskip("matplotlib")
    if shutil.which("dot") is None:
        pytest.skip("needs Graphviz's dot for --graph")
    weights, run, plot, graph = (tmp_path / name for name in ("w.npz", "run.html", "loss.png", "step.svg"))
    outputs = ["--save", str(weights), "--record", str(run), "--plot", str(plot), "--graph", str(graph)]
    process = train("--dataset", "moons", "--epochs", "3", "--live", "--no-open", "--speed", "0", *outputs)
    try:
        url = process.stdout.readline().split()[-1]
        for _ in range(200):  # until the 3 epochs are done and training has paused
            state = json.loads(urllib.request.urlopen(url + "state", timeout=10).read())
            if state["finished"]:
                break
        assert state["step"] == 3 and not weights.exists()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0 and err == ""
    assert weights.exists() and run.exists() and plot.exists() and graph.exists()
    assert f"saved the recording to {run}" in out and f"saved the parameters to {weights}" in out


def test_record_alone_trains_like_fit_and_writes_the_page(tmp_path, capsys):
    run = tmp_path / "moons.html"
    assert main(["train", "--dataset", "moons", "--epochs", "5", "--no-progress", "--record", str(run)]) == 0
    out = capsys.readouterr().out
    assert "live view" not in out and f"saved the recording to {run}" in out
    assert main(["train", "--dataset", "moons", "--epochs", "5", "--no-progress"]) == 0
    plain = capsys.readouterr().out
    final = [line for line in out.splitlines() if line.startswith("final loss")]
    assert final == [line for line in plain.splitlines() if line.startswith("final loss")]  # the same training
    assert "data-frames" not in run.read_text()[:200] and run.stat().st_size > 1000


def test_bad_live_flags_are_usage_errors(tmp_path, capsys):
    for args, says in (
        (["--record", str(tmp_path / "run.png")], "must end in .html"),
        (["--live", "--speed", "-1"], "must be from 0"),
        (["--live", "--port", "70000"], "must be from 0 to 65535"),
    ):
        with pytest.raises(SystemExit) as exit_status:
            main(["train", *args])
        assert exit_status.value.code == 2
        assert says in capsys.readouterr().err


def test_a_port_in_use_is_one_line_not_a_traceback(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["train", "--live", "--no-open", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot serve on 127.0.0.1:{port}" in err and "Traceback" not in err
