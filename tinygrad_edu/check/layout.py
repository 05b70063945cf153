"""A STATE written with its weights stored (in, out), as many tutorials store them (s = x @ W + b).

The model keeps `Linear`'s (out, in). When every weight of the file's STATE that does not fit (out, in) is
exactly its transpose, the file works in (in, out): its functions get the state as the file wrote it, and
what they return is read back in (out, in) before it is compared. A square weight cannot say which layout it
is in: it is taken as (out, in), and when the file's numbers fit only the (in, out) reading, as that.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np


def in_out_keys(state: Mapping[str, np.ndarray], sizes: list[int]) -> set[str]:
    """The weights of `state` stored (in, out); empty when any key fits neither layout (the load says why)."""
    keys = set()
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        value = state.get(f"{2 * i}.weight")
        if value is None or np.shape(value) == (n_out, n_in):
            continue
        if np.shape(value) != (n_in, n_out):
            return set()
        keys.add(f"{2 * i}.weight")
    return keys


def square_keys(state: Mapping[str, np.ndarray], sizes: list[int]) -> set[str]:
    """The square weights of `state`: their shape cannot say which layout the file meant."""
    return {
        f"{2 * i}.weight"
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes))
        if n_in == n_out and np.shape(state.get(f"{2 * i}.weight")) == (n_in, n_out)
    }


class InOutCode:
    """The file's `UserCode`, spoken to in the file's (in, out) layout: the same `call` and `locate`."""

    def __init__(self, code: Any, keys: set[str]) -> None:
        self.code, self.keys = code, keys

    def __getattr__(self, name: str) -> Any:  # settings, names, entries, schedule, path: as the file's
        return getattr(self.code, name)

    def _theirs(self, state: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: (np.asarray(v).T.copy() if k in self.keys else v) for k, v in state.items()}

    def call(self, fn: str, state: Mapping[str, np.ndarray], *args: Any, **kwargs: Any) -> Any:
        answer = self.code.call(fn, self._theirs(state), *args, **kwargs)
        if not isinstance(answer, dict):
            return answer
        return {k: (np.asarray(v).T if k in self.keys and np.ndim(v) == 2 else v) for k, v in answer.items()}

    def locate(self, fn: str, state: Mapping[str, np.ndarray], inputs: Any, targets: Any, lr: Any, wanted: Any) -> Any:
        wanted = list(wanted)
        wanted += [np.asarray(w).T for w in wanted if np.ndim(w) == 2]  # a weight's value as the file holds it
        return self.code.locate(fn, self._theirs(state), inputs, targets, lr, wanted)
