"""Mode collapse on the ring of 8 Gaussians: the standard GAN's generator hops between modes, a fix holds them all.

This is genlab's own trainer on its ready ``*-ring8`` configs, only shortened (1,200 steps, a snapshot every 200),
so the lab shows what ``genlab train`` does rather than a second training loop. The standard GAN (non-saturating and
the original minimax loss) and the R1 gradient penalty (the best of genlab's 2-D mode table) are trained from the
same seed; the trainer logs the mode statistics (modes covered, high-quality fraction, reverse KL) at every snapshot,
and each snapshot's checkpoint gives the 2,500 points those statistics were computed on for the scatter grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from genlab import keys
from genlab.data.toy import MIXTURES
from genlab.lab.base import LABS, LabResult, save_figure, train_preset
from genlab.metrics.modes import MODE_SAMPLES
from genlab.runs import open_run
from genlab.train import read_metrics
from genlab.train.checkpoint import list_checkpoints, load_checkpoint

OBJECTIVES = {"nonsaturating": "nonsaturating-ring8", "minimax": "minimax-ring8", "r1": "r1-ring8"}
"""Row label -> genlab preset; ``r1`` is the fix."""
FIX = "r1"
STEPS, EVERY = 1200, 200


def _train(preset: str, run_dir: Path, seed: int) -> None:
    snapshots = [f"train.{key}={EVERY}" for key in ("sample_every", "checkpoint_every", "log_every")]
    kept = f"train.keep_checkpoints={STEPS // EVERY}"
    train_preset(preset, run_dir, seed, [f"train.steps={STEPS}", kept, *snapshots])


def _modes_over_time(run_dir: Path) -> dict[str, list]:
    """The mode statistics the trainer logged at each snapshot step."""
    rows = [r for r in read_metrics(run_dir / "metrics.jsonl") if keys.MODES_COVERED in r]
    return {
        "steps": [int(r[keys.STEP]) for r in rows],
        "covered": [int(r[keys.MODES_COVERED]) for r in rows],
        "high_quality": [round(float(r[keys.MODES_HIGH_QUALITY]), 4) for r in rows],
        "reverse_kl": [round(float(r[keys.MODES_REVERSE_KL]), 4) for r in rows],
    }


def _snapshots(run_dir: Path, seed: int) -> dict[int, np.ndarray]:
    """2,500 generated points per checkpoint, from the latent seed the trainer's statistics used."""
    points = {}
    for checkpoint in list_checkpoints(run_dir / "checkpoints"):
        recipe = open_run(checkpoint, device="cpu").recipe
        with torch.no_grad():
            sample = recipe.sample(MODE_SAMPLES, generator=torch.Generator().manual_seed(seed))
        step = int(load_checkpoint(checkpoint)["step"])
        points[step] = sample.cpu().numpy()
    return points


def _figure(snapshots: dict[str, dict[int, np.ndarray]], history: dict[str, dict], seed: int, path: Path) -> Path:
    import matplotlib.pyplot as plt

    mixture = MIXTURES["ring8"]
    real, _ = mixture.sample(MODE_SAMPLES, seed)
    steps = history[FIX]["steps"]
    fig, axes = plt.subplots(len(snapshots), len(steps), figsize=(2.1 * len(steps), 2.2 * len(snapshots)))
    for row, (name, by_step) in enumerate(snapshots.items()):
        covered = dict(zip(history[name]["steps"], history[name]["covered"], strict=True))
        for col, step in enumerate(steps):
            ax = axes[row, col]
            ax.scatter(real[:, 0], real[:, 1], s=2, c="lightgrey")
            fake = by_step[step]
            ax.scatter(fake[:, 0], fake[:, 1], s=1, c="tab:blue", alpha=0.4)
            ax.scatter(mixture.means[:, 0], mixture.means[:, 1], s=18, c="tab:red", marker="x", lw=1)
            ax.set(xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), xticks=[], yticks=[], aspect="equal")
            ax.set_title(f"step {step}: {covered[step]}/8 modes", fontsize=8)
            if col == 0:
                ax.set_ylabel(name, fontsize=10)
    fig.suptitle("Ring of 8 Gaussians: generated points (blue) over the data (grey), mode centres (x)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


@LABS.register("mode-collapse")
def mode_collapse(out: Path, seed: int) -> LabResult:
    """Train each objective with genlab's trainer into ``out/runs/NAME`` and draw ``mode-collapse.png``."""
    history, snapshots = {}, {}
    for name, preset in OBJECTIVES.items():
        run_dir = out / "runs" / name
        _train(preset, run_dir, seed)
        history[name] = _modes_over_time(run_dir)
        snapshots[name] = _snapshots(run_dir, seed)
    figure = _figure(snapshots, history, seed, out / "mode-collapse.png")
    return LabResult(
        numbers={
            "objectives": OBJECTIVES,
            "fix": FIX,
            "steps": STEPS,
            "modes-over-time": history,
            "final_modes": {name: h["covered"][-1] for name, h in history.items()},
            "final_high_quality": {name: h["high_quality"][-1] for name, h in history.items()},
            "min_modes_after_first_snapshot": {name: min(h["covered"][1:]) for name, h in history.items()},
        },
        files=[figure],
    )
