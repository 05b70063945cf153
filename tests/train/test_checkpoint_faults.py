"""Checkpoint fault sweeps: every truncation length in a sample, byte flips all over a real file, and a
disk that fails after the k-th write. `test_checkpoint.py` beside this file has one case of each kind; these
sweep many positions. The contract for every bad file: `load` either succeeds with exactly the saved
values or raises `CheckpointError`, and in both cases nothing else; a failed load leaves the model's
parameters untouched, and a failed save leaves the previous file byte for byte.

Where the outcome is fixed (a flip in a stored array's bytes, in the fields that locate or check the
data) the tests say which one, and with what message; only the zip fields Python's `zipfile` reads
for some values and not for others are held to the either-or contract alone.
"""

from __future__ import annotations

import io
import os
import zipfile

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


def rejected(tmp_path, payload: bytes) -> CheckpointError:
    """Load `payload` into a fresh model, expecting a CheckpointError; the model must keep its values."""
    model = make_model(7)
    before = state(model)
    path = tmp_path / "bad.npz"
    path.write_bytes(payload)
    with pytest.raises(CheckpointError) as caught:
        load(model, path)
    assert same(state(model), before), "a rejected checkpoint changed the model"
    assert str(path) in str(caught.value), "the error must name the file"
    return caught.value


def loads_exactly(tmp_path, payload: bytes, source_state) -> None:
    """Load `payload` into a fresh model, expecting no error and exactly the saved values."""
    model = make_model(7)
    path = tmp_path / "bad.npz"
    path.write_bytes(payload)
    load(model, path)
    assert same(state(model), source_state), "a damaged checkpoint loaded different values"


def outcome(tmp_path, payload: bytes, source_state) -> str:
    """For bytes that may go either way: 'loaded' (exact values) or 'rejected' (model untouched)."""
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


def flipped(data: bytes, at: int, mask: int) -> bytes:
    b = bytearray(data)
    b[at] ^= mask
    return bytes(b)


def member_bytes(data: bytes) -> dict[int, str]:
    """Position -> member name, for every stored byte of every array (its .npy header and values)."""
    where = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            assert info.compress_type == zipfile.ZIP_STORED  # np.savez stores, so the bytes are the .npy
            at = info.header_offset
            name_len = int.from_bytes(data[at + 26 : at + 28], "little")
            extra_len = int.from_bytes(data[at + 28 : at + 30], "little")
            start = at + 30 + name_len + extra_len
            where.update({i: info.filename for i in range(start, start + info.compress_size)})
    return where


# A central directory entry (APPNOTE 4.3.12), then its name, extra field and comment.
DIRECTORY_FIELDS = [
    ("signature", 4),
    ("version made by", 2),
    ("version needed", 2),
    ("flags", 2),
    ("compression method", 2),
    ("time", 2),
    ("date", 2),
    ("crc-32", 4),
    ("compressed size", 4),
    ("size", 4),
    ("name length", 2),
    ("extra length", 2),
    ("comment length", 2),
    ("disk number", 2),
    ("internal attributes", 2),
    ("external attributes", 4),
    ("local header offset", 4),
]
END_FIELDS = [("end signature", 4), ("end disks", 4), ("end entry counts", 4), ("directory size", 4)]
END_FIELDS += [("directory offset", 4), ("archive comment length", 2)]

# Flipping any bit of these makes zipfile refuse the file: they locate or check the stored bytes.
LOCATE_OR_CHECK = {
    "signature",
    "compression method",
    "crc-32",
    "local header offset",
    "name",
    "end signature",
    "directory size",
    "directory offset",
}
# zipfile never reads these to extract: a flip there must load the saved values exactly.
METADATA = {"version made by", "time", "date", "internal attributes", "external attributes"}


def directory_fields(data: bytes) -> dict[int, str]:
    """Position -> field name, for every byte from the first central directory entry to the end."""
    fields = {}
    at = data.find(b"PK\x01\x02")
    while data[at : at + 4] == b"PK\x01\x02":
        values = {}
        for name, width in DIRECTORY_FIELDS:
            fields.update({i: name for i in range(at, at + width)})
            values[name] = int.from_bytes(data[at : at + width], "little")
            at += width
        for name, length in [("name", "name length"), ("extra", "extra length"), ("comment", "comment length")]:
            fields.update({i: name for i in range(at, at + values[length])})
            at += values[length]
    for name, width in END_FIELDS:
        fields.update({i: name for i in range(at, at + width)})
        at += width
    assert at == len(data), "the end record must close the file (no archive comment)"
    return fields


