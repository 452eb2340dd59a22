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
``superres``: mean test PSNR of the interpolation baseline and of the residual network; the FID of each against the
original test images (the run's evaluation features), which rewards outputs that look like digits rather than
outputs that average pixel errors away; and sharpness, the mean absolute Laplacian of the outputs over that of the
originals (1 = as much fine detail as real digits, below 1 = blurrier). SRGAN runs (``loss: perceptual`` and an
``adversary``) are compared with plain ones this way:

    GENLAB_DATA=../shared/data genlab train superres-mnist --set data.size=32 --out runs/superres32
    GENLAB_DATA=../shared/data genlab train srgan-mnist --out runs/srgan
    GENLAB_DATA=../shared/data python benchmarks/autoencoders.py superres runs/superres32 runs/srgan

The likelihood of a VAE run has its own command: ``genlab likelihood RUN``.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from genlab.data import load_dataset
from genlab.metrics.features import make_extractor
from genlab.metrics.frechet import fid_from_features
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


LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)


def fine_detail(images: torch.Tensor) -> float:
    """Mean absolute Laplacian (per channel): how much pixel-scale structure the images hold."""
    channels = images.shape[1]
    return F.conv2d(images, LAPLACIAN.repeat(channels, 1, 1, 1), groups=channels).abs().mean().item()


def superres(paths: list[str]) -> None:
    print(
        "| run | content loss | adversary | baseline PSNR (dB) | network PSNR (dB) | baseline FID | network FID "
        "| baseline sharpness | network sharpness |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        run = open_run(path, "cpu")
        if not isinstance(run.recipe, SuperResolution):
            raise SystemExit(f"{path} is not a super-resolution run (model.recipe: superres)")
        recipe, cfg = run.recipe, run.recipe.cfg
        originals = test_split(run)
        scores = recipe.psnr_against_baseline(originals)
        baseline = torch.cat([recipe.enlarged_low_res(part) for part in originals.split(1000)])
        output = torch.cat([recipe.reconstruct(part) for part in originals.split(1000)])
        extractor = make_extractor(run.config.eval.features, run.config.data.name)
        real = extractor(originals).features
        fid = [fid_from_features(real, extractor(images).features) for images in (baseline, output)]
        detail = [fine_detail(images) / fine_detail(originals) for images in (baseline, output)]
        adversary = "none" if cfg.adversary is None else f"{cfg.adversary.objective.name} x {cfg.adversary.weight:g}"
        print(
            f"| {path} | {cfg.loss} | {adversary} | {scores['baseline_psnr']:.2f} | {scores['model_psnr']:.2f} "
            f"| {fid[0]:.2f} | {fid[1]:.2f} | {detail[0]:.2f} | {detail[1]:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["denoise", "superres"])
    parser.add_argument("runs", nargs="+", help="trained run folders")
    args = parser.parse_args()
    (denoise if args.what == "denoise" else superres)(args.runs)


if __name__ == "__main__":
    main()
