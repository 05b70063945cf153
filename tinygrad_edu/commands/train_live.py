"""`train --live` and `train --record`: the flags, and the training that runs in their place of `fit`.

    tinygrad-edu train --dataset moons --live             # a page in the browser follows training
    tinygrad-edu train --dataset moons --record run.html  # the whole run, as one offline page

`--live` prints `live view: http://127.0.0.1:PORT/` first, trains paced for watching, pauses when
`--epochs` are done and serves the page until Ctrl-C; then `train` goes on as usual (final loss,
`--save`, `--plot`, `--graph`), with exit status 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from typing import Any

import numpy as np

from ..errors import ArgumentError
from ..viz.live_data import MAX_SPEED
from ..viz.live_session import DEFAULT_SPEED
from .argtypes import check_output, count


def add_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("watching training (see docs: Watch it learn)")
    group.add_argument("--live", action="store_true", help="train while a page in the browser shows it; Ctrl-C ends")
    group.add_argument("--port", type=count(0, 65535), default=0, help="the live page's port (0: any free one)")
    group.add_argument("--no-open", action="store_true", help="print the live page's address; do not open a browser")
    group.add_argument(
        "--speed",
        type=_speed,
        default=DEFAULT_SPEED,
        help=f"--live: optimizer steps a second (default {DEFAULT_SPEED:g}; 0: as fast as training goes)",
    )
    group.add_argument(
        "--record",
        metavar="FILE.html",
        type=_html_path,
        default=None,
        help="write the run as one offline page to scrub through",
    )


class Watch:
    """What `train` runs in place of `fit` under --live or --record: `.fit()` returns the History."""

    def __init__(self, args: argparse.Namespace, run: Any, view: Any = None) -> None:
        self.args, self._run, self.view = args, run, view
        self.seconds = 0.0  # spent training: not the time paused, or waiting for Ctrl-C
        self._stopped = threading.Event()
        self._previous: Any = None
        if view is not None and threading.current_thread() is threading.main_thread():
            # From here on Ctrl-C stops the server, quietly, wherever the main thread is (even in a
            # print); it must reach us even where the shell ignored SIGINT (a job started with `&`).
            self._previous = signal.signal(signal.SIGINT, self._interrupt)

    def _interrupt(self, signum: int, frame: Any) -> None:
        self._stopped.set()
        self.view.session.stop()  # the training thread ends after its step; `wait` then returns

    def fit(self) -> Any:
        if self.view is None:  # --record alone: train to the end as fit does, then write the page
            started = time.perf_counter()
            history = self._run()
            self.seconds = time.perf_counter() - started
        else:
            try:
                self.view.start()
                self.view.wait()
            finally:
                if self._previous is not None:
                    signal.signal(signal.SIGINT, self._previous)  # a second Ctrl-C, while saving, interrupts
            history = self.view.stop()
            self.seconds = self.view.session.seconds
        if self.args.record:
            size = os.path.getsize(self.args.record)
            print(f"saved the recording to {self.args.record} ({size / 1e6:.1f} MB)")
        return history


def start(
    args: argparse.Namespace,
    model: Any,
    loss_fn: Any,
    optimizer: Any,
    X: np.ndarray,
    Y: np.ndarray,
    epochs: int,
    batch_size: int | None,
    generator: np.random.Generator,
) -> Watch | None:
    """None without --live or --record. Under --live: start the server and training (paced for watching),
    print the page's address as the first line of output, then open it in a browser."""
    refuse_live_flags_without_live(args)
    if not (args.live or args.record):
        return None
    from ..viz import live_view

    if args.record:
        check_output("--record", args.record)  # before training, so a bad path costs no wasted minutes
    settings: dict[str, Any] = {
        "loss_fn": loss_fn,
        "optimizer": optimizer,
        "epochs": epochs,
        "batch_size": batch_size,
        "generator": generator,
        "progress": not args.no_progress,
        "compile": getattr(args, "compile", False),  # train --compile: each step compiled, as fit does
        "title": f"Watch it learn: {args.dataset}, {args.engine} engine",
    }
    if not args.live:
        return Watch(args, lambda: live_view.record(model, (X, Y), args.record, **settings))
    view = live_view.live(
        model, (X, Y), port=args.port, speed=args.speed, open_browser=False, record=args.record, start=False, **settings
    )  # training starts in Watch.fit, after train has set up what watches the optimizer (--graph-step)
    watch = Watch(args, None, view)
    print(f"live view: {view.url}", flush=True)
    if not args.no_open:
        live_view.open_in_browser(view.url)  # after the address: a browser's own messages come second
    return watch


def refuse_live_flags_without_live(args: argparse.Namespace) -> None:
    """--port, --no-open and --speed set up the live page: without --live they would be silently ignored.

    Refused rather than read as --live: --live also opens a browser and paces training for watching,
    more than a user who typed `--port 8000` asked for (a wrong guess would cost a whole run).
    """
    given = [
        flag
        for flag, used in (
            (f"--port {args.port}", args.port != 0),
            ("--no-open", args.no_open),
            (f"--speed {args.speed:g}", args.speed != DEFAULT_SPEED),
        )
        if used
    ]
    if given and not args.live:
        raise ArgumentError(
            f"{' '.join(given)} without --live: {'it sets' if len(given) == 1 else 'they set'} up the live page; "
            "add --live to watch training in the browser, or leave out " + ", ".join(f.split()[0] for f in given)
        )


def _speed(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of steps a second, got {text!r}") from None
    if not 0 <= number <= MAX_SPEED:
        raise argparse.ArgumentTypeError(f"must be from 0 (as fast as it goes) to {MAX_SPEED}, got {text}")
    return number


def _html_path(path: str) -> str:
    if not path.lower().endswith((".html", ".htm")):
        raise argparse.ArgumentTypeError(f"{path}: a recording is a web page; the file name must end in .html")
    return path
