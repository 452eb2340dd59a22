"""The Laplacian-pyramid GAN against DCGAN on MNIST at the same budget: FID, wall time and seconds per step.

    GENLAB_DATA=../shared/data nice -n 10 python benchmarks/laplacian.py --steps 600 --width 32 --seeds 0

Trains ``laplacian-mnist`` (8x8 DCGAN + two residual levels, a discriminator per level) and ``dcgan-mnist`` one
after the other, each for ``--steps`` steps of the configs' batch of 64 from ``seed``, with every network's width set
to ``--width`` (the presets' 64 is too slow for a short CPU run) and nothing else in the loop (no sample grids,
evaluation or doctor), so the trainer's ``elapsed`` is training time. Each final model is scored with the
evaluation suite (FID in the shipped MNIST classifier's feature space, ``--n`` samples of the fixed evaluation seed
against the training images). Prints a Markdown table and writes OUT/results.json.

    GENLAB_DATA=../shared/data python benchmarks/laplacian.py --levels runs/laplacian-benchmark/laplacian-mnist-seed0 \
        --figure benchmarks/figures/laplacian-mnist-levels.png

scores what each level of a trained laplacian run adds: the FID of every level's samples enlarged to full size by
u(·) alone (the same latents), and of the real test images' Gaussian pyramid enlarged the same way (the blur's
floor); ``--figure`` draws 16 of those samples at every level.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import torch.nn.functional as F

import genlab
from genlab.data import load_dataset
from genlab.images import enlarged_grid, save_png
from genlab.metrics import EvalConfig, Evaluator
from genlab.metrics.reference import real_subset
from genlab.nets.pyramid import gaussian_pyramid, up
from genlab.runs import open_run
from genlab.train.evaluation import evaluate_recipe

ARMS = {
    "laplacian-mnist": ("model.coarse.width", "model.residual.width", "model.discriminator.width"),
    "dcgan-mnist": ("model.generator.width", "model.discriminator.width"),
}


def run_arm(arm: str, seed: int, args: argparse.Namespace) -> dict[str, float]:
    overrides = [
        f"seed={seed}",
        "device=cpu",
        f"train.steps={args.steps}",
        "train.sample_every=0",
        f"train.checkpoint_every={args.steps}",
        "train.report=false",
        "train.progress=false",
        "doctor.enabled=false",
        *(f"{key}={args.width}" for key in ARMS[arm]),
    ]
    result = genlab.fit(genlab.load_config(arm, overrides), out=Path(args.out) / f"{arm}-seed{seed}")
    run = open_run(result.run_dir, "cpu")
    evaluator = Evaluator(EvalConfig(n=args.n, metrics=("fid",)), run.config.data, run.recipe.device)
    fid = evaluate_recipe(evaluator, run.recipe)[0].values["fid"]
    row = {"arm": arm, "seed": seed, "seconds": result.elapsed, "s_per_step": result.elapsed / args.steps, "fid": fid}
    print(json.dumps(row), flush=True)
    return row


def enlarged(images: torch.Tensor, side: int) -> torch.Tensor:
    while images.shape[-1] < side:
        images = up(images)
    return images


def level_figure(fakes: list[torch.Tensor], path: Path) -> None:
    """16 samples as 8 rows of two groups, each group the sample at every level (nearest-neighbour enlarged)."""
    side = fakes[-1].shape[-1]
    columns = [F.interpolate(images[:16], size=side, mode="nearest") for images in fakes]
    tiles = torch.stack(columns, dim=1).reshape(8, 2 * len(fakes), *columns[0].shape[1:])
    save_png(enlarged_grid(tiles.flatten(0, 1), nrow=2 * len(fakes)), path)
    print(f"wrote {path}")


def score_levels(run_dir: Path, n: int, figure: Path | None) -> None:
    """FID of every level's samples and of the real test images' Gaussian pyramid levels, each enlarged to full
    size (against the training images, as every FID here)."""
    run = open_run(run_dir, "cpu")
    cfg = EvalConfig(n=n, metrics=("fid",))
    evaluator = Evaluator(cfg, run.config.data, run.recipe.device)
    z = run.recipe.latents(n, generator=torch.Generator().manual_seed(cfg.seed))
    fakes = [torch.cat(parts) for parts in zip(*(run.recipe.level_samples(c) for c in z.split(256)), strict=True)]
    real = real_subset(load_dataset(run.config.data.model_copy(update={"split": "test"})), n)[0]
    if figure is not None:
        level_figure(fakes, figure)
    side = fakes[-1].shape[-1]
    print(f"| level | side | FID of samples enlarged to {side}x{side} |\n|---|---|---|")
    for k, images in enumerate(fakes):
        fid = evaluator.evaluate(enlarged(images, side)).values["fid"]
        print(f"| {k} | {images.shape[-1]} | {fid:.1f} |")
    for k, images in enumerate(gaussian_pyramid(real, len(fakes))):
        print(
            f"real test images, level {k} enlarged: FID {evaluator.evaluate(enlarged(images, side)).values['fid']:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--width", type=int, default=32, help="every network's width (default 32)")
    parser.add_argument("--n", type=int, default=2000, help="samples per FID (default 2000)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", default="runs/laplacian-benchmark")
    parser.add_argument("--levels", metavar="RUN_DIR", help="score the levels of this laplacian run instead")
    parser.add_argument("--figure", metavar="PNG", help="with --levels: also draw 16 samples at every level")
    args = parser.parse_args()
    torch.set_num_threads(1)  # one thread per process: the figures stay comparable on a shared machine
    if args.levels:
        score_levels(Path(args.levels), args.n, Path(args.figure) if args.figure else None)
        return
    rows = [run_arm(arm, seed, args) for seed in args.seeds for arm in ARMS]
    print("\n| arm | seed | training seconds | s/step | FID |\n|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['arm']} | {row['seed']} | {row['seconds']:.0f} | {row['s_per_step']:.3f} | {row['fid']:.1f} |")
    for seed in args.seeds:
        lap, dc = (next(r for r in rows if r["arm"] == arm and r["seed"] == seed) for arm in ARMS)
        print(f"seed {seed}: laplacian is {lap['s_per_step'] / dc['s_per_step']:.2f}x slower per step")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "results.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
