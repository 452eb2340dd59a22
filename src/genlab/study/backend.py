"""What a study backend does: run a list of trials, each by the same function, and hand back each result as it
comes. The local process pool (:mod:`genlab.study.local`) is one; a cluster engine plugs in the same way."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from genlab.registry import Registry
from genlab.study.execute import Task

RunOne = Callable[[Task], dict[str, Any]]
"""Runs one trial and returns its index row (:func:`genlab.study.execute.run_trial`)."""
OnResult = Callable[[Task, dict[str, Any]], None]
"""Called in the study's process with each finished trial's row, as soon as it comes."""


class Backend(ABC):
    """Runs trials ``slots`` at a time."""

    slots: int = 1

    @abstractmethod
    def run(self, tasks: Sequence[Task], run_one: RunOne, on_result: OnResult) -> None:
        """Run ``run_one`` on every task, calling ``on_result`` with each row as it finishes.

        On KeyboardInterrupt (Ctrl-C in the study's process) the backend starts no further task, asks the running
        ones to stop (the trainer then saves a checkpoint), reports those that still finished, and raises
        KeyboardInterrupt; a task that was stopped reports nothing, so it stays ``running`` and a rerun resumes it.
        """

    @abstractmethod
    def close(self) -> None:
        """Release what :meth:`run` started (worker processes, a cluster connection); the study calls it once, after
        its last phase, so the phases share the workers."""


BACKENDS: Registry[Callable[..., Backend]] = Registry("study backend")
"""Backend factories by name, each called as ``factory(jobs=N or None, resources=Resources, address=ADDR or None,
scheduler=Scheduler or None)``; one that cannot honour ``address`` or ``scheduler`` refuses it with a ConfigError."""