def test_truncation_at_a_sample_of_lengths(tmp_path, saved):
    _, data = saved
    n = len(data)
    lengths = sorted(set(range(0, n, max(1, n // 150))) | set(range(max(0, n - 80), n)) | {1, 2, 3, 4, 22, 30})
    assert len(lengths) > 200
    for length in lengths:
        error = rejected(tmp_path, data[:length])
        assert "is not a readable checkpoint (truncated, corrupted" in str(error), length


@pytest.mark.parametrize("mask", [0xFF, 0x01, 0x80])
def test_a_flip_in_any_stored_array_byte_is_a_crc_error(tmp_path, saved, mask):
    """Every byte of every array, its .npy header too: the zip CRC-32 catches the flip, naming the array."""
    _, data = saved
    members = member_bytes(data)
    assert len(set(members.values())) == 5  # four parameters and the format number
    for at, member in members.items():
        error = rejected(tmp_path, flipped(data, at, mask))
        assert f"Bad CRC-32 for file '{member}'" in str(error), at


@pytest.mark.parametrize("mask", [0xFF, 0x01, 0x80])
def test_byte_flips_all_over_the_file(tmp_path, saved, mask):
    source_state, data = saved
    members = member_bytes(data)
    step = max(1, len(data) // 400)
    positions = sorted(set(range(0, len(data), step)) | set(range(0, 64)) | set(range(len(data) - 64, len(data))))
    counts = {"loaded": 0, "rejected": 0}
    for at in positions:
        result = outcome(tmp_path, flipped(data, at, mask), source_state)
        assert at not in members or result == "rejected", f"a flip in an array's bytes at {at} loaded"
        counts[result] += 1
    # Some bytes do not matter (zip timestamps, the 'version made by' field); most must be caught.
    assert counts["rejected"] > counts["loaded"] > 0


@pytest.mark.parametrize("mask", [0xFF, 0x01, 0x80])
def test_a_flip_in_every_byte_of_the_zip_directory(tmp_path, saved, mask):
    """The central directory at the end (names, sizes, offsets, the compression method): every byte."""
    source_state, data = saved
    fields = directory_fields(data)
    assert set(fields.values()) >= LOCATE_OR_CHECK | METADATA
    for at, field in fields.items():
        payload = flipped(data, at, mask)
        if field in LOCATE_OR_CHECK:
            rejected(tmp_path, payload)
        elif field in METADATA:
            loads_exactly(tmp_path, payload, source_state)
        else:  # sizes, lengths, flags, counts: zipfile reads some values of these and not others
            outcome(tmp_path, payload, source_state)


def test_a_flipped_version_needed_field_is_a_checkpoint_error(tmp_path, saved):
    _, data = saved
    entry = data.find(b"PK\x01\x02")  # the first central directory entry; bytes 6-7: 'version needed'
    error = rejected(tmp_path, flipped(data, entry + 6, 0xFF))
    assert "not a readable checkpoint" in str(error) and "zip file version" in str(error)


def test_a_flipped_encryption_flag_is_a_checkpoint_error(tmp_path, saved):
    _, data = saved
    entry = data.find(b"PK\x01\x02")  # bytes 8-9 of the entry: the flags, bit 0 = encrypted
    error = rejected(tmp_path, flipped(data, entry + 8, 0x01))
    assert "File '0.weight.npy' is encrypted" in str(error)


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


def writes_of_a_save(tmp_path, monkeypatch) -> int:
    """How many writes `save` makes (FailingFile with no limit counts them)."""
    real_savez = np.savez
    files = []

    def counting_savez(file, **arrays):
        files.append(FailingFile(file, 10**9))
        return real_savez(files[-1], **arrays)

    with monkeypatch.context() as patch:
        patch.setattr(ckpt.np, "savez", counting_savez)
        save(make_model(1), tmp_path / "count.npz")
    os.remove(tmp_path / "count.npz")
    return 10**9 - files[0]._left


@pytest.mark.parametrize("fail_at", [0, 1, 2, 3, 5, 8, 13, "last"])
def test_a_disk_that_fails_mid_save_keeps_the_previous_file(tmp_path, monkeypatch, fail_at):
    writes = writes_of_a_save(tmp_path, monkeypatch)
    fail_at = writes - 1 if fail_at == "last" else fail_at
    assert fail_at < writes  # the save really is interrupted
    path = tmp_path / "model.npz"
    save(make_model(0), path)
    old_bytes = path.read_bytes()
    real_savez = np.savez

    def savez_on_failing_disk(file, **arrays):
        return real_savez(FailingFile(file, fail_at), **arrays)

    monkeypatch.setattr(ckpt.np, "savez", savez_on_failing_disk)
    with pytest.raises(OSError, match="No space left on device"):
        save(make_model(1), path)
    assert path.read_bytes() == old_bytes
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
