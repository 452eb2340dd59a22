"""Do GANs learn the distribution? The birthday-paradox test (Arora, Risteski and Zhang 2018, seed 002) on digits.

A GAN whose batches of s samples hold a near-duplicate pair half of the time has a support of only about
s²/(2 ln 2) images (:mod:`genlab.metrics.support`). Three sources of the same number of 16x16 digit images are
put through the test, in the shipped digits classifier's feature space, with one near-duplicate distance τ taken
from the real data (the 1st percentile of test images' distances to their nearest training image):

* ``real``: the training images themselves, distinct images of a distribution whose support is far larger;
* ``gan``: ``dcgan-digits`` trained by genlab's trainer for ``STEPS`` steps;
* ``copies``: draws from ``COPIED`` training images, a memorising generator whose support is known, which checks
  that the test reads off the right size.

The estimates depend on τ; the JSON also gives them at 2τ.

The figure shows the duplicate probability against the batch size for the three, with the birthday curve of each
pair-count estimate, and the GAN's closest pairs, which a person should look at before trusting the number: the
paper's authors judged them by eye.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from genlab.data import load_dataset
from genlab.images import enlarged_grid
from genlab.lab.base import LABS, LabResult, samples_of, save_figure, trained_gan
from genlab.metrics import EvalConfig, Evaluator
from genlab.metrics.support import SupportEstimate, closest_pool_pairs, duplicate_threshold, support_size

PRESET = "dcgan-digits"
STEPS = 1500
"""The preset's own length: about half a minute on 2 cores."""
COPIED = 40
"""Distinct training images the copying generator draws from."""
PAIRS_SHOWN = 8


def _figure(estimates: dict[str, SupportEstimate], pairs: torch.Tensor, distances: np.ndarray, tau: float, path: Path):
    import matplotlib.pyplot as plt

    fig, (curve, shown) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.3, 1]})
    for index, (name, estimate) in enumerate(estimates.items()):
        sizes = sorted(estimate.batch_probabilities)
        colour = f"C{index}"
        curve.plot(sizes, [estimate.batch_probabilities[s] for s in sizes], "o", color=colour)
        smooth = np.geomspace(2, max(sizes) * 2, 100)
        bound = "≥ " if estimate.lower_bound else ""
        label = f"{name}: N ≈ {bound}{estimate.pairs:,.0f} (pairs), {estimate.batch:,.0f} (batches)"
        curve.plot(smooth, 1 - np.exp(-smooth * (smooth - 1) / (2 * estimate.pairs)), "--", color=colour, label=label)
    curve.axhline(0.5, color="grey", lw=0.8, ls=":")
    curve.set(xscale="log", xlabel="batch size s", ylabel="P(batch holds a near-duplicate pair)", ylim=(-0.03, 1.03))
    curve.set_title(f"Birthday test (τ = {tau:.3g}); dashed: 1 − exp(−s(s−1)/2N)", fontsize=9)
    curve.legend(fontsize=7, loc="upper left")
    grid = enlarged_grid(pairs, nrow=2)
    scale = grid.shape[0] // (len(distances) * (pairs.shape[-2] + 2) + 2)  # the enlargement of 2 px padding
    row = (pairs.shape[-2] + 2) * scale
    shown.imshow(grid.squeeze(-1), cmap="gray")
    shown.set(xticks=[], yticks=[2 * scale + row * i + row / 2 for i in range(len(distances))])
    shown.set_yticklabels([f"d = {d:.2f}" for d in distances], fontsize=8)
    shown.set_title(f"the GAN's {len(distances)} closest pairs", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


@LABS.register("birthday")
def birthday(out: Path, seed: int) -> LabResult:
    """Train the GAN into ``out/runs/gan``, estimate the three supports and draw ``birthday.png``."""
    run = trained_gan(PRESET, out / "runs" / "gan", seed, STEPS)
    train_images = load_dataset(run.config.data).images
    evaluator = Evaluator(EvalConfig(metrics=("support",)), run.config.data, torch.device("cpu"))
    n = len(train_images)
    tau = duplicate_threshold(
        evaluator.reference("train").extracted.features, evaluator.reference("test").extracted.features
    )
    generated = samples_of(run, n, seed)
    copies = train_images[torch.randint(0, COPIED, (n,), generator=torch.Generator().manual_seed(seed))]
    sources = {"real": train_images, "gan": generated, "copies": copies}
    features = {name: evaluator.extractor(images).features for name, images in sources.items()}
    estimates = {name: support_size(f, tau, seed=seed) for name, f in features.items()}
    doubled = {name: support_size(f, 2 * tau, seed=seed).as_values() for name, f in features.items()}
    pair_index, distances = closest_pool_pairs(features["gan"], k=PAIRS_SHOWN)
    pairs = generated[torch.from_numpy(pair_index).flatten()]
    figure = _figure(estimates, pairs, distances, tau, out / "birthday.png")
    return LabResult(
        numbers={
            "preset": PRESET,
            "steps": STEPS,
            "samples_per_source": n,
            "copied_images": COPIED,
            "threshold": tau,
            "support": {
                name: estimate.as_values()
                | {"batch_probabilities": {str(s): p for s, p in estimate.batch_probabilities.items()}}
                for name, estimate in estimates.items()
            },
            "support_at_twice_the_threshold": doubled,
            "gan_closest_pairs": {"pairs": pair_index.tolist(), "distances": distances.tolist()},
            "gan_vs_real_support": estimates["gan"].pairs / estimates["real"].pairs,
            "birthday_half_batch": {name: math.sqrt(2 * math.log(2) * e.pairs) for name, e in estimates.items()},
        },
        files=[figure],
    )
