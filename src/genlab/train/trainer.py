"""The one training loop every recipe runs in.

It takes built objects: a recipe (the model and its ``train_step``), a :class:`~genlab.data.Sampler` (device or disk),
a run folder and a list of hooks, the periodic actions of :mod:`genlab.hooks` (sample pictures, evaluation,
checkpoints, the training doctor, and whatever the recipe or the user adds). The loop itself handles only what every
model shares: steps, learning-rate decay, logging (the only place values leave the device), atomic checkpoints with
exact resume, Ctrl-C/SIGTERM, and stopping on NaN/inf without overwriting good checkpoints. It knows nothing about
which model family it trains. :func:`genlab.build.build_trainer` builds a trainer from a config.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import torch
from tqdm import tqdm

from genlab import __version__, keys
from genlab.data import Sampler
from genlab.errors import ConfigError, GenlabError, TrainingDiverged, TrainingInterrupted, TrainingStopped
from genlab.fileio import WRITE_FAULTS
from genlab.hooks import Hook, Moment
from genlab.models import Recipe
from genlab.train.accel import Acceleration
from genlab.train.checkpoint import (
    checkpoint_name,
    load_checkpoint,
    restore_recipe,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from genlab.train.distributed import World, use_cuda
from genlab.train.logger import MetricsLog
from genlab.train.lr_decay import LRDecay
from genlab.train.rundir import RunDir
from genlab.train.signals import GracefulStop
from genlab.train.sinks import SinkOpener


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when a GPU is visible, else the CPU; under torchrun each process takes its own GPU."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device is 'cuda' but no CUDA GPU is visible; use device=auto or device=cpu")
    if use_cuda(name):
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


H = TypeVar("H", bound=Hook)
RESUME_NEEDS = ("step", "elapsed", "recipe", "sampler", "rng")
"""What :meth:`Trainer.restore` reads of a checkpoint (:meth:`Trainer.save` writes them all)."""


class IntervalMeans:
    """Averages a step's scalar metrics over a logging interval without leaving the device.

    It also records, on the device, the first step whose values were NaN or infinite, so divergence is reported
    with its exact step although values are only read once per interval.
    """

    def __init__(self) -> None:
        self.keys: list[str] | None = None
        self.total: torch.Tensor | None = None
        self.count = 0
        self.first_bad: torch.Tensor | None = None
        self._finite_so_far = False  # known on the host since the last read: no device read needed to tell

    def add(self, metrics: dict[str, torch.Tensor], step: int) -> None:
        if self.keys is None:
            self.keys = list(metrics)
        elif list(metrics) != self.keys:
            raise ValueError(f"train_step must return the same metrics every step: {self.keys} then {list(metrics)}")
        values = torch.stack([value.detach().float().reshape(()) for value in metrics.values()])
        self.total = values if self.total is None else self.total + values
        if self.first_bad is None:
            self.first_bad = torch.full((), -1, dtype=torch.long, device=values.device)
        bad_now = ~torch.isfinite(values).all() & (self.first_bad < 0)
        self.first_bad = torch.where(bad_now, step, self.first_bad)
        self.count += 1
        self._finite_so_far = False

    def read(self) -> tuple[dict[str, float], int | None]:
        """Interval means and the first non-finite step (or None), in one host transfer; starts a new interval."""
        assert self.total is not None and self.keys is not None and self.first_bad is not None
        packed = torch.cat([(self.total / self.count).double(), self.first_bad.double().reshape(1)]).tolist()
        self.total, self.count = None, 0
        bad = int(packed[-1])
        self._finite_so_far = bad < 0
        return dict(zip(self.keys, packed[:-1], strict=True)), (bad if bad >= 0 else None)

    def first_nonfinite_step(self) -> int | None:
        """The first step whose values were not finite, or None (a device read unless just read)."""
        if self.first_bad is None or self._finite_so_far:
            return None
        bad = int(self.first_bad)
        return bad if bad >= 0 else None


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    elapsed: float
    """Seconds of training over all sessions of the run."""
    metrics: dict[str, float] = field(default_factory=dict)
    """The last logged record."""


class Trainer:
    """Trains ``recipe`` on batches from ``sampler`` for ``steps`` steps into the run folder ``run``.

    ``hooks`` run in their order when due (see :mod:`genlab.hooks`); ``log_every`` steps apart the interval means
    of what ``train_step`` returns are written to metrics.jsonl and to the ``sinks`` (TensorBoard, W&B, MLflow,
    :mod:`genlab.train.sinks`), which also get the pictures and ``checkpoint_meta["config"]``. Checkpoints hold the
    recipe's, the sampler's and every random generator's state plus ``checkpoint_meta`` (the factory stores the
    config there); :meth:`restore` continues the latest one exactly, and only the
    ``keep_checkpoints`` newest are kept. ``lr_decay`` sets the learning rates before every step, ``accel`` wraps
    every step (autocast, CUDA-graph step marks), and in a multi-process run (``world``) only rank 0 writes.
    """

    def __init__(
        self,
        recipe: Recipe,
        sampler: Sampler,
        run: RunDir,
        hooks: Sequence[Hook] = (),
        *,
        steps: int,
        log_every: int = 50,
        keep_checkpoints: int = 3,
        lr_decay: LRDecay | None = None,
        accel: Acceleration | None = None,
        world: World | None = None,
        progress: bool = True,
        sinks: Sequence[SinkOpener] = (),
        checkpoint_meta: Mapping[str, object] | None = None,
    ):
        if steps < 1 or log_every < 1 or keep_checkpoints < 1:
            raise ConfigError(
                f"steps, log_every and keep_checkpoints must be at least 1 (got {steps}, {log_every}, "
                f"{keep_checkpoints})"
            )
        self.recipe = recipe
        self.sampler = sampler
        self.run = run
        self.hooks = list(hooks)
        self.steps = steps
        self.log_every = log_every
        self.keep_checkpoints = keep_checkpoints
        self.lr_decay = lr_decay
        self.accel = accel
        self.world = world or World()
        self.progress = progress
        self.sinks = list(sinks)
        self.checkpoint_meta = dict(checkpoint_meta or {})
        self.step = 0
        self.elapsed = 0.0
        self.resumed_from: int | None = None
        self.last_record: dict[str, float] = {}
        self._means = IntervalMeans()
        self._saved_step = -1
        self._log: MetricsLog | None = None

    def hook(self, kind: type[H]) -> H:
        """The first hook of type ``kind`` (e.g. the training doctor, to read its findings)."""
        found = [h for h in self.hooks if isinstance(h, kind)]
        if not found:
            raise LookupError(f"this trainer has no {kind.__name__} hook")
        return found[0]

    def restore(self, path: Path | None = None) -> int:
        """Continue from a checkpoint (default: the run's latest); returns its step."""
        path = path or self.run.latest_checkpoint()
        state = load_checkpoint(path, map_location=self.recipe.device, needs=RESUME_NEEDS)
        restore_recipe(self.recipe, state, path)
        self.sampler.load_state_dict(state["sampler"])
        set_rng_state(state["rng"])
        self.step = self.resumed_from = self._saved_step = state["step"]
        self.elapsed = state["elapsed"]
        return self.step

    def fit(self) -> TrainResult:
        """Train to step ``steps``, with the run folder locked by this process until training stops.

        A file that cannot be written (full disk, read-only folder) stops training with a GenlabError that names
        it and the checkpoint to resume from; checkpoints are written atomically, so that one is intact."""
        if self.world.main:
            self.run.lock()
        try:
            return self._fit()
        except OSError as error:
            if error.errno not in WRITE_FAULTS:
                raise
            raise self._write_failed(error) from error
        finally:
            self.run.unlock()

    def _fit(self) -> TrainResult:
        if self.step >= self.steps:
            print(
                f"{self.run.path} already reached step {self.step} of {self.steps}; raise train.steps to go on",
                file=sys.stderr,
            )
            return TrainResult(self.run.path, self.step, self.elapsed)
        means = self._means
        main = self.world.main
        interactive = self.progress and sys.stderr.isatty() and main
        with (
            GracefulStop() as stop,
            # Only rank 0 writes the run folder; the other processes of a multi-process run just train.
            MetricsLog(self.run, self.resumed_from, self.sinks) if main else nullcontext() as log,
            tqdm(total=self.steps, initial=self.step, unit="step", disable=not interactive, dynamic_ncols=True) as bar,
        ):
            self._log = log
            if log is not None and "config" in self.checkpoint_meta:
                log.config(self.checkpoint_meta["config"])
            try:
                for hook in self.hooks:
                    hook.start(self._moment())
                session_start = interval_start = time.perf_counter()
                elapsed_before, batches_before, hook_seconds = self.elapsed, self.sampler.batches_drawn, 0.0
                while self.step < self.steps:
                    if self.lr_decay is not None:
                        self.lr_decay.apply(self.step)
                    with self.accel.step() if self.accel is not None else nullcontext():
                        metrics = self.recipe.train_step(self.sampler, self.step)
                    self.step += 1
                    means.add(metrics, self.step)
                    bar.update()
                    now = time.perf_counter()
                    self.elapsed = elapsed_before + now - session_start
                    final = self.step == self.steps
                    record = None
                    if self.step % self.log_every == 0 or final:
                        images = (self.sampler.batches_drawn - batches_before) * self.sampler.batch_size
                        rate = images * self.world.size / max(now - interval_start - hook_seconds, 1e-9)
                        record = self._write_record(bar, rate, show=self.progress and not interactive and main)
                        batches_before, hook_seconds = self.sampler.batches_drawn, 0.0
                        interval_start = time.perf_counter()
                    hook_start = time.perf_counter()
                    self._run_hooks(record, final, stop.signum is not None)
                    hook_seconds += time.perf_counter() - hook_start
                    if stop.signum is not None:
                        raise TrainingInterrupted(
                            f"stopped at step {self.step} of {self.steps}; checkpoint saved. "
                            f"Continue with: genlab train --resume {self.run.path} (genlab.resume from Python)",
                            stop.signum,
                        )
            finally:
                for hook in self.hooks:
                    hook.finish(self._moment())
                self._log = None
        return TrainResult(self.run.path, self.step, self.elapsed, self.last_record)

    def _moment(self, stage: str | None = None, record: Mapping[str, float] | None = None) -> Moment:
        return Moment(self.step, self.steps, self.run.path, self._log, self.save, stage, record)

    def _run_hooks(self, record: dict[str, float] | None, final: bool, stopping: bool) -> None:
        """Run the hooks due at this step (after checking the values are finite); on a stop request or a hook's
        TrainingStopped, save a checkpoint (rank 0)."""
        stage = self.recipe.stage_end(self.step)
        due = [hook for hook in self.hooks if hook.due(self.step, final, stage)]
        if due or (stopping and self.world.main):
            self._check_finite()
        try:
            for hook in due:
                hook(self._moment(stage, record))
        except TrainingStopped:
            self.save()
            raise
        if stopping and self.world.main:
            self.save()

    def _write_record(self, bar: tqdm, images_per_s: float, show: bool) -> dict[str, float] | None:
        """Read the interval's means (every process, so each stops on a NaN); rank 0 writes them, with what the
        hooks measure, and returns the record."""
        values, bad_step = self._means.read()
        if self._log is None:
            if bad_step is not None:
                self._diverged(bad_step, values)
            return None
        record = {
            keys.STEP: self.step,
            keys.ELAPSED: round(self.elapsed, 3),
            keys.IMAGES_PER_S: round(images_per_s, 1),
            **values,
        }
        if bad_step is None:
            for hook in self.hooks:
                record |= hook.measure(record)
        self._log.write(record)
        self.last_record = record
        if bad_step is not None:
            self._diverged(bad_step, values)
        summary = {k: f"{v:.3g}" for k, v in values.items() if keys.is_loss(k)}
        bar.set_postfix(summary | {"img/s": f"{images_per_s:.0f}"}, refresh=False)
        if show:
            parts = "  ".join(f"{k} {v}" for k, v in summary.items())
            print(f"step {self.step}/{self.steps}  {parts}  {images_per_s:.0f} img/s", file=sys.stderr)
        return record

    def _last_good_checkpoint(self) -> str:
        checkpoints = self.run.checkpoints()
        return (
            f"{checkpoints[-1]} is the last good checkpoint and was kept"
            if checkpoints
            else "no checkpoint was written"
        )

    def _diverged(self, bad_step: int, values: dict[str, float]) -> None:
        shown = ", ".join(f"{k}={v:.4g}" for k, v in values.items())
        raise TrainingDiverged(
            f"training diverged: a logged value became NaN or infinite at step {bad_step} (interval means: {shown}). "
            f"Training stopped; {self._last_good_checkpoint()}. Try lower learning rates (the model's *optim.lr "
            "settings) or a more stable loss."
        )

    def _write_failed(self, error: OSError) -> GenlabError:
        what, fix = WRITE_FAULTS[error.errno]
        then = (
            f"continue with `genlab train --resume {self.run.path}`"
            if self.run.checkpoints()
            else f"train again (into another --out, or after deleting {self.run.path})"
        )
        return GenlabError(
            f"could not write {error.filename or self.run.path}: {what}. Training stopped at step {self.step}; "
            f"{self._last_good_checkpoint()}. {fix.capitalize()}, then {then}"
        )

    def _check_finite(self) -> None:
        bad_step = self._means.first_nonfinite_step()
        if bad_step is not None:
            self._diverged(bad_step, {})

    def save(self) -> Path:
        """Write a checkpoint of the current step (once per step) and drop all but the newest ``keep_checkpoints``."""
        path = self.run.checkpoints_dir / checkpoint_name(self.step)
        if self._saved_step == self.step:
            return path
        self._check_finite()
        state = {
            "step": self.step,
            "elapsed": self.elapsed,
            "recipe": self.recipe.state_dict(),
            "sampler": self.sampler.state_dict(),
            "rng": rng_state(),
            **self.checkpoint_meta,
            "genlab_version": __version__,
        }
        save_checkpoint(path, state)
        self._saved_step = self.step
        for old in self.run.checkpoints()[: -self.keep_checkpoints]:
            old.unlink()
        return path
