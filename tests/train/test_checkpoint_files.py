"""Checkpoint files: a damaged format entry, read-only targets, and the temporary files of killed saves."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tinygrad_edu import nn
from tinygrad_edu.errors import ReadOnlyFileError, TinygradEduError
from tinygrad_edu.files import remove_stale_temp_files, write_atomic
from tinygrad_edu.train import checkpoint


def model(seed=0):
    return nn.Sequential(nn.Linear(2, 3, generator=seed), nn.Sigmoid(), nn.Linear(3, 1, generator=seed + 1))


def temp_files(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


@pytest.mark.parametrize(
    "version", [np.array("one"), np.array(b"\x01"), np.array(1.5), np.array([1]), np.array(True)], ids=repr
)
def test_a_non_numeric_format_entry_is_a_checkpoint_error(tmp_path, version):
    path = tmp_path / "m.npz"
    np.savez(path, **model().state_dict(), **{checkpoint.FORMAT_KEY: version})
    target = model(seed=5)
    before = target.state_dict()
    with pytest.raises(checkpoint.CheckpointError, match="not a format number"):
        checkpoint.load(target, path)
    for name, array in target.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


def test_a_newer_format_still_says_upgrade(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, **model().state_dict(), **{checkpoint.FORMAT_KEY: np.array(checkpoint.FORMAT_VERSION + 1)})
    with pytest.raises(checkpoint.CheckpointError, match="upgrade"):
        checkpoint.load(model(), path)


def test_saving_onto_a_read_only_file_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    checkpoint.save(model(seed=0), path)
    path.chmod(0o444)
    old = path.read_bytes()
    with pytest.raises(ReadOnlyFileError, match="permission denied") as info:
        checkpoint.save(model(seed=3), path)
    assert isinstance(info.value, PermissionError) and isinstance(info.value, TinygradEduError)
    assert path.read_bytes() == old and temp_files(tmp_path) == []
    path.chmod(0o644)  # once writable again, the save goes through
    checkpoint.save(model(seed=3), path)
    loaded = checkpoint.load(model(seed=9), path)
    np.testing.assert_array_equal(loaded.state_dict()["0.weight"], model(seed=3).state_dict()["0.weight"])


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_planted_temp_files_of_dead_saves_are_removed_and_others_kept(tmp_path):
    path = tmp_path / "m.npz"
    dead = _dead_pid()
    stale = [f".m.npz.{dead}.abcd_123.tmp", f".m.npz.{dead}.ZZZZZZZZ.tmp"]
    live = f".m.npz.{os.getppid()}.abcdefgh.tmp"  # a live process: maybe saving right now
    legacy_old, legacy_new = ".m.npz.q1w2e3r4.tmp", ".m.npz.a1s2d3f4.tmp"  # the older naming, no process id
    unrelated = [f".other.npz.{dead}.abcdefgh.tmp", "m.npz.tmp", f".m.npz.{dead}.short.tmp", "notes.txt"]
    for name in [*stale, live, legacy_old, legacy_new, *unrelated]:
        (tmp_path / name).write_bytes(b"x" * 100)
    an_hour_ago = time.time() - 2 * 3600
    os.utime(tmp_path / legacy_old, (an_hour_ago, an_hour_ago))
    checkpoint.save(model(), path)
    left = sorted(os.listdir(tmp_path))
    assert left == sorted(["m.npz", live, legacy_new, *unrelated])
    assert remove_stale_temp_files(path) == []  # nothing more to do


CHILD = """
import os, sys, time
from tinygrad_edu.files import write_atomic
def write(file):
    file.write(b"half a checkpoint")
    file.flush()
    print("writing", flush=True)
    time.sleep(60)
write_atomic(sys.argv[1], write)
"""


def test_a_save_killed_mid_write_is_cleaned_by_the_next_save(tmp_path):
    path = tmp_path / "m.npz"
    checkpoint.save(model(seed=0), path)
    for _ in range(3):  # each kill leaves its temp file; each next save removes the one before
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "writing"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        left = temp_files(tmp_path)
        assert len(left) == 1 and left[0].startswith(f".m.npz.{child.pid}.")  # not one per kill
    checkpoint.load(model(seed=4), path)  # the previous file survived every kill
    checkpoint.save(model(seed=1), path)  # ... and the next save removes them
    assert temp_files(tmp_path) == []
    np.testing.assert_array_equal(
        checkpoint.load(model(seed=4), path).state_dict()["2.bias"], model(seed=1).state_dict()["2.bias"]
    )


def test_a_write_in_progress_in_this_process_is_not_removed(tmp_path):
    path = tmp_path / "f.bin"
    seen = []

    def write(file):
        remove_stale_temp_files(path)  # another thread saving the same name at this moment
        seen.extend(temp_files(tmp_path))
        file.write(b"ok")

    write_atomic(path, write)
    assert len(seen) == 1 and path.read_bytes() == b"ok" and temp_files(tmp_path) == []


def test_saving_onto_a_folder_names_the_folder_not_a_temp_file(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder") as info:
        checkpoint.save(model(), tmp_path)
    assert ".tmp" not in str(info.value) and temp_files(tmp_path) == []


def test_a_replaced_file_keeps_its_permissions_and_a_new_one_follows_the_umask(tmp_path):
    path = tmp_path / "m.npz"
    checkpoint.save(model(), path)
    mask = os.umask(0o022)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    path.chmod(0o640)
    checkpoint.save(model(seed=2), path)
    assert path.stat().st_mode & 0o777 == 0o640  # not reset to 0644 by the rename
