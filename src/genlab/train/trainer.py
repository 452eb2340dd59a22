"""The one training loop every recipe runs in.

It knows nothing about GANs or VAEs: it calls ``recipe.train_step`` and handles what all models share: a
device-resident data sampler, logging (the only place values leave the device), sample pictures (plus mode
statistics on the toy mixtures), periodic evaluation (``eval.every``: FID and friends logged as ``eval/*``),
atomic checkpoints with exact resume, Ctrl-C/SIGTERM, and stopping on NaN/inf without overwriting good
checkpoints.
"""

from __future__ import annotations

import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from genlab import __version__
from genlab.config import Config
from genlab.data import Sampler, load_dataset
from genlab.data.toy import MIXTURES
from genlab.errors import ConfigError, TrainingDiverged, TrainingInterrupted, TrainingStopped
from genlab.images import save_png
from genlab.metrics.evaluate import Evaluator, evaluate_recipe
from genlab.metrics.modes import MODE_SAMPLES, mode_stats
from genlab.metrics.reference import real_subset
from genlab.train.accel import Acceleration
from genlab.train.checkpoint import checkpoint_name, load_checkpoint, rng_state, save_checkpoint, set_rng_state
from genlab.train.distributed import current_world, data_parallel, use_cuda
from genlab.train.doctor import SAMPLE_CHECK_N, Doctor, Finding, SampleCheck, doctor_features
from genlab.train.logger import MetricsLog, read_metrics
from genlab.train.lr_decay import LRDecay
from genlab.train.rundir import RunDir
from genlab.train.signals import GracefulStop
from genlab.viz.samples import render_samples

