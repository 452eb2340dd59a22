"""The run folder: everything a run writes, in one place that later commands read back.

RUN/config.yaml              resolved config (every default written out; genlab.config reads and writes it)
RUN/metrics.jsonl            one JSON record per logging interval
RUN/samples/step-*.png       grids of a fixed latent batch over training
RUN/checkpoints/ckpt-*.pt    checkpoints (weights_only-loadable)
RUN/tensorboard/             TensorBoard events, when tensorboard is installed
RUN/report.html, curves.png  the run's report and loss curves, written when training stops
"""

from __future__ import annotations

import time
from pathlib import Path

from genlab.errors import CheckpointError, ConfigError
from genlab.train.checkpoint import list_checkpoints


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.config_path = self.path / "config.yaml"
        self.metrics_path = self.path / "metrics.jsonl"
        self.samples_dir = self.path / "samples"
        self.checkpoints_dir = self.path / "checkpoints"
        self.tensorboard_dir = self.path / "tensorboard"

    @classmethod
    def create(cls, out: str | Path | None, name: str) -> RunDir:
        """A new, empty run folder: ``out`` if given, else ``runs/NAME-YYYYmmdd-HHMMSS``."""
        if out is None:
            base = Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
            out, suffix = base, 1
            while out.exists():
                out, suffix = base.with_name(f"{base.name}-{suffix}"), suffix + 1
        run = cls(out)
        if run.config_path.exists() or run.checkpoints_dir.exists():
            raise ConfigError(
                f"{run.path} already holds a run; continue it with `genlab train --resume {run.path}` "
                "or choose another --out"
            )
        run.path.mkdir(parents=True, exist_ok=True)
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """An existing run folder (one that holds config.yaml)."""
        run = cls(path)
        if not run.config_path.is_file():
            raise CheckpointError(f"{run.path} is not a genlab run folder (no config.yaml in it)")
        return run

    def checkpoints(self) -> list[Path]:
        return list_checkpoints(self.checkpoints_dir)

    def latest_checkpoint(self) -> Path:
        found = self.checkpoints()
        if not found:
            raise CheckpointError(f"{self.path} has no checkpoints yet (looked in {self.checkpoints_dir})")
        return found[-1]
