"""The one interface of the logging backends besides metrics.jsonl: TensorBoard, Weights & Biases, MLflow.

:class:`~genlab.train.logger.MetricsLog` writes metrics.jsonl itself and hands every sink the same things: the
finite numbers of each record (:meth:`Sink.scalars`), the sample grids (:meth:`Sink.image`) and, once when training
starts, the run's full config as a nested mapping (:meth:`Sink.config`). A sink imports its package when it is
opened, never when genlab is imported, so a backend that is not installed costs nothing.
"""

from __future__ import annotations

import contextlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from genlab.fileio import atomic_write
from genlab.train.rundir import RunDir


class Sink(ABC):
    """One logging backend, opened on a run folder (and the step it resumes from, None for a new run)."""

    name: ClassVar[str]
    """Its name in train.loggers and in ``pip install 'genlab[NAME]'``."""
    packages: ClassVar[tuple[str, ...]]
    """The modules it needs, which ``pip install 'genlab[NAME]'`` installs (checked before training)."""

    @abstractmethod
    def scalars(self, values: Mapping[str, float], step: int) -> None:
        """Record the finite numbers of one metrics record (its step left out)."""

    @abstractmethod
    def image(self, tag: str, grid: np.ndarray, step: int) -> None:
        """Record an (H, W, C) uint8 picture under ``tag``."""

    @abstractmethod
    def config(self, config: Mapping[str, Any]) -> None:
        """Record the run's config (every section, as config.yaml holds it)."""

    @abstractmethod
    def close(self) -> None:
        """Flush and end the backend's run."""


SinkOpener = Callable[[RunDir, "int | None"], Sink]
"""A sink class, or one with its settings bound (``functools.partial(WandbSink, settings=...)``)."""


@contextlib.contextmanager
def environment_default(name: str, value: str) -> Iterator[None]:
    """Set the environment variable ``name`` to ``value`` while the block runs, unless the user set it: how a sink
    switches off a backend's reports to its makers for a run kept on this machine, without changing the
    environment of the user's process for good."""
    if name in os.environ:
        yield
        return
    os.environ[name] = value
    try:
        yield
    finally:
        os.environ.pop(name, None)


def stored_run_id(path: Path, new: Callable[[], str]) -> str:
    """The backend's run id kept in ``path`` (RUN/wandb-id, RUN/mlflow-id), so a resumed run continues the backend's
    run; a new id from ``new`` is stored first."""
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    run_id = new()
    with atomic_write(path, "w") as handle:
        handle.write(run_id + "\n")
    return run_id