PREVIEW_COLUMNS = 4
"""Input | reconstruction pairs per row of a reconstruction grid (as many rows)."""


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when a GPU is visible, else the CPU; under torchrun each process takes its own GPU."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device is 'cuda' but no CUDA GPU is visible; use device=auto or device=cpu")
    if use_cuda(name):
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


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

    def read(self) -> tuple[dict[str, float], int | None]:
        """Interval means and the first non-finite step (or None), in one host transfer; starts a new interval."""
        assert self.total is not None and self.keys is not None and self.first_bad is not None
        packed = torch.cat([(self.total / self.count).double(), self.first_bad.double().reshape(1)]).tolist()
        self.total, self.count = None, 0
        bad = int(packed[-1])
        return dict(zip(self.keys, packed[:-1], strict=True)), (bad if bad >= 0 else None)

    def first_nonfinite_step(self) -> int | None:
        if self.first_bad is None:
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
    """Trains the recipe described by ``config`` into ``run``; ``resume=True`` continues its latest checkpoint."""

    def __init__(self, config: Config, run: RunDir, *, resume: bool = False):
        self.config = config
        self.run = run
        self.world = world = current_world()
        if world.distributed and config.doctor.enabled and config.doctor.action == "stop":
            raise ConfigError(
                "doctor.action 'stop' would stop rank 0 alone in multi-process training; use doctor.action: warn"
            )
        self.device = resolve_device(config.device)
        torch.manual_seed(config.seed)  # network initialisation: the same on every process
        data = load_dataset(config.data)
        self.data_info = {"shape": list(data.shape), "num_classes": data.num_classes}
        self.recipe = config.model.build(data.shape, data.num_classes, self.device)
        self.accel = Acceleration(config.accel, self.device, images=len(data.shape) == 3)
        self.accel.prepare(self.recipe.networks.values())
        if world.distributed:
            self.recipe.distribute(lambda net: data_parallel(net, self.device), world.rank, world.size)
        if self.accel.compile:
            for note in self.recipe.compile(self.accel.compiled):
                if world.main:
                    print(f"note: {note}", file=sys.stderr)
        self.sampler = Sampler(
            data,
            config.train.batch_size,
            config.seed,
            self.device,
            memory_format=self.accel.memory_format,
            rank=world.rank,
            world=world.size,
        )
        train = config.train
        self.lr_decay = LRDecay(self.recipe.optimizers, train.steps, train.lr_decay, train.lr_decay_start)
        self._mixture = MIXTURES.get(config.data.name)
        vectors = len(data.shape) == 1
        self._drawable = not vectors or data.shape == (2,)
        # The same real points under every scatter plot fix its axes, so frames of a run are comparable.
        self._reference = data.images[:MODE_SAMPLES].clone() if vectors else None
        # Fixed real images whose reconstructions are drawn over training (recipes that reconstruct images).
        reconstructs_images = self.recipe.reconstructs and not vectors
        self._preview = real_subset(data, PREVIEW_COLUMNS**2)[0].to(self.device) if reconstructs_images else None
        self.step = 0
        self.elapsed = 0.0
        self.resumed_from: int | None = None
        self.last_record: dict[str, float] = {}
        self._means = IntervalMeans()
        self._saved_step = -1
        self._evaluates = self.recipe.generative and config.eval.every > 0 and world.main
        self._evaluator: Evaluator | None = None
        self.doctor = (
            Doctor(config.doctor, self.recipe.probability_scores)
            if config.doctor.enabled and self.recipe.generative and world.main
            else None
        )
        self.findings: list[Finding] = []
        self._real_for_doctor = real_subset(data, SAMPLE_CHECK_N)[0] if self.doctor is not None else None
        self._sample_check: SampleCheck | None = None
        if resume:
            self._restore()
        if world.main:
            run.write_config(config)

    @classmethod
    def resume(cls, run_dir: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Trainer:
        """Continue a run from its latest checkpoint; ``overrides`` may change ``train.*`` and ``doctor.*``."""
        run = RunDir.open(run_dir)
        return cls(run.read_config(overrides), run, resume=True)

    def _restore(self) -> None:
        path = self.run.latest_checkpoint()
        state = load_checkpoint(path, map_location=self.device)
        self.recipe.load_state_dict(state["recipe"])
        self.sampler.load_state_dict(state["sampler"])
        set_rng_state(state["rng"])
        self.step = self.resumed_from = self._saved_step = state["step"]
        self.elapsed = state["elapsed"]
        if self.doctor is not None:
            self.doctor.restore([r for r in read_metrics(self.run.metrics_path) if r["step"] <= self.step])

    def fit(self) -> TrainResult:
        cfg = self.config.train
        if self.step >= cfg.steps:
            print(
                f"{self.run.path} already reached step {self.step} of {cfg.steps}; raise train.steps to go on",
                file=sys.stderr,
            )
            return TrainResult(self.run.path, self.step, self.elapsed)
        means = self._means
        main = self.world.main
        tensorboard_dir = self.run.tensorboard_dir if cfg.tensorboard else None
        interactive = cfg.progress and sys.stderr.isatty() and main
        with (
            GracefulStop() as stop,
            # Only rank 0 writes the run folder; the other processes of a multi-process run just train.
            MetricsLog(self.run.metrics_path, tensorboard_dir, self.resumed_from) if main else nullcontext() as log,
            tqdm(total=cfg.steps, initial=self.step, unit="step", disable=not interactive, dynamic_ncols=True) as bar,
        ):
            session_start = interval_start = time.perf_counter()
            elapsed_before, batches_before, hook_seconds = self.elapsed, self.sampler.batches_drawn, 0.0
            while self.step < cfg.steps:
                self.lr_decay.apply(self.step)
                with self.accel.step():
                    metrics = self.recipe.train_step(self.sampler, self.step)
                self.step += 1
                means.add(metrics, self.step)
                bar.update()
                now = time.perf_counter()
                self.elapsed = elapsed_before + now - session_start
                last = self.step == cfg.steps
                if self.step % cfg.log_every == 0 or last:
                    images = (self.sampler.batches_drawn - batches_before) * cfg.batch_size * self.world.size
                    rate = images / max(now - interval_start - hook_seconds, 1e-9)
                    self._log(log, bar, rate, show=cfg.progress and not interactive and main)
                    interval_start, batches_before, hook_seconds = time.perf_counter(), self.sampler.batches_drawn, 0.0
                hook_start = time.perf_counter()
                stage = self.recipe.stage_end(self.step)
                if main and (_due(self.step, cfg.sample_every) or last or stage):
                    self._write_samples(log, stage)
                if self._evaluates and (_due(self.step, self.config.eval.every) or last):
                    self._evaluate(log)
                if main and (_due(self.step, cfg.checkpoint_every) or last or stop.signum is not None):
                    self._save()
                hook_seconds += time.perf_counter() - hook_start
                if stop.signum is not None:
                    raise TrainingInterrupted(
                        f"stopped at step {self.step} of {cfg.steps}; checkpoint saved. "
                        f"Continue with: genlab train --resume {self.run.path}",
                        stop.signum,
                    )
        return TrainResult(self.run.path, self.step, self.elapsed, self.last_record)

    def _log(self, log: MetricsLog | None, bar: tqdm, images_per_s: float, show: bool) -> None:
        """Read the interval's means (every process, so each stops on a NaN); rank 0 writes them (``log``)."""
        values, bad_step = self._means.read()
        if log is None:
            if bad_step is not None:
                self._diverged(bad_step, values)
            return
        record = {
            "step": self.step,
            "elapsed": round(self.elapsed, 3),
            "images_per_s": round(images_per_s, 1),
            **values,
        }
        if self.doctor is not None and bad_step is None:
            record |= self._check_samples()
        log.write(record)
        self.last_record = record
        if bad_step is not None:
            self._diverged(bad_step, values)
        if self.doctor is not None:
            self._diagnose(log, record)
        summary = {k: f"{v:.3g}" for k, v in values.items() if k.startswith("loss")}
        bar.set_postfix(summary | {"img/s": f"{images_per_s:.0f}"}, refresh=False)
        if show:
            parts = "  ".join(f"{k} {v}" for k, v in summary.items())
            print(f"step {self.step}/{self.config.train.steps}  {parts}  {images_per_s:.0f} img/s", file=sys.stderr)

    def _check_samples(self) -> dict[str, float]:
        """The doctor's diversity of a fixed latent batch (built on first use: loads the features)."""
        if self._sample_check is None:
            features = doctor_features(self.config.data.name, self.device)
            self._sample_check = SampleCheck(self._real_for_doctor.to(self.device), features)
        n = self._sample_check.n
        return self._sample_check(self.recipe.sample(n, generator=torch.Generator().manual_seed(self.config.seed)))

    def _diagnose(self, log: MetricsLog, record: dict[str, float]) -> None:
        """Report each new finding once (stderr and metrics.jsonl); with doctor.action stop, save and stop."""
        found = self.doctor.check(record)
        for finding in found:
            print(finding, file=sys.stderr)
            log.write(finding.record())
        self.findings += found
        if found and self.config.doctor.action == "stop":
            self._save()
            raise TrainingStopped(
                f"the training doctor stopped the run at step {self.step} (doctor.action: stop): {found[0].message}. "
                f"A checkpoint was saved; to go on anyway: genlab train --resume {self.run.path} "
                "--set doctor.action=warn"
            )

    def _diverged(self, bad_step: int, values: dict[str, float]) -> None:
        checkpoints = self.run.checkpoints()
        last_good = (
            f"{checkpoints[-1]} is the last good checkpoint and was kept"
            if checkpoints
            else "no checkpoint was written"
        )
        shown = ", ".join(f"{k}={v:.4g}" for k, v in values.items())
        raise TrainingDiverged(
            f"training diverged: a logged value became NaN or infinite at step {bad_step} (interval means: {shown}). "
            f"Training stopped; {last_good}. Try lower learning rates (model.g_optim.lr, model.d_optim.lr) or a "
            "more stable objective."
        )

    def _check_finite(self) -> None:
        bad_step = self._means.first_nonfinite_step()
        if bad_step is not None:
            self._diverged(bad_step, {})

    def _write_samples(self, log: MetricsLog, stage: str | None = None) -> None:
        """Picture of samples from a fixed seed; on a toy mixture also its mode statistics, as their own record.
        Recipes that reconstruct also get a grid of fixed real images beside their reconstructions. At the end of
        a ``stage`` the picture is also kept as samples/STAGE.png."""
        self._check_finite()
        if self.recipe.reconstructs and self._preview is not None:
            columns = [self._preview, *(out.to(self._preview) for out in self.recipe.preview(self._preview))]
            channels = max(c.shape[1] for c in columns)  # a grey domain beside a colour one is shown in colour
            rows = torch.stack([c.expand(-1, channels, -1, -1) for c in columns], dim=1)
            picture = render_samples(rows.flatten(0, 1), nrow=len(columns) * PREVIEW_COLUMNS)  # input | outputs
            name = self.recipe.preview_name
            save_png(picture, self.run.samples_dir / f"{name}-{self.step:08d}.png")
            log.image(name, picture, self.step)
        if not self.recipe.generative:
            return
        # On a mixture one draw serves both, so the scatter plot shows exactly the points the statistics describe.
        n = MODE_SAMPLES if self._mixture is not None else self.config.train.n_samples
        samples = self.recipe.sample(n, generator=torch.Generator().manual_seed(self.config.seed))
        if self._drawable:
            picture = render_samples(samples, self._reference)
            save_png(picture, self.run.samples_dir / f"step-{self.step:08d}.png")
            if stage is not None:
                save_png(picture, self.run.samples_dir / f"{stage}.png")
            log.image("samples", picture, self.step)
        if self._mixture is not None:
            stats = mode_stats(samples, self._mixture)
            log.write(
                {
                    "step": self.step,
                    "modes/covered": stats.modes_covered,
                    "modes/high_quality": stats.high_quality,
                    "modes/reverse_kl": stats.reverse_kl,
                }
            )

    def _evaluate(self, log: MetricsLog) -> None:
        """Score ``eval.n`` samples of a fixed latent seed; the values are logged as ``eval/NAME`` records."""
        self._check_finite()
        if self._evaluator is None:  # built on first use: loads the extractor and the (cached) real features
            self._evaluator = Evaluator(self.config.eval, self.config.data, self.device)
        result, _ = evaluate_recipe(self._evaluator, self.recipe)
        log.write({"step": self.step, **{f"eval/{k}": v for k, v in result.values.items()}})

    def _save(self) -> None:
        if self._saved_step == self.step:
            return
        self._check_finite()
        state = {
            "step": self.step,
            "elapsed": self.elapsed,
            "recipe": self.recipe.state_dict(),
            "sampler": self.sampler.state_dict(),
            "rng": rng_state(),
            "config": self.config.model_dump(mode="json"),
            "data": self.data_info,
            "genlab_version": __version__,
        }
        save_checkpoint(self.run.checkpoints_dir / checkpoint_name(self.step), state)
        self._saved_step = self.step
        for old in self.run.checkpoints()[: -self.config.train.keep_checkpoints]:
            old.unlink()


def _due(step: int, every: int) -> bool:
    return every > 0 and step % every == 0
