"""Atomic file writes: a crash or a full disk mid-write never leaves a half-written file under the real name.

A write goes to ``.NAME.PID.RANDOM.tmp`` beside its file and is renamed onto it when complete. A writer killed
before the rename leaves its temporary file behind; :func:`remove_stale_temporaries` deletes those of processes no
longer running.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO

_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp")

WRITE_FAULTS = {
    errno.ENOSPC: ("the disk is full", "free some disk space"),
    errno.EDQUOT: ("the disk quota is exceeded", "free some space within your quota"),
    errno.EROFS: ("the file system is read-only", "make it writable"),
    errno.EACCES: ("permission denied", "fix the permissions of the folder"),
}
"""Why a write failed for a reason of the machine, not of genlab (errno: what happened, what to do)."""


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it is flushed to disk and renamed onto ``path``.

    The file gets the permissions a plain ``open`` would give it (0666 less the umask). An OSError names ``path``
    (not the temporary file, which the user never sees)."""
    path = Path(path)
    with naming(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_temporary(path)
        try:
            with os.fdopen(fd, mode) as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def _create_temporary(path: Path) -> tuple[int, Path]:
    """A new, empty temporary file for ``path`` named after this process, opened for writing."""
    while True:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


@contextlib.contextmanager
def naming(path: Path) -> Iterator[None]:
    """Let an OSError raised inside name ``path`` if it names no file, or a temporary file of ``path``'s.

    Writing to an open file reports a full disk without a file name; the error should say which file it was."""
    try:
        yield
    except OSError as error:
        if error.filename is None or _TEMPORARY.fullmatch(Path(str(error.filename)).name):
            error.filename, error.filename2 = str(path), None
        raise


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files in ``folder`` that writers killed mid-write left (those of processes no longer
    running on this machine); returns the files they were meant to become."""
    removed = []
    for tmp in folder.glob(".*.tmp") if folder.is_dir() else ():
        match = _TEMPORARY.fullmatch(tmp.name)
        if match and not pid_running(int(match["pid"])):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
                removed.append(tmp.with_name(match["name"]))
    return removed


def pid_running(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_json(path: str | Path, data: object) -> None:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_write(path, "w") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
