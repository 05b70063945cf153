"""Watch it learn: `live(model, (X, Y))` trains while a page in the browser shows the network, the
decision boundary and the loss, and lets the learner pause, step, change the learning rate and add or
delete points; `record(model, (X, Y), "run.html")` keeps the whole run in one offline page to scrub.

    view = viz.live(model, (X, Y), loss_fn=nn.MSELoss(), epochs=400)   # returns at once
    print(view.url)                                                      # http://127.0.0.1:PORT/
    history = view.stop()                                                # when you have seen enough

Any model trains (on either engine); the network is drawn for a chain of dense layers, and the
boundary for data with two features. Nothing is downloaded: the server is the standard library's.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import sys
import threading
import webbrowser
from collections.abc import Callable
from typing import Any

from .. import nn, optim
from ..errors import ArgumentError, ArgumentTypeError
from ..files import write_atomic
from ..train import History, progress_bar
from .live_data import Points, check_pairs
from .live_html import live_page
from .live_server import LiveServer
from .live_session import DEFAULT_SPEED, MAX_FRAMES, MAX_RECORDING_BYTES, Recorder, Session, decimate

MAX_LOSS_POINTS = 2000  # points of a recording's loss curve


class LiveView:
    """A running live view: `.url` to open, `.stop()` to end training and the server (returns the History)."""

    def __init__(self, session: Session, server: LiveServer, record_path: str | None, title: str) -> None:
        self.session, self.server = session, server
        self.record_path, self.title = record_path, title
        self.url = server.url
        self._thread = threading.Thread(target=self._train, name="tinygrad-edu live training", daemon=True)
        self._error: BaseException | None = None
        self._stopped = False

    def _train(self) -> None:
        """The training thread: an error in a step ends training, shows on the page, and is raised by `stop()`."""
        try:
            self.session.run()
        except BaseException as error:  # raised again in the caller's thread, by stop()
            self._error = error
            with self.session.lock:
                self.session.error = f"training stopped: {type(error).__name__}: {error}"

    def __reduce_ex__(self, protocol: Any) -> Any:  # copy.copy, copy.deepcopy and pickle all ask this
        raise ArgumentTypeError(
            "copy/pickle: a LiveView is a running server and training thread, which cannot be copied; "
            "copy or save what it trains instead (its model: copy.deepcopy or train.save; view.stop() returns "
            "the History, which pickles)"
        )

    def start(self) -> None:
        """Start training (once); `live()` does, unless it was asked not to (`start=False`)."""
        if not self._thread.is_alive() and self._thread.ident is None:
            self._thread.start()

    @property
    def history(self) -> History:
        return self.session.history

    @property
    def step(self) -> int:
        return self.session.step

    def wait(self) -> None:
        """Block until `stop()` is called from elsewhere (Ctrl-C raises KeyboardInterrupt here, as usual)."""
        while self._thread.is_alive():
            self._thread.join(0.2)

    def stop(self) -> History:
        """Stop training after the step in progress, stop the server, write the recording if one was asked for."""
        if not self._stopped:
            self._stopped = True
            self.session.stop()
            if self._thread.ident is not None:  # started
                self._thread.join()
            self.server.stop()
            if self._error is not None:
                raise self._error
            if self.record_path is not None:
                save_recording(self.session, self.record_path, self.title)
        return self.session.history

    def _repr_html_(self) -> str:
        url = html.escape(self.url, quote=True)
        return (
            f'<p>live view: <a href="{url}" target="_blank">{url}</a></p>'
            f'<iframe src="{url}" title="watch it learn"'
            ' style="width:100%;height:720px;border:1px solid #ccc"></iframe>'
        )

    def __repr__(self) -> str:
        return f"LiveView(url={self.url!r}, step={self.step})"


def live(
    model: Any,
    data: tuple[Any, Any],
    *,
    loss_fn: Callable[[Any, Any], Any] | None = None,
    optimizer: Any = None,
    lr: float | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    port: int = 0,
    speed: float = DEFAULT_SPEED,
    open_browser: bool = True,
    generator: Any = None,
    record: str | os.PathLike | None = None,
    progress: bool = False,
    compile: bool = False,  # noqa: A002 (fit's name for it, as torch.compile's)
    title: str = "Watch it learn",
    start: bool = True,
) -> LiveView:
    """Train `model` on `data = (X, Y)` in the background while a page at the returned view's `.url` shows it.

    Training is paced at `speed` optimizer steps a second (0: as fast as it goes) and pauses after
    `epochs`; points added on the page train it further. `loss_fn` and `optimizer` default to what the
    targets suggest (see `default_loss`) and SGD at `lr` (0.1). `port=0` picks a free port. With
    `record="run.html"`, the run is also written as a recording when the view stops. `compile=True`
    runs each step compiled, as `fit(compile=True)` does. `start=False` serves the page but waits for
    `view.start()` to train (`train --live` does, once everything that watches the optimizer is set up).
    Returns at once.
    """
    if not isinstance(speed, (int, float)) or not speed >= 0:
        raise ArgumentError(f"live: speed is optimizer steps a second (0: as fast as it goes), got {speed!r}")
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ArgumentError(f"live: port must be a whole number from 0 to 65535 (0: any free port), got {port!r}")
    session = _session(model, data, loss_fn, optimizer, lr, epochs, batch_size, generator, compile)
    session.speed, session.bar = float(speed), progress_bar(epochs, enabled=progress)
    if record is not None:
        session.record_into(Recorder())
    view = LiveView(session, LiveServer(session, port, title), None if record is None else os.fspath(record), title)
    view.server.start()
    if start:
        view.start()
    if open_browser:
        open_in_browser(view.url)
    return view


def open_in_browser(url: str) -> None:
    """Open `url` in the default browser, where there is a display to open it on."""
    if _has_display():
        with contextlib.suppress(Exception):  # no browser to open is no reason to stop training
            webbrowser.open(url)


def record(
    model: Any,
    data: tuple[Any, Any],
    path: str | os.PathLike,
    *,
    loss_fn: Callable[[Any, Any], Any] | None = None,
    optimizer: Any = None,
    lr: float | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    generator: Any = None,
    max_frames: int = MAX_FRAMES,
    progress: bool = False,
    compile: bool = False,  # noqa: A002 (fit's name for it, as torch.compile's)
    title: str = "Watch it learn: a recording",
) -> History:
    """Train as `fit` does (no pacing) and write the run to `path` as one offline page with a slider over its frames.

    Long runs keep at most `max_frames` frames, evenly spaced, the first and the last among them.
    Returns the per-epoch History.
    """
    session = _session(model, data, loss_fn, optimizer, lr, epochs, batch_size, generator, compile)
    session.live, session.speed = False, 0.0  # train to the end, unpaced, then return
    session.bar = progress_bar(epochs, enabled=progress)
    session.record_into(Recorder(max_frames))
    history = session.run()
    save_recording(session, path, title)
    return history


def default_loss(Y: Any) -> Callable[[Any, Any], Any]:
    """What the targets suggest: integer labels -> cross-entropy; ±1 -> max-margin; one-hot or 0/1 rows -> MSE."""
    import numpy as np

    kind = Points(np.zeros((len(Y), 1)), np.asarray(Y)).kind
    if kind == "labels":
        return nn.CrossEntropyLoss()
    if kind == "sign":
        return nn.max_margin_loss
    return nn.MSELoss()


def _session(
    model: Any,
    data: tuple[Any, Any],
    loss_fn: Any,
    optimizer: Any,
    lr: float | None,
    epochs: int,
    batch_size: int | None,
    generator: Any,
    compiled: bool,
) -> Session:
    """The checked session `live` and `record` share (not started, not paced, not recording yet)."""
    import numpy as np

    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ArgumentError("live: data must be a pair (X, Y): X (samples, features) and one target per sample")
    X = np.asarray(data[0].data if hasattr(data[0], "data") else data[0], dtype=np.float64)
    Y = np.asarray(data[1].data if hasattr(data[1], "data") else data[1])
    check_pairs(X, Y, "live")
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
        raise ArgumentError(f"live: epochs must be a whole number >= 0, got {epochs!r}")
    if optimizer is None:
        optimizer = optim.SGD(model.parameters(), lr=0.1 if lr is None else lr)
    elif lr is not None:
        for group in optimizer.param_groups:
            group["lr"] = lr
    loss_fn = default_loss(Y) if loss_fn is None else loss_fn
    step = None
    if compiled:
        from ..train.compiled import compiled_batches  # fit(compile=True)'s step, one batch at a time
        from ..train.loop import _param_dtype

        step = compiled_batches(model, loss_fn, optimizer, nn.engine_of(model), _param_dtype(model))
    return Session(model, X, Y, loss_fn, optimizer, epochs, batch_size=batch_size, generator=generator, step=step)


def save_recording(session: Session, path: str | os.PathLike, title: str) -> int:
    """Write the session's recorded frames as one page (atomically); returns its size in bytes.

    Frames are thinned further if they would not fit in `MAX_RECORDING_BYTES` (a large network).
    """
    recorder = session.recorder
    frames = recorder.frames()
    size = len(json.dumps(frames))
    if size > MAX_RECORDING_BYTES:
        frames = recorder.frames(max(2, len(frames) * MAX_RECORDING_BYTES // size))
    pairs = list(enumerate(session.losses))
    losses = [pairs[k] for k in decimate(len(pairs), MAX_LOSS_POINTS)]
    data = {"mode": "record", "meta": session.meta(), "frames": frames, "losses": losses}
    page = live_page(title, data, inline_icon=True).encode("utf-8")
    write_atomic(path, lambda file: file.write(page))
    return len(page)


def _has_display() -> bool:
    """A browser can open here: not Linux, or Linux with a display."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
