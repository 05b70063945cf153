"""The training a live page watches: `fit`'s loop, one step at a time, that a page can pause, step and feed points.

One thread trains, and it alone touches the model and the optimizer: the page's commands wait in
`Session` until the next step begins, and what the page reads is a frame of plain numbers the training
thread copied out (weights, gradients, the decision boundary, the loss), so a slow or closed tab never
holds up a step. Each step is `fit`'s: zero_grad, forward, backward, optimizer.step.

Pacing: `speed` steps per second (0: as fast as training goes). Frames are published at most `FPS`
times a second, so watching an unpaced run costs little; `Recorder` keeps frames for the offline page.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ArgumentError
from ..graph import gc_paused
from ..nn import Sigmoid, engine_of
from ..rng import as_generator
from ..train import History, evaluate, progress_bar
from ..train.loop import _check_data, _param_dtype, _scalar, _tensor_batch, _value_batch
from ..train.metrics import named_metrics
from .live_data import Points
from .live_model import (
    GRID,
    boundary_frame,
    dense_layers,
    extent,
    forward_numpy,
    grid_points,
    network_frame,
)

FPS = 20  # frames a second, at most, for a page to draw
DEFAULT_SPEED = 30.0  # steps a second: 400 steps take 13 s, so a page opened a second late still sees the loss fall
MAX_FRAMES = 500  # in a recording
MAX_RECORDING_BYTES = 4_500_000  # a recording's frames fit in this, so the page stays under 5 MB

Step = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]


class Session:
    """Training on `(X, Y)` that a page can watch and steer; `run()` trains (in a thread, for a live page)."""

    def __init__(
        self,
        model: Any,
        X: Any,
        Y: Any,
        loss_fn: Callable[[Any, Any], Any],
        optimizer: Any,
        epochs: int,
        batch_size: int | None = None,
        generator: Any = None,
        speed: float = DEFAULT_SPEED,
        live: bool = True,
        recorder: Recorder | None = None,
        progress: bool = False,
        step: Step | None = None,
        threshold: float | None = None,
    ) -> None:
        X, Y = _check_data(X, Y, "live")
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.engine = engine_of(model)
        self.layers = dense_layers(model)
        self.points = Points(X, Y, n_outputs=self.layers[-1].shape[0] if self.layers else None)
        self.box = extent(self.points.X) if self.points.plottable else None
        # A model that is not a chain of dense layers is run by its own engine: on Values, a coarser grid
        coarse = self.layers is None and self.engine == "value"
        self.grid = None if self.box is None else grid_points(self.box, GRID // 2 if coarse else GRID)
        self.threshold = _threshold(model, self.points) if threshold is None else threshold
        self.full_batch = (batch_size is None and self.engine == "tensor") or (batch_size or 0) >= len(X)
        self.batch_size = 1 if batch_size is None and self.engine == "value" else batch_size
        self.rng = as_generator(generator)
        self.target_epochs = epochs
        self.round_epochs = max(epochs, 1)  # how many more epochs new data buys, once training has finished
        self.bar_total = epochs
        self.live, self.recorder = live, recorder
        self.bar = progress_bar(epochs, enabled=progress)
        self.metrics = named_metrics(("accuracy",))
        self._step = step or eager_step(model, loss_fn, optimizer)

        self.lock = threading.Condition()  # guards everything below; the training thread waits on it
        self.speed = float(speed)
        self.paused = False
        self.finished = epochs == 0
        self.stopping = False
        self.pending_steps = 0  # "one step" presses not yet done
        self.step = 0
        self.epoch = 0  # epochs completed
        self.order = np.zeros(0, dtype=np.int64)  # this epoch's samples still to come
        self.epoch_total, self.epoch_seen, self.epoch_outputs, self.epoch_targets = 0.0, 0, [], []
        self.recent: deque[tuple[float, int]] = deque()  # (loss * batch, batch) of the last epoch's worth of steps
        self.history = History()
        initial = evaluate(model, loss_fn, self.points.X, self.points.Y, metrics=(), batch_size=self.batch_size)
        self.losses = [_finite(initial["loss"])]  # per step: the mean loss of the last epoch's worth of batches
        self.seconds = 0.0  # spent training (not waiting)
        self.error = ""  # why training stopped, if a step raised
        self.frame: dict[str, Any] = {}
        self.frame_id = 0
        self._last_frame = 0.0
        self._publish()

    # ------------------------------------------------------------------ what the page reads

    @property
    def lr(self) -> float | None:
        groups = getattr(self.optimizer, "param_groups", None)
        return float(groups[0]["lr"]) if groups else None

    def meta(self) -> dict[str, Any]:
        """What stays put for the page: the plot's box, the grid, the classes, the run's settings."""
        return {
            "box": self.box,
            "grid": 0 if self.grid is None else math.isqrt(len(self.grid)),
            "n_classes": self.points.n_classes,
            "features": int(self.points.X.shape[1]),
            "engine": self.engine,
            "epochs": self.target_epochs,
            "drawable": self.layers is not None,
        }

    def status(self) -> dict[str, Any]:
        """The controls' state (call with the lock held)."""
        return {
            "step": self.step,
            "epoch": self.epoch,
            "loss": self.losses[-1],
            "paused": self.paused,
            "finished": self.finished,
            "speed": self.speed,
            "lr": self.lr,
            "n_points": len(self.points),
            "points_version": self.points.version,
            "error": self.error,
        }

    def _publish(self) -> None:
        """Copy the model out as plain numbers: the frame pages draw (training thread, lock held)."""
        frame: dict[str, Any] = {"step": self.step, "epoch": self.epoch, "loss": self.losses[-1]}
        frame["network"] = network_frame(self.layers)
        if self.grid is not None:
            frame["boundary"] = boundary_frame(self._outputs(self.grid), self.threshold, self.points.n_classes)
        self.frame_id += 1
        frame["id"] = self.frame_id
        self.frame = frame
        self._last_frame = time.monotonic()
        if self.recorder is not None:
            self.recorder.add(frame, self.points)

    def _outputs(self, grid: np.ndarray) -> np.ndarray:
        if self.layers is not None:
            return forward_numpy(self.layers, grid)
        from ..train import predict  # a model that is not a chain of dense layers: the engine's own forward pass

        return predict(self.model, grid)

    def record_into(self, recorder: Recorder) -> None:
        """Keep this run's frames in `recorder`, from the frame of now (before the first step) on."""
        with self.lock:
            self.recorder = recorder
            recorder.add(self.frame, self.points)

    # ------------------------------------------------------------------ commands from the page

    def command(self, command: dict[str, Any]) -> str:
        """Apply one checked command (see `live_data.read_command`); returns what the page may say about it."""
        action = command["action"]
        with self.lock:
            if action == "pause":
                self.paused = True
            elif action == "resume":
                self.paused = False
                self._resume_if_finished()
            elif action == "step":  # one step, then pause (also when it was running)
                self.pending_steps += 1
                self.paused = True
                self._resume_if_finished()
            elif action == "lr":  # read by the next optimizer.step, as a schedule's change would be
                if not getattr(self.optimizer, "param_groups", None):
                    raise ArgumentError(f"{type(self.optimizer).__name__} has no param_groups to set the rate in")
                for group in self.optimizer.param_groups:
                    group["lr"] = command["value"]
            elif action == "speed":
                self.speed = command["value"]
            elif action == "add":
                self.points.add(command["x"], command["y"], command["cls"])
                self._resume_if_finished()
            elif action == "delete":
                box = self.box or [0, 1, 0, 1]
                k = self.points.nearest(command["x"], command["y"], radius=0.03 * (box[1] - box[0]))
                self.points.delete(k)
                left = self.order[self.order != k]
                self.order = left - (left > k)
                self._resume_if_finished()
            self.lock.notify_all()
        return {"add": "added a point", "delete": "deleted a point"}.get(action, "")

    def _resume_if_finished(self) -> None:
        """New data after the last epoch: train for as many epochs again (then pause once more)."""
        if self.finished and self.live:
            self.finished = False
            self.target_epochs = self.epoch + self.round_epochs

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            self.lock.notify_all()

    # ------------------------------------------------------------------ the loop

    def run(self) -> History:
        """Train until `epochs` (then, live, wait for more data or `stop()`); returns the per-epoch History."""
        try:
            while True:
                with self.lock:
                    if self.finished and not self.live:
                        break
                    while not self.stopping and (self.paused or self.finished) and not self.pending_steps:
                        self.lock.wait()
                    if self.stopping:
                        break
                    if self.pending_steps:
                        self.pending_steps -= 1
                    x, y = self._next_batch()
                    started = time.monotonic()
                loss, out = self._step(x, y)
                with self.lock:
                    self.seconds += time.monotonic() - started
                    self._after_step(loss, out, y)
                    self._pace(started)
        finally:
            self.bar.close()
            if self.recorder is not None:
                with self.lock:
                    self._publish()
        return self.history

    def _next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        if not len(self.order):
            n = len(self.points)
            self.order = self.rng.permutation(n) if not self.full_batch and self.batch_size < n else np.arange(n)
        size = len(self.order) if self.full_batch else self.batch_size
        index, self.order = self.order[:size], self.order[size:]
        return self.points.X[index], self.points.Y[index]

    def _after_step(self, loss: float, out: np.ndarray, y: np.ndarray) -> None:
        self.step += 1
        n = len(y)
        self.epoch_total += loss * n
        self.epoch_seen += n
        self.epoch_outputs.append(out)
        self.epoch_targets.append(y)
        per_epoch = 1 if self.full_batch else max(1, -(-len(self.points) // self.batch_size))
        self.recent.append((loss * n, n))
        while len(self.recent) > per_epoch:
            self.recent.popleft()
        self.losses.append(_finite(sum(t for t, _ in self.recent) / sum(k for _, k in self.recent)))
        if not len(self.order):
            self._end_epoch()
        due = self.live and time.monotonic() - self._last_frame >= 1.0 / FPS
        if self.recorder is not None and self.recorder.wants(self.step):
            due = True
        if due or self.paused or self.finished or self.pending_steps:
            self._publish()

    def _end_epoch(self) -> None:
        self.epoch += 1
        logs = {"loss": self.epoch_total / max(self.epoch_seen, 1)}
        outputs, targets = np.concatenate(self.epoch_outputs), np.concatenate(self.epoch_targets)
        logs.update({name: float(fn(outputs, targets)) for name, fn in self.metrics})
        self.history._append(self.epoch, logs)
        self.epoch_total, self.epoch_seen, self.epoch_outputs, self.epoch_targets = 0.0, 0, [], []
        if self.epoch <= self.bar_total:
            self.bar.update(self.epoch, logs)
        if self.epoch >= self.target_epochs:
            self.finished = True
            if self.epoch == self.bar_total:
                self.bar.close()

    def _pace(self, started: float) -> None:
        """Wait out the rest of this step's 1/speed seconds (a command or `stop()` cuts the wait short)."""
        if self.speed <= 0:
            return
        deadline = started + 1.0 / self.speed
        while not self.stopping and (wait := deadline - time.monotonic()) > 0:
            self.lock.wait(wait)
            if self.speed <= 0 or self.pending_steps:
                return
            deadline = started + 1.0 / self.speed


def eager_step(model: Any, loss_fn: Callable[[Any, Any], Any], optimizer: Any) -> Step:
    """`fit`'s step on one batch: zero_grad, forward, backward, update; returns (loss, outputs as an array)."""
    batch = _value_batch if engine_of(model) == "value" else _tensor_batch
    dtype = _param_dtype(model)

    def step(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        with gc_paused():
            optimizer.zero_grad()
            loss, out = batch(model, loss_fn, x, y, dtype)
            loss.backward()
            optimizer.step()
        return _scalar(loss), out

    return step


def _finite(x: float) -> float | None:
    """A loss for JSON: NaN and infinities (a learning rate set too high) become None, a gap in the curve."""
    return float(x) if math.isfinite(x) else None


def _threshold(model: Any, points: Points) -> float:
    """Where one output splits the classes: 0.5 after a final sigmoid (or for 0/1 targets), else its sign."""
    last = None
    for module in model.modules():
        last = module
    return 0.5 if isinstance(last, Sigmoid) or points.kind == "binary" else 0.0


# ---------------------------------------------------------------------- the frames of a recording


class Recorder:
    """Frames of a whole run for the offline page: every `stride`-th step, the stride doubling when the
    frames pass twice `limit`, so memory stays bounded however long the run; `frames()` thins them to `limit`."""

    def __init__(self, limit: int = MAX_FRAMES) -> None:
        self.limit = limit
        self.stride = 1
        self.kept: list[dict[str, Any]] = []
        self._points_version = -1

    def wants(self, step: int) -> bool:
        return step % self.stride == 0

    def add(self, frame: dict[str, Any], points: Points) -> None:
        if self.kept and self.kept[-1]["step"] == frame["step"]:
            self.kept.pop()  # the same step again (the last frame of a run): keep the newer copy
        frame = dict(frame)
        if points.version != self._points_version or not self.kept:
            frame["points"] = points.as_list()  # only when they changed; the page carries them forward
            self._points_version = points.version
        self.kept.append(frame)
        if len(self.kept) > 2 * self.limit:
            self.stride *= 2
            first, last = self.kept[0], self.kept[-1]
            middle = [f for f in self.kept[1:-1] if f["step"] % self.stride == 0]
            self.kept = _carry_points([first, *middle, last], self.kept)

    def frames(self, limit: int | None = None) -> list[dict[str, Any]]:
        """At most `limit` frames, evenly spaced, the first and the last always among them."""
        picked = [self.kept[k] for k in decimate(len(self.kept), limit or self.limit)]
        return _carry_points(picked, self.kept)


def decimate(n: int, limit: int) -> list[int]:
    """Indices of at most `limit` of `n` items, evenly spaced, first and last kept (all of them if n <= limit)."""
    if n <= limit:
        return list(range(n))
    if limit < 2:
        return [n - 1] if limit == 1 else []
    return sorted({round(k * (n - 1) / (limit - 1)) for k in range(limit)})


def _carry_points(picked: list[dict[str, Any]], every: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Frames thinned out must not lose a change of the points: each picked frame gets the points as they were."""
    out, current, shown = [], None, None
    picked_ids = {id(f) for f in picked}
    for frame in every:
        if "points" in frame:
            current = frame["points"]
        if id(frame) in picked_ids:
            frame = dict(frame)
            frame.pop("points", None)
            if current is not shown:
                frame["points"] = shown = current
            out.append(frame)
    return out
