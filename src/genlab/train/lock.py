"""One training per run folder: an exclusive lock on RUN/.lock while a process trains into it.

Two processes training one folder would write every metric twice and mix checkpoints of different models. The lock
is the operating system's (``flock``), so it goes away with its process however that ends, also by SIGKILL or a
power cut; the file holds the holder's pid, host and start time, so a refusal can say who trains the run, and a
taken-over lock from a process that died can be reported.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import IO, Any

from genlab.errors import GenlabError
from genlab.fileio import pid_running

LOCK_NAME = ".lock"
_UNSUPPORTED = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)


class RunLock:
    """Held from :meth:`acquire` until :meth:`release` (or the end of the process)."""

    def __init__(self, handle: IO[str]):
        self._handle = handle

    @classmethod
    def acquire(cls, folder: Path) -> RunLock:
        """Lock ``folder`` for this process, or raise a GenlabError naming the process that trains it."""
        handle = (folder / LOCK_NAME).open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(handle)
            handle.close()
            raise GenlabError(
                f"{folder} is being trained by another process ({_describe(holder)}); wait for it to finish or "
                f"stop it (Ctrl-C saves a checkpoint), then continue with `genlab train --resume {folder}`, or "
                "choose another --out for a new run"
            ) from None
        except OSError as error:
            if error.errno not in _UNSUPPORTED:
                raise
            print(
                f"note: {folder} cannot be locked on this file system; train it from one process only", file=sys.stderr
            )
        previous = _holder(handle)
        if previous:  # its holder ended without releasing it: killed, or the machine went down
            print(f"note: taking over the lock on {folder} left by {_describe(previous)}", file=sys.stderr)
        _write(handle, {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S")})
        return cls(handle)

    def release(self) -> None:
        """Unlock, leaving the file empty: nobody holds the lock."""
        if not self._handle.closed:
            _write(self._handle, None)
            self._handle.close()


def _holder(handle: IO[str]) -> dict[str, Any]:
    """Who wrote the lock file last (empty when it was released, or while its holder is still writing it)."""
    handle.seek(0)
    try:
        holder = json.loads(handle.read() or "{}")
    except json.JSONDecodeError:
        return {}
    return holder if isinstance(holder, dict) and isinstance(holder.get("pid"), int) else {}


def _describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "a process that has not said which yet"
    here = holder.get("host") == socket.gethostname()
    running = "" if not here or pid_running(holder["pid"]) else ", no longer running"
    return f"pid {holder.get('pid')} on {holder.get('host')}, since {holder.get('since')}{running}"


def _write(handle: IO[str], holder: dict[str, Any] | None) -> None:
    handle.seek(0)
    handle.truncate()
    if holder is not None:
        handle.write(json.dumps(holder))
    handle.flush()
