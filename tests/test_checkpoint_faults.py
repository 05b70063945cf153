"""Checkpoint fault sweeps: every truncation length in a sample, byte flips all over a real file, and a
disk that fails after the k-th write. `tests/test_checkpoint.py` has one case of each kind; these
sweep many positions. The contract for every bad file: `load` either succeeds with exactly the saved
values or raises `CheckpointError`, and in both cases nothing else; a failed load leaves the model's
parameters untouched, and a failed save leaves the previous file byte for byte.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from tinygrad_edu import nn
from tinygrad_edu.train import checkpoint as ckpt
from tinygrad_edu.train.checkpoint import CheckpointError, load, save


def make_model(seed: int):
    return nn.Sequential(nn.Linear(2, 3, generator=seed), nn.Sigmoid(), nn.Linear(3, 2, generator=seed + 1))


def state(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def same(a, b) -> bool:
    return list(a) == list(b) and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(the source model's state, the bytes of its checkpoint)."""
    path = tmp_path_factory.mktemp("ckpt") / "good.npz"
    model = make_model(0)
    save(model, path)
    return state(model), path.read_bytes()


def outcome(tmp_path, payload: bytes, source_state) -> str:
    """Load `payload` into a fresh model: 'loaded' (exact values) or 'rejected' (model untouched)."""
    model = make_model(7)
    before = state(model)
    path = tmp_path / "bad.npz"
    path.write_bytes(payload)
    try:
        load(model, path)
    except CheckpointError:
        assert same(state(model), before), "a rejected checkpoint changed the model"
        return "rejected"
    assert same(state(model), source_state), "a damaged checkpoint loaded different values without an error"
    return "loaded"


def test_truncation_at_a_sample_of_lengths(tmp_path, saved):
    source_state, data = saved
    n = len(data)
    lengths = sorted(set(range(0, n, max(1, n // 150))) | set(range(max(0, n - 80), n)) | {1, 2, 3, 4, 22, 30})
    results = {length: outcome(tmp_path, data[:length], source_state) for length in lengths}
    assert all(r == "rejected" for r in results.values()), [k for k, r in results.items() if r != "rejected"]
    assert len(results) > 200


def flipped(data: bytes, at: int, mask: int) -> bytes:
    b = bytearray(data)
    b[at] ^= mask
    return bytes(b)


@pytest.mark.parametrize("mask", [0xFF, 0x01, 0x80])
def test_byte_flips_all_over_the_file(tmp_path, saved, mask):
    source_state, data = saved
    step = max(1, len(data) // 400)
    positions = sorted(set(range(0, len(data), step)) | set(range(0, 64)) | set(range(len(data) - 64, len(data))))
    counts = {"loaded": 0, "rejected": 0}
    for at in positions:
        counts[outcome(tmp_path, flipped(data, at, mask), source_state)] += 1
    # Some bytes do not matter (zip timestamps, the 'version made by' field); most must be caught.
    assert counts["rejected"] > counts["loaded"]


def test_a_flip_in_every_byte_of_the_zip_directory(tmp_path, saved):
    """The central directory at the end (names, sizes, offsets, the compression method): every byte."""
    source_state, data = saved
    start = data.find(b"PK\x01\x02")  # the first central directory entry
    for at in range(start, len(data)):
        outcome(tmp_path, flipped(data, at, 0xFF), source_state)


def test_a_flipped_version_needed_field_is_a_checkpoint_error(tmp_path, saved):
    source_state, data = saved
    entry = data.find(b"PK\x01\x02")  # the first central directory entry; bytes 6-7: 'version needed'
    assert outcome(tmp_path, flipped(data, entry + 6, 0xFF), source_state) in ("loaded", "rejected")


def test_a_flipped_encryption_flag_is_a_checkpoint_error(tmp_path, saved):
    source_state, data = saved
    entry = data.find(b"PK\x01\x02")  # bytes 8-9 of the entry: the flags, bit 0 = encrypted
    assert outcome(tmp_path, flipped(data, entry + 8, 0x01), source_state) in ("loaded", "rejected")


class FailingFile:
    """A file whose k-th write raises OSError (a disk that fills up part way through a save)."""

    def __init__(self, file, fail_at: int):
        self._file, self._left = file, fail_at

    def write(self, b):
        self._left -= 1
        if self._left < 0:
            raise OSError(28, "No space left on device")
        return self._file.write(b)

    def __getattr__(self, name):
        return getattr(self._file, name)


@pytest.mark.parametrize("fail_at", [0, 1, 2, 3, 5, 8, 13])
def test_a_disk_that_fails_mid_save_keeps_the_previous_file(tmp_path, monkeypatch, fail_at):
    path = tmp_path / "model.npz"
    old = make_model(0)
    save(old, path)
    old_bytes = path.read_bytes()
    real_savez = np.savez

    def savez_on_failing_disk(file, **arrays):
        return real_savez(FailingFile(file, fail_at), **arrays)

    monkeypatch.setattr(ckpt.np, "savez", savez_on_failing_disk)
    try:
        save(make_model(1), path)
    except OSError as error:
        assert "No space" in str(error)
        assert path.read_bytes() == old_bytes
    else:  # the save needed fewer writes than fail_at: then it must have written the new model whole
        monkeypatch.undo()
        fresh = make_model(9)
        load(fresh, path)
        assert same(state(fresh), state(make_model(1)))
    assert os.listdir(tmp_path) == ["model.npz"]  # no temp file left behind


def test_a_failing_fsync_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    save(make_model(0), path)
    old_bytes = path.read_bytes()

    def failing_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(ckpt.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="Input/output"):
        save(make_model(1), path)
    assert path.read_bytes() == old_bytes
    assert os.listdir(tmp_path) == ["model.npz"]
