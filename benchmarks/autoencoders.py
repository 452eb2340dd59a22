"""Test-set figures of the autoencoder family: denoising PSNR and super-resolution PSNR against their baselines.

    GENLAB_DATA=../shared/data genlab train dae-mnist --out runs/dae-gaussian
    GENLAB_DATA=../shared/data genlab train dae-mnist --set model.noise=salt-pepper --set model.noise_level=0.2 \\
        --out runs/dae-salt-pepper
    GENLAB_DATA=../shared/data genlab train dae-mnist --set model.noise=mask --set model.noise_level=0.5 \\
        --out runs/dae-mask
    GENLAB_DATA=../shared/data genlab train superres-mnist --out runs/superres
    GENLAB_DATA=../shared/data python benchmarks/autoencoders.py denoise runs/dae-gaussian runs/dae-salt-pepper \\
        runs/dae-mask
    GENLAB_DATA=../shared/data python benchmarks/autoencoders.py superres runs/superres

``denoise``: for each denoising-autoencoder run, the MNIST test images corrupted with the run's own noise (fixed
seed 0), and the mean PSNR of the noisy input and of the autoencoder's output against the clean image.
``superres``: mean test PSNR of the interpolation baseline and of the residual network. The likelihood of a VAE
run has its own command: ``genlab likelihood RUN``.
"""

from __future__ import annotations

import argparse

import torch

from genlab.data import load_dataset
from genlab.models.autoencoder import AutoEncoder, corrupt, psnr
from genlab.models.superres import SuperResolution
from genlab.runs import OpenRun, open_run


def test_split(run: OpenRun) -> torch.Tensor:
    """The run's data set's test images, at the run's size."""
    return load_dataset(run.config.data.model_copy(update={"split": "test"})).images


def denoise(paths: list[str]) -> None:
    print("| run | noise | level | noisy input PSNR (dB) | output PSNR (dB) | gain (dB) |")
    print("|---|---|---|---|---|---|")
    for path in paths:
        run = open_run(path, "cpu")
        if not isinstance(run.recipe, AutoEncoder) or run.recipe.cfg.noise == "none":
            raise SystemExit(f"{path} is not a denoising autoencoder run (model.noise is none)")
        cfg = run.recipe.cfg
        clean = test_split(run)
        noisy = corrupt(clean, cfg.noise, cfg.noise_level, torch.Generator().manual_seed(0))
        output = torch.cat([run.recipe.reconstruct(part) for part in noisy.split(1000)]).cpu()
        before, after = psnr(noisy, clean).mean().item(), psnr(output, clean).mean().item()
        print(f"| {path} | {cfg.noise} | {cfg.noise_level} | {before:.2f} | {after:.2f} | {after - before:+.2f} |")


def superres(paths: list[str]) -> None:
    print("| run | factor | baseline | baseline PSNR (dB) | network PSNR (dB) | gain (dB) |")
    print("|---|---|---|---|---|---|")
    for path in paths:
        run = open_run(path, "cpu")
        if not isinstance(run.recipe, SuperResolution):
            raise SystemExit(f"{path} is not a super-resolution run (model.recipe: superres)")
        scores = run.recipe.psnr_against_baseline(test_split(run))
        cfg = run.recipe.cfg
        base, model = scores["baseline_psnr"], scores["model_psnr"]
        print(f"| {path} | {cfg.factor} | {cfg.upsample} | {base:.2f} | {model:.2f} | {model - base:+.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["denoise", "superres"])
    parser.add_argument("runs", nargs="+", help="trained run folders")
    args = parser.parse_args()
    (denoise if args.what == "denoise" else superres)(args.runs)


if __name__ == "__main__":
    main()
