"""The progress bar `fit` draws: one line per run, redrawn each epoch, like Keras's.

Epoch 12/200 [=====>........................] - loss: 0.0737 - accuracy: 1.0000
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO


def progress_bar(total: int, enabled: bool = True, stream: TextIO | None = None, use_tqdm: bool | None = None) -> Any:
    """A one-line bar over `total` epochs showing loss and metrics, like Keras's `fit`.

    tqdm draws it when installed (`pip install 'tinygrad_edu[progress]'`), a plain `\\r` line
    otherwise. It stays silent when disabled or when `stream` (stdout) is not a terminal, so logs
    and pipes get no control characters.
    """
    stream = sys.stdout if stream is None else stream
    if not enabled or not _isatty(stream):
        return _SilentBar()
    if use_tqdm is None:
        try:
            import tqdm  # noqa: F401
        except ImportError:
            use_tqdm = False
        else:
            use_tqdm = True
    return _TqdmBar(total, stream) if use_tqdm else _PlainBar(total, stream)


class _SilentBar:
    def update(self, epoch: int, logs: dict[str, float]) -> None:
        pass

    def close(self) -> None:
        pass


class _PlainBar:
    """`Epoch 12/200 [====>.........] - loss: 0.0737 - accuracy: 1.0000`, redrawn in place."""

    width = 30

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = total, stream
        self.last_draw = -math.inf
        self.drawn = False

    def update(self, epoch: int, logs: dict[str, float]) -> None:
        now = time.monotonic()
        if epoch < self.total and now - self.last_draw < 0.1:
            return  # at most 10 redraws a second: fast epochs must not be slowed down by the terminal
        self.last_draw = now
        done = self.width * epoch // max(self.total, 1)
        bar = "=" * done + (">" if done < self.width else "") + "." * max(self.width - done - 1, 0)
        digits = len(str(self.total))
        self.stream.write(f"\rEpoch {epoch:>{digits}}/{self.total} [{bar}]{format_logs(logs)}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


class _TqdmBar:
    def __init__(self, total: int, stream: TextIO) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, file=stream, unit="epoch", desc="Epoch", leave=True, dynamic_ncols=True)

    def update(self, epoch: int, logs: dict[str, float]) -> None:
        self.bar.set_postfix_str(format_logs(logs).lstrip(" -"), refresh=False)
        self.bar.update(epoch - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def format_logs(logs: dict[str, float]) -> str:
    """` - loss: 0.0737 - accuracy: 1.0000`, Keras's way of printing an epoch's numbers."""
    return "".join(f" - {name}: {value:.4f}" for name, value in logs.items())


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
