"""What BatchNorm does for a DCGAN, and why WGAN needs it less (seed 002; Arjovsky et al. 2017, figure 6).

The WGAN paper trained a DCGAN generator without batch normalisation: with the standard GAN's loss it failed to
produce anything useful, with the Wasserstein loss it still learned. Here genlab's trainer trains three arms for the
same number of generator steps from the same seed, MNIST at 16x16 with width-32 networks:

* ``dcgan``: ``dcgan-mnist`` as it ships, BatchNorm in G and D;
* ``dcgan, no BatchNorm``: the same with ``generator.g_norm: none`` and ``discriminator.d_norm: none``;
* ``wgan-gp, no BatchNorm``: ``wgan-gp-mnist`` (five critic steps per G step, as it ships) on that same
  architecture without any normalisation.

The numbers are each arm's FID (``EVAL_N`` samples, the MNIST classifier's features, against the test images)
after ``STEPS`` steps; the figure shows their samples side by side.
"""

from __future__ import annotations

from pathlib import Path

import torch

from genlab.images import enlarged_grid
from genlab.lab.base import LABS, LabResult, save_figure, scored_samples, trained_gan

NO_NORM = ["model.generator.g_norm=none", "model.discriminator.d_norm=none"]
ARMS = {
    "dcgan": ("dcgan-mnist", []),
    "dcgan, no BatchNorm": ("dcgan-mnist", NO_NORM),
    "wgan-gp, no BatchNorm": ("wgan-gp-mnist", NO_NORM),
}
DATA = ["data.size=16", "model.generator.width=32", "model.discriminator.width=32"]
STEPS, EVAL_N, SHOWN = 1500, 2000, 36


def _figure(samples: dict[str, torch.Tensor], fid: dict[str, float], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(samples), figsize=(3.4 * len(samples), 3.8))
    for axis, (name, images) in zip(axes, samples.items(), strict=True):
        axis.imshow(enlarged_grid(images[:SHOWN], nrow=6).squeeze(-1), cmap="gray")
        axis.set(xticks=[], yticks=[], title=f"{name}\nFID {fid[name]:.1f}")
    fig.suptitle(f"{STEPS} generator steps each, same seed", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    return save_figure(fig, path)


@LABS.register("batchnorm")
def batchnorm(out: Path, seed: int) -> LabResult:
    """Train the three arms into ``out/runs/ARM``, score them and draw ``batchnorm.png``."""
    fid, samples = {}, {}
    for name, (preset, overrides) in ARMS.items():
        folder = out / "runs" / name.replace(", ", "-").replace(" ", "-").lower()
        run = trained_gan(preset, folder, seed, STEPS, [*DATA, *overrides])
        samples[name], values = scored_samples(run, EVAL_N, seed, ("fid",))
        fid[name] = values["fid"]
    figure = _figure(samples, fid, out / "batchnorm.png")
    numbers = {"arms": {name: {"preset": p, "overrides": o} for name, (p, o) in ARMS.items()}, "steps": STEPS}
    return LabResult(numbers={**numbers, "eval_n": EVAL_N, "fid": fid}, files=[figure])
