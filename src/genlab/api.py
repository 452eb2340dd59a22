"""The Python API behind every CLI command: train, resume, load a run, sample, demo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from genlab.config import Config, load_config, validate_config
from genlab.images import save_png
from genlab.models import Recipe
from genlab.train import RunDir, Trainer, TrainResult, load_checkpoint, resolve_device
from genlab.viz.curves import plot_curves
from genlab.viz.samples import render_samples

DEMO_PRESET = "dcgan-digits"


def _finish(trainer: Trainer) -> TrainResult:
    """Train to the end and draw the run's curves (also after an interruption or divergence)."""
    try:
        return trainer.fit()
    finally:
        plot_curves(trainer.run.metrics_path, trainer.run.path / "curves.png")


def fit(
    config: Config | str | Path | dict[str, Any],
    overrides: list[str] | tuple[str, ...] = (),
    *,
    out: str | Path | None = None,
) -> TrainResult:
    """Train from a config (object, YAML file, preset name or mapping) into a new run folder."""
    cfg = config if isinstance(config, Config) else load_config(config, overrides)
    return _finish(Trainer(cfg, RunDir.create(out, cfg.name)))


def resume(run_dir: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> TrainResult:
    """Continue a run from its latest checkpoint; ``overrides`` may change ``train.*`` settings only."""
    return _finish(Trainer.resume(run_dir, overrides))


def load_run(path: str | Path, device: str = "auto") -> Recipe:
    """The trained model of a run folder (its latest checkpoint) or of a checkpoint file, ready to sample."""
    path = Path(path)
    checkpoint = path if path.is_file() else RunDir.open(path).latest_checkpoint()
    target = resolve_device(device)
    state = load_checkpoint(checkpoint, map_location=target)
    cfg = validate_config(state["config"], str(checkpoint))
    recipe = cfg.model.build(tuple(state["data"]["shape"]), state["data"]["num_classes"], target)
    recipe.load_state_dict(state["recipe"], weights_only=True)
    return recipe


def sample(
    path: str | Path, n: int = 64, *, seed: int = 0, out: str | Path | None = None, device: str = "auto"
) -> torch.Tensor:
    """``n`` samples from a trained run; also drawn to ``out`` when given (image grid, or scatter of 2-D points)."""
    images = load_run(path, device).sample(n, generator=torch.Generator().manual_seed(seed))
    if out is not None:
        save_png(render_samples(images), out)
    return images


@dataclass
class DemoResult:
    run_dir: Path
    samples: Path
    curves: Path
    result: TrainResult


def demo(out: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> DemoResult:
    """Train the DCGAN on the bundled digits (about a minute on 2 CPU cores) and return where the pictures are."""
    cfg = load_config(DEMO_PRESET, ["name=demo", *overrides])
    result = fit(cfg, out=out)
    run = RunDir(result.run_dir)
    return DemoResult(run.path, run.samples_dir / f"step-{result.step:08d}.png", run.path / "curves.png", result)
