"""Atomic file writes: a crash or a full disk mid-write never leaves a half-written file under the real name; the
check, before a long computation, that its result can be written at all; and safe reads of PyTorch files: opening
one never runs code, and a damaged one is explained in one line.

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
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import torch

from genlab.errors import GenlabError

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


def ensure_writable(path: str | Path) -> Path:
    """Check that a file can be written at ``path`` (as :func:`atomic_write` will: a new file in its folder, then a
    rename), making the folder; a command that computes for minutes calls it first, so a read-only or mistyped
    output location is refused before the work rather than losing it. Returns ``path``."""
    path = Path(path)
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "it is a folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = _create_temporary(path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        blocker = next((p for p in path.parents if p.exists()), None)
        reason = f"{blocker} is a file, not a folder" if blocker and not blocker.is_dir() else exc.strerror or exc
        raise GenlabError(f"cannot write {path} ({reason}); choose another output path (--out)") from None
    return path


def load_tensors(
    path: Path, what: str, fix: str, error: Callable[[str], Exception], map_location: torch.device | str = "cpu"
) -> Any:
    """The contents of the PyTorch file ``path``, read with ``weights_only=True``: only tensors and plain containers
    are unpickled, so a file from an untrusted source cannot run code. A file that does not load raises
    ``error("WHAT PATH cannot be loaded: WHY. FIX")``, WHY saying whether it is empty, truncated, not a PyTorch file
    or holds other Python objects (torch's own message suggests loading it unsafely)."""
    try:
        with warnings.catch_warnings():  # a plain pickle draws a protocol warning before it is refused
            warnings.filterwarnings("ignore", "Detected pickle protocol", UserWarning)
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises OSError, EOFError, RuntimeError, UnpicklingError, ... by the damage
        raise error(f"{what} {path} cannot be loaded: {_why_unloadable(path, exc)}. {fix}") from None


def _why_unloadable(path: Path, exc: Exception) -> str:
    if path.stat().st_size == 0:
        return "the file is empty"
    if "GLOBAL" in str(exc):  # weights_only refused a class or function the pickle names
        return "it holds Python objects besides tensors, which genlab never unpickles (they could run code)"
    with path.open("rb") as handle:
        zipped = handle.read(4) == b"PK\x03\x04"  # torch.save writes a zip archive
    return "it is truncated or damaged" if zipped else "it is not a PyTorch file (damaged, or a file of another kind)"
