"""Weights & Biases: offline by default, so training needs no account and no network.

Offline, W&B writes everything under RUN/wandb/ (``wandb sync RUN/wandb/offline-run-*`` uploads it later);
``train.wandb.mode: online`` streams to the W&B server instead (after ``wandb login``). The run id is kept in
RUN/wandb-id: a resumed run logs under the same id (online, into the same W&B run; offline, into a new
RUN/wandb/offline-run-* folder of that id), from the step after its checkpoint on.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from genlab.schema import Section
from genlab.train.rundir import RunDir
from genlab.train.sinks.base import Sink, environment_default, stored_run_id

ID_FILE = "wandb-id"


class WandbConfig(Section):
    """Where the W&B copy of a run goes (with wandb in train.loggers)."""

    mode: Literal["offline", "online"] = "offline"
    """offline: only RUN/wandb/ is written and nothing leaves the machine; online: streams to W&B (wandb login)."""
    project: Annotated[str, Field(min_length=1)] = "genlab"
    """The W&B project the run is logged to."""
    entity: Annotated[str, Field(min_length=1)] | None = None
    """The W&B user or team owning the project (default: the logged-in user's default entity)."""


class WandbSink(Sink):
    """A W&B run named after the run folder; scalars and pictures at their training step, the config as the run's
    config."""

    name = "wandb"
    packages = ("wandb",)

    def __init__(self, run: RunDir, resumed_step: int | None, settings: WandbConfig) -> None:
        import wandb

        offline = settings.mode == "offline"
        # W&B's background process, started by the first wandb.init, would send crash reports over the network.
        with environment_default("WANDB_ERROR_REPORTING", "false") if offline else contextlib.nullcontext():
            self._run = wandb.init(
                dir=run.path,
                id=stored_run_id(run.path / ID_FILE, lambda: secrets.token_hex(8)),
                resume="allow",
                mode=settings.mode,
                project=settings.project,
                entity=settings.entity,
                name=run.path.name,
                settings=wandb.Settings(
                    silent=True,
                    console="off",  # genlab's own output stays as it is
                    disable_git=True,
                    save_code=False,
                    # Offline, the system monitor and machine info are off: both look up cloud metadata servers.
                    x_disable_stats=offline,
                    x_disable_machine_info=offline,
                ),
            )

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        self._run.log(dict(values), step=step)

    def image(self, tag: str, grid: np.ndarray, step: int) -> None:
        import wandb

        self._run.log({tag: wandb.Image(grid)}, step=step)

    def config(self, config: Mapping[str, Any]) -> None:
        self._run.config.update(dict(config), allow_val_change=True)  # a resumed run may change train.*

    def close(self) -> None:
        self._run.finish()
