"""The one protocol of the trainer's periodic actions: sample grids, evaluation, checkpoints, the training doctor,
reconstruction grids, mode statistics, the run report, and whatever a user adds.

A hook is an object with an ``every`` and up to four methods; :class:`Hook` gives every method a default that does
nothing, so a hook overrides only what it needs. The trainer (``genlab.train.Trainer``) calls, for each hook in the
order of its list:

* :meth:`Hook.start` once, before the first step (``moment.step`` is above 0 when a run resumes);
* :meth:`Hook.measure` at every logging point: values to add to the interval record about to be written;
* :meth:`Hook.__call__` when the hook is due: every ``every`` steps, after the last step, and, with ``at_stages``,
  when the recipe finishes a stage (a progressive GAN's resolution; ``moment.stage`` names it);
* :meth:`Hook.finish` once when training stops, whether it completed, was interrupted, diverged or was stopped.

Before due hooks run, the trainer checks that the values logged since the last logging point are finite, so no
hook saves, draws or scores a diverged model. A hook stops a run by raising :class:`genlab.errors.TrainingStopped`;
the trainer then saves a checkpoint before the error reaches the caller. Hooks run on the process that writes the
run folder (rank 0 of a multi-process run); their time is left out of the logged images per second.

This module sits below every other part of genlab (it imports none of them), so recipes can contribute hooks of
their own (``Recipe.hooks``) although the trainer that runs them sits above the recipes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np


class RunLog(Protocol):
    """Where hooks write: metrics.jsonl records and pictures, both also sent to the train.loggers backends."""

    def write(self, record: Mapping[str, object]) -> None:
        """Append one record; it must hold ``step`` (records need not share keys)."""

    def image(self, tag: str, picture: np.ndarray, step: int) -> None:
        """Add an (H, W, C) uint8 picture under ``tag``."""


@dataclass(frozen=True)
class Moment:
    """Where training stands when the trainer calls a hook."""

    step: int
    """Training steps done."""
    total: int
    """Steps the run trains for."""
    run_dir: Path
    log: RunLog
    save: Callable[[], Path]
    """Write a checkpoint of this step now (atomically; once per step however often it is called) and return it."""
    stage: str | None = None
    """The stage the recipe finished at this step, if any."""
    record: Mapping[str, float] | None = None
    """The interval record logged at this step, if one was."""

    @property
    def final(self) -> bool:
        """Whether this is the run's last step."""
        return self.step >= self.total

    @property
    def samples_dir(self) -> Path:
        """Where pictures go: RUN_DIR/samples."""
        return self.run_dir / "samples"


class Hook:
    """Base of the trainer's periodic actions; see the module docstring for when each method runs."""

    every: int = 0
    """Steps between calls (0: only after the last step, and at stage ends with ``at_stages``)."""
    at_stages: bool = False
    """Also run when the recipe finishes a stage."""

    def due(self, step: int, final: bool, stage: str | None) -> bool:
        return final or (self.every > 0 and step % self.every == 0) or (self.at_stages and stage is not None)

    def start(self, moment: Moment) -> None:
        """Before the first step (of this session: ``moment.step`` > 0 when resuming)."""

    def measure(self, record: Mapping[str, float]) -> dict[str, float]:
        """Values to add to the interval record about to be written (``record``: what it holds so far)."""
        return {}

    def __call__(self, moment: Moment) -> None:
        """The periodic action."""

    def finish(self, moment: Moment) -> None:
        """When training stops for any reason (``moment.final`` tells whether it completed)."""
