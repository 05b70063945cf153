"""Writing files so that a crash never leaves a half-written one: temp file, fsync, rename.

The temporary file sits beside the target, named `.NAME.PID.RANDOM.tmp` (hidden, and carrying the
writer's process id). A writer killed outright (`kill -9`, a power cut) cannot remove its own, so
each write first removes the temporary files of earlier writes to the same name whose process is
gone; a write still in progress in another live process is left alone.

A target without write permission is refused (`ReadOnlyFileError`, "permission denied", as `cp`
says), because a rename would otherwise replace it without ever opening it for writing. This holds
for root too: a file marked read-only by its owner is a request not to overwrite it.

What the path names decides how `write_atomic` writes it:

* a regular file, or a new name: atomically, as above;
* a symbolic link: followed, and its target written atomically (the link stays a link, as `cp` and
  `echo > link` leave it); a dangling link creates its target;
* a FIFO (named pipe) or a character device (a terminal, `/dev/null`): opened and written directly,
  since a rename would replace the pipe with a file that its reader never sees. Nothing opens it
  before that: opening a FIFO blocks until a reader comes.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable
from typing import IO

from .errors import ReadOnlyFileError

PathLike = str | os.PathLike

LEGACY_STALE_AFTER_S = 3600.0  # temp files of the older naming (no process id) count as stale after this


def write_atomic(path: PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Call `write(file)` on a temporary file beside `path`, then rename it over `path` in one step.

    Readers see the old file or the new one, never a mixture; if anything fails (a full disk, an
    unsavable value, Ctrl-C) the old file is untouched and the temporary file is removed. A symbolic
    link is followed (its target is replaced, the link stays); a FIFO or a character device is written
    in place (see the module's docstring).
    """
    path = os.fspath(path)
    target = follow_links(path)
    if is_stream(target):
        _write_stream(path, write)
        return
    path = target
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"cannot write {path}: it is a folder; give a file name")
    refuse_read_only(path)
    remove_stale_temp_files(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{_temp_prefix(path)}{os.getpid()}.", suffix=".tmp")
    except OSError as error:
        # The OS would name the temporary file; name the path the user asked for instead.
        raise OSError(error.errno, f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the rename makes them visible
        os.chmod(tmp, _mode_for(path))  # mkstemp makes it private (0600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def follow_links(path: str) -> str:
    """The path a write to `path` lands on: `path` itself, or where its chain of symbolic links ends."""
    if not os.path.islink(path):
        return path
    target = os.path.realpath(path)
    if os.path.islink(target):  # realpath gives up on a loop and returns a link
        raise OSError(errno.ELOOP, f"cannot write {path}: its symbolic links form a loop")
    return target


def is_stream(path: str) -> bool:
    """True for a FIFO or a character device: written in place, never replaced (os.stat never opens it)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    if stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        kind = "a block device (a whole disk)" if stat.S_ISBLK(mode) else "a socket"
        raise OSError(errno.EINVAL, f"cannot write {path}: it is {kind}; give a file name")
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def _write_stream(path: str, write: Callable[[IO[bytes]], None]) -> None:
    """Write to a FIFO or a device as `cat > path` would: open it (a FIFO waits here for its reader), write."""
    with open(path, "wb") as file:
        write(file)


def refuse_read_only(path: PathLike) -> None:
    """Raise `ReadOnlyFileError` if `path` is an existing file that may not be written."""
    path = os.fspath(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # no file yet (or unreadable folder: the write itself will say so)
    if stat.S_ISREG(mode) and (not os.access(path, os.W_OK) or not mode & 0o222):
        raise ReadOnlyFileError(
            errno.EACCES,
            f"cannot write {path}: permission denied (the file is read-only); "
            "write to another name, or make it writable first (chmod u+w)",
        )


def remove_stale_temp_files(path: PathLike) -> list[str]:
    """Remove the temporary files that killed writes to `path` left behind; returns their paths."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    ours = re.compile(re.escape(_temp_prefix(path)) + r"(?:(\d+)\.)?[A-Za-z0-9_]{8}\.tmp\Z")
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = ours.match(name)
        if not match:
            continue
        full = os.path.join(folder, name)
        try:
            if match.group(1) is not None:
                stale = not _alive(int(match.group(1)))
            else:
                stale = time.time() - os.stat(full).st_mtime > LEGACY_STALE_AFTER_S
            if stale:
                os.unlink(full)
                removed.append(full)
        except OSError:
            continue  # removed meanwhile by another writer, or not ours to remove
    return removed


def _temp_prefix(path: str) -> str:
    return f".{os.path.basename(path)}."


def _alive(pid: int) -> bool:
    """True if process `pid` exists (it may be writing its temporary file right now)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process: assume alive, leave its file alone
    return True


def _mode_for(path: str) -> int:
    """The replaced file's permissions, or a new file's (0666 less the umask), as `cp` would give."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it where Linux allows: setting it, even for an
    instant, would let another thread create a world-writable file meanwhile."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o077)  # elsewhere: the briefest change, and to the safe side
    os.umask(mask)
    return mask


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
