"""When the Inception Score is fooled (seed 000): a set of one good image per class scores as high as real data.

IS = exp(E_x KL(p(y|x) ‖ p(y))) asks only that each sample be classified confidently and that the classes be
balanced; it never compares with real images, so it cannot see that a set holds ten images in all. FID and recall
compare with the real data and can. Five sets of the same size, scored with the shipped digits classifier (IS from
its class probabilities, FID and precision/recall on its features, against real training digits):

* ``real``: the held-out test digits;
* ``one per class``: one test digit of each class, tiled to the same size (the tiling keeps the classes balanced
  in every IS split);
* ``one class``: the real training digits of class 0 only (151, tiled), the single-mode collapse that IS does
  catch;
* ``gan``: ``dcgan-digits`` trained by genlab's trainer for ``STEPS`` steps;
* ``gan on 10 latents``: the same generator collapsed onto ten latent points, tiled.
"""

from __future__ import annotations

from pathlib import Path

import torch

from genlab.data import load_dataset
from genlab.images import enlarged_grid
from genlab.lab.base import LABS, LabResult, samples_of, save_figure, trained_gan
from genlab.metrics import EvalConfig, Evaluator

PRESET = "dcgan-digits"
STEPS = 1500
METRICS = ("is", "fid", "pr")
SHOWN = 20


def tiled(images: torch.Tensor, n: int) -> torch.Tensor:
    """``images`` repeated in turn (0, 1, ..., 0, 1, ...) to ``n`` images, so every consecutive chunk is balanced."""
    return images.repeat((n + len(images) - 1) // len(images), 1, 1, 1)[:n]


def _figure(sets: dict[str, torch.Tensor], scores: dict[str, dict[str, float]], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sets), figsize=(2.6 * len(sets), 3.2))
    for axis, (name, images) in zip(axes, sets.items(), strict=True):
        axis.imshow(enlarged_grid(images[:SHOWN], nrow=5).squeeze(-1), cmap="gray")
        values = scores[name]
        axis.set(xticks=[], yticks=[])
        axis.set_title(name, fontsize=9)
        axis.set_xlabel(
            f"IS {values['is']:.2f}   FID {values['fid']:.1f}\nprecision {values['precision']:.2f}   "
            f"recall {values['recall']:.2f}",
            fontsize=8,
        )
    fig.suptitle("Inception Score (digits classifier) beside FID and recall: which metric sees what", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


@LABS.register("is-fooled")
def is_fooled(out: Path, seed: int) -> LabResult:
    """Train the GAN into ``out/runs/gan``, score the five sets and draw ``is-fooled.png``."""
    run = trained_gan(PRESET, out / "runs" / "gan", seed, STEPS)
    data = run.config.data
    test = load_dataset(data.model_copy(update={"split": "test"}))
    train = load_dataset(data)
    n = len(test.images)
    first_of_each = torch.tensor([int((test.labels == label).nonzero()[0]) for label in range(10)])
    generated = samples_of(run, n, seed)
    sets = {
        "real": test.images,
        "one per class": tiled(test.images[first_of_each], n),
        "one class": tiled(train.images[train.labels == 0], n),
        "gan": generated,
        "gan on 10 latents": tiled(generated[:10], n),
    }
    evaluator = Evaluator(EvalConfig(metrics=METRICS, n=n), data, torch.device("cpu"))
    scores = {name: evaluator.evaluate(images).values for name, images in sets.items()}
    figure = _figure(sets, scores, out / "is-fooled.png")
    real_is = scores["real"]["is"]
    return LabResult(
        numbers={
            "preset": PRESET,
            "steps": STEPS,
            "samples_per_set": n,
            "distinct_images": {name: len(torch.unique(images.flatten(1), dim=0)) for name, images in sets.items()},
            "scores": scores,
            "is_relative_to_real": {name: values["is"] / real_is for name, values in scores.items()},
        },
        files=[figure],
    )
