"""The run folder: everything a run writes, in one place that later commands read back.

RUN/config.yaml              resolved config (every default written out; genlab.config reads and writes it)
RUN/metrics.jsonl            one JSON record per logging interval
RUN/samples/step-*.png       grids of a fixed latent batch over training
RUN/checkpoints/ckpt-*.pt    checkpoints (weights_only-loadable)
RUN/tensorboard/             TensorBoard events (train.loggers: tensorboard, when tensorboard is installed)
RUN/wandb/, wandb-id         the offline W&B run and its id (train.loggers: wandb)
RUN/mlflow.db, mlartifacts/  the MLflow store and its artifacts, mlflow-id its run id (train.loggers: mlflow)
RUN/report.html, curves.png  the run's report and loss curves, written when training stops
RUN/.lock                    held by the process training the run (genlab.train.lock)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from genlab.errors import CheckpointError, ConfigError
from genlab.fileio import remove_stale_temporaries
from genlab.train.checkpoint import list_checkpoints
from genlab.train.lock import LOCK_NAME, RunLock


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.config_path = self.path / "config.yaml"
        self.metrics_path = self.path / "metrics.jsonl"
        self.samples_dir = self.path / "samples"
        self.checkpoints_dir = self.path / "checkpoints"
        self.tensorboard_dir = self.path / "tensorboard"
        self._lock: RunLock | None = None

    @classmethod
    def create(cls, out: str | Path | None, name: str) -> RunDir:
        """A new run folder, locked for training: ``out`` if given (a new or empty folder), else
        ``runs/NAME-YYYYmmdd-HHMMSS``."""
        if out is None:
            base = Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
            out, suffix = base, 1
            while out.exists():
                out, suffix = base.with_name(f"{base.name}-{suffix}"), suffix + 1
        elif not str(out).strip():
            raise ConfigError("--out is empty; give the folder for the new run, e.g. --out runs/try1")
        run = cls(out)
        run._refuse_other_files()
        run.lock()  # refused while another process trains the folder
        if run._holds_run():
            run.unlock()
            raise ConfigError(
                f"{run.path} already holds a run; continue it with `genlab train --resume {run.path}` "
                "or choose another --out"
            )
        return run

    def _holds_run(self) -> bool:
        return self.config_path.exists() or self.checkpoints_dir.exists()

    def _refuse_other_files(self) -> None:
        """Refuse to train into a file, or into a folder of files that are not a run, which training would
        overwrite (before writing anything there)."""
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"--out {self.path} is a file, not a folder; choose a new folder for the run")
        others = sorted(p.name for p in self.path.iterdir() if p.name != LOCK_NAME) if self.path.is_dir() else []
        if others and not self._holds_run():
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise ConfigError(
                f"{self.path} is not a genlab run folder but holds other files ({shown}), which training would "
                "overwrite; choose a new or empty folder for --out"
            )

    def lock(self) -> RunDir:
        """Lock the folder for training by this process (see :mod:`genlab.train.lock`) until :meth:`unlock`.

        Temporary files that writers killed mid-write left in it are removed then, with a note."""
        if self._lock is None:
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock = RunLock.acquire(self.path)
            for folder in (self.path, self.checkpoints_dir, self.samples_dir):
                for lost in remove_stale_temporaries(folder):
                    print(f"note: removed the temporary file of an unfinished write of {lost}", file=sys.stderr)
        return self

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

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
