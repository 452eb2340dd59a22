"""How large must the latent space be? The same GAN at z_dim 2, 8, 32 and 100 (seed 000).

The lecture says quality depends on the latent size: a generator can only spread a z_dim-dimensional sheet over
the data, so too few dimensions leave it unable to cover the variations of the digits (recall and the classes
fall), while beyond the data's own dimensionality extra ones cost little. genlab's trainer trains ``dcgan-mnist``
(16x16, width-32 networks, ``STEPS`` steps, the same seed) at each ``Z_DIMS`` value; the numbers are FID,
precision and recall (``EVAL_N`` samples, the MNIST classifier's features, against the test images) and the
classes the classifier reads: how many get at least ``MODE_SHARE`` of the samples, and the KL divergence of the
class histogram from uniform.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from genlab.images import enlarged_grid
from genlab.lab.base import LABS, LabResult, save_figure, scored_samples, trained_gan
from genlab.metrics import kl_divergence, load_classifier

PRESET = "dcgan-mnist"
Z_DIMS = (2, 8, 32, 100)
DATA = ["data.size=16", "model.generator.width=32", "model.discriminator.width=32"]
STEPS, EVAL_N, SHOWN = 1500, 2000, 36
MODE_SHARE = 0.01
CLASSES = 10


def class_modes(predicted: torch.Tensor) -> dict[str, float]:
    """Classes holding at least MODE_SHARE of the predictions, and KL(class histogram ‖ uniform) in nats."""
    counts = torch.bincount(predicted.cpu(), minlength=CLASSES).double()
    share = counts / counts.sum()
    return {"classes": int((share >= MODE_SHARE).sum()), "class_kl": kl_divergence(share, np.ones(CLASSES))}


def _figure(z_dims: list[int], scores: dict[int, dict], samples: dict[int, torch.Tensor], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 1 + len(z_dims), figsize=(3.3 * (1 + len(z_dims)), 3.5))
    curve = axes[0]
    curve.plot(z_dims, [scores[z]["fid"] for z in z_dims], "o-", color="C0", label="FID")
    curve.set(xscale="log", xlabel="z_dim", xticks=z_dims, xticklabels=[str(z) for z in z_dims])
    curve.set_ylabel("FID", color="C0")
    twin = curve.twinx()
    twin.plot(z_dims, [scores[z]["recall"] for z in z_dims], "s--", color="C3", label="recall")
    twin.plot(z_dims, [scores[z]["precision"] for z in z_dims], "^:", color="C2", label="precision")
    twin.set(ylim=(0, 1.05), ylabel="precision / recall")
    twin.legend(fontsize=7, loc="center right")
    for axis, z in zip(axes[1:], z_dims, strict=True):
        axis.imshow(enlarged_grid(samples[z][:SHOWN], nrow=6).squeeze(-1), cmap="gray")
        axis.set(xticks=[], yticks=[], title=f"z_dim {z}: FID {scores[z]['fid']:.1f}, {scores[z]['classes']} classes")
        axis.title.set_fontsize(8)
    fig.tight_layout()
    return save_figure(fig, path)


@LABS.register("latent-size")
def latent_size(out: Path, seed: int) -> LabResult:
    """Train the GAN at every z_dim into ``out/runs/z<N>``, score it and draw ``latent-size.png``."""
    scores, samples = {}, {}
    for z_dim in Z_DIMS:
        run = trained_gan(PRESET, out / "runs" / f"z{z_dim}", seed, STEPS, [*DATA, f"model.z_dim={z_dim}"])
        samples[z_dim], values = scored_samples(run, EVAL_N, seed, ("fid", "pr"))
        classifier = load_classifier(run.config.data.name, torch.device("cpu"))
        scores[z_dim] = values | class_modes(classifier.predict(samples[z_dim]))
    figure = _figure(list(Z_DIMS), scores, samples, out / "latent-size.png")
    return LabResult(
        numbers={"preset": PRESET, "steps": STEPS, "eval_n": EVAL_N, "scores": {str(z): s for z, s in scores.items()}},
        files=[figure],
    )
