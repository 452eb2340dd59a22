"""The toy lab's contract: an experiment is a function that writes figures and returns the numbers it measured.

Each experiment reproduces one worked example of the lecture notes in well under a minute on 2 CPU cores. It is
registered by name in :data:`LABS`; :func:`run_lab` gives it a fresh output folder and a seed, then writes its
numbers to ``DIR/NAME.json`` beside its pictures, so the CLI, the Python API and the tests see the same results.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from genlab.build import build_trainer
from genlab.config import load_config
from genlab.errors import ConfigError
from genlab.fileio import write_json
from genlab.metrics import EvalConfig, Evaluator
from genlab.objectives import Objective
from genlab.registry import Registry
from genlab.runs import OpenRun, open_run
from genlab.train import RunDir
from genlab.viz.figures import save_figure as viz_save_figure


@dataclass
class LabResult:
    numbers: dict[str, object]
    """What the experiment measured (plain floats, ints, lists): written to NAME.json and checked by tests."""
    files: list[Path] = field(default_factory=list)
    """Pictures written (PNG, GIF), then the JSON."""


Experiment = Callable[[Path, int], LabResult]
LABS: Registry[Experiment] = Registry("lab experiment")


def save_figure(fig, path: Path) -> Path:
    """The lab's figure format: 110 dpi, trimmed to the drawn area."""
    return viz_save_figure(fig, path, dpi=110, bbox_inches="tight")


def mlp_1d(width: int = 64, activation: type[nn.Module] = nn.SiLU) -> nn.Sequential:
    """The lab's networks: 1 -> width -> width -> 1, raw outputs (logits, critic values or generated points)."""
    return nn.Sequential(nn.Linear(1, width), activation(), nn.Linear(width, width), activation(), nn.Linear(width, 1))


def train_frozen_d(
    net: nn.Module,
    objective: Objective,
    sample_real: Callable[[], torch.Tensor],
    sample_fake: Callable[[], torch.Tensor],
    steps: int,
    optimiser: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> float:
    """Train a discriminator (or critic) against a fixed generator distribution with a genlab objective's D loss
    and penalty, on fresh batches every step; returns the last loss (NaN when ``steps`` is 0)."""
    loss = torch.tensor(float("nan"))
    for step in range(steps):
        real, fake = sample_real(), sample_fake()
        loss = objective.d_loss(net(real), net(fake))
        penalty = objective.penalty(net, real, fake, step)
        if penalty is not None:
            loss = loss + penalty
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if schedule is not None:
            schedule.step()
    return float(loss.detach())


def train_preset(preset: str, run_dir: Path, seed: int, overrides: list[str]) -> None:
    """Train a ready config with genlab's own trainer into ``run_dir``, on the CPU and quietly (no progress bar,
    JSON-lines log only), so that an experiment shows what ``genlab train`` does rather than a second loop."""
    quiet = [f"seed={seed}", "device=cpu", "train.progress=false", "train.loggers=[jsonl]"]
    cfg = load_config(preset, [*quiet, *overrides])
    build_trainer(cfg, RunDir.create(run_dir, cfg.name)).fit()


def trained_gan(preset: str, run_dir: Path, seed: int, steps: int, overrides: list[str] | None = None) -> OpenRun:
    """``preset`` (with ``overrides``) trained for ``steps`` steps into ``run_dir`` (no sample grids, one log line),
    opened on the CPU: the generator the experiments that need a trained GAN measure."""
    schedule = [f"train.steps={steps}", "train.sample_every=0", f"train.log_every={steps}"]
    train_preset(preset, run_dir, seed, [*schedule, *(overrides or [])])
    return open_run(run_dir, device="cpu")


def samples_of(run: OpenRun, n: int, seed: int) -> torch.Tensor:
    """``n`` samples of a run's generator from latent seed ``seed``, the same for every experiment that asks."""
    with torch.no_grad():
        return run.recipe.sample(n, generator=torch.Generator().manual_seed(seed))


def scored_samples(run: OpenRun, n: int, seed: int, metrics: tuple[str, ...]) -> tuple[torch.Tensor, dict]:
    """``n`` samples of a run's generator (latent seed ``seed``) and the evaluation suite's ``metrics`` of them
    against the whole held-out test split of the run's data."""
    data = run.config.data.model_copy(update={"limit": None})
    evaluator = Evaluator(EvalConfig(metrics=metrics, n=n, real_split="test"), data, torch.device("cpu"))
    samples = samples_of(run, n, seed)
    return samples, evaluator.evaluate(samples).values


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread, restoring the previous count afterwards.

    The lab's networks are tiny MLPs that gain nothing from intra-op parallelism; on a busy 2-core machine two torch
    threads spinning against other processes made their training up to 8x slower than one thread (measured).
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def run_lab(name: str, out: str | Path = "lab", seed: int = 0) -> LabResult:
    """Run experiment ``name`` into folder ``out`` (created) and write ``out/NAME.json``."""
    if name not in LABS:
        raise ConfigError(LABS.unknown_message(name))
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with one_thread():
        result = LABS.get(name)(folder, seed)
    numbers = {"experiment": name, "seed": seed, **result.numbers, "seconds": round(time.perf_counter() - start, 2)}
    result.numbers = numbers
    json_path = folder / f"{name}.json"
    write_json(json_path, numbers)
    result.files.append(json_path)
    return result
