"""Vector arithmetic in z against the same arithmetic on pixels (seed 002: the baseline z-arithmetic beats).

For ``TRIALS`` ordered pairs of classes (i, j), drawn from the seed, "thick i − thin i + thin j" (the queries
``class=i,ink=high``, ``class=i,ink=low``, ``class=j,ink=low``, ``MEMBERS`` samples per group) should give a
thick j. ``genlab arithmetic`` computes it on a GAN trained by genlab's trainer three ways: as G(mean z_a −
mean z_b + mean z_c) (``z``, the DCGAN paper's recipe); the same with every mean brought back to the latents'
typical norm before decoding (``z_rescaled``: a mean of 8 Gaussian latents is √8 times shorter than the points G
was trained on); and as mean(G(a)) − mean(G(b)) + mean(G(c)) on the members' images (``pixel``). The classifier
reads each result (class j kept? confidence), and its realism score (Kynkäänniemi et al. 2019, in the
classifier's features against real test images: at least 1 inside the real manifold) says whether it looks like
a digit at all: a pixel result overlays the strokes of 24 images, which a classifier may still read confidently.
"""

from __future__ import annotations

import random
import statistics
from pathlib import Path

from genlab.errors import GenlabError
from genlab.lab.base import LABS, LabResult, save_figure, trained_gan
from genlab.latent.explore import arithmetic

PRESET = "dcgan-mnist"
DATA = ["data.size=16", "model.generator.width=32", "model.discriminator.width=32"]
STEPS, TRIALS, MEMBERS, LABELLED = 1500, 12, 8, 2000
SPACES = {"z": (False, "result"), "z_rescaled": (True, "result"), "pixel": (False, "pixel_result")}
"""Each way of doing the arithmetic: ``genlab arithmetic``'s ``rescale`` and the prefix of its numbers."""
READ = ("class", "confidence", "realism", "ink")


def class_pairs(count: int, seed: int) -> list[tuple[int, int]]:
    """``count`` distinct ordered pairs (i, j), i ≠ j, of the ten classes in an order fixed by ``seed``."""
    pairs = [(i, j) for i in range(10) for j in range(10) if i != j]
    random.Random(seed).shuffle(pairs)
    return pairs[:count]


def summary(trials: list[dict]) -> dict[str, dict[str, float]]:
    """Per space: the share of results read as class j, thicker than G(mean c) and realistic (score ≥ 1), and the
    mean confidence and median realism score."""
    found = {}
    for space in SPACES:
        found[space] = {
            "class_kept": statistics.mean(t[f"{space}_class"] == t["to"] for t in trials),
            "thicker": statistics.mean(t[f"{space}_ink"] > t[f"{space}_mean_c_ink"] for t in trials),
            "realistic": statistics.mean(t[f"{space}_realism"] >= 1 for t in trials),
            "confidence": statistics.mean(t[f"{space}_confidence"] for t in trials),
            "median_realism": statistics.median(t[f"{space}_realism"] for t in trials),
        }
    return found


def _figure(example: Path, trials: list[dict], path: Path) -> Path:
    import matplotlib.pyplot as plt
    from PIL import Image

    fig, (grid, scatter) = plt.subplots(1, 2, figsize=(10, 4.6), gridspec_kw={"width_ratios": [1.1, 1]})
    with Image.open(example) as image:
        grid.imshow(image.convert("L"), cmap="gray")
    first = trials[0]
    grid.set(xticks=[], yticks=[])
    grid.set_title(
        f"thick {first['from']} − thin {first['from']} + thin {first['to']}: rows a, b, c (G of the mean last),\n"
        "the z result with neighbours, the pixel result (z_rescaled: arithmetic/*-rescaled.png)",
        fontsize=8,
    )
    for space, marker in zip(SPACES, "o^x", strict=True):
        kept = [t[f"{space}_class"] == t["to"] for t in trials]
        scatter.scatter(
            [t[f"{space}_confidence"] for t in trials],
            [t[f"{space}_realism"] for t in trials],
            marker=marker,
            c=["C2" if k else "C3" for k in kept],
            label=f"{space} ({sum(kept)}/{len(kept)} read as j)",
        )
    scatter.axhline(1.0, color="0.5", lw=0.8, ls="--")
    scatter.set(xlabel="classifier confidence", ylabel="realism score (≥ 1: on the real manifold)")
    scatter.set_title("green: read as class j, red: not", fontsize=8)
    scatter.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


@LABS.register("pixel-arithmetic")
def pixel_arithmetic(out: Path, seed: int) -> LabResult:
    """Train the GAN into ``out/runs/gan``, run the trials (figures in ``out/arithmetic/``), draw the summary."""
    run_dir = out / "runs" / "gan"
    trained_gan(PRESET, run_dir, seed, STEPS, DATA)
    trials, skipped = [], []
    for i, j in class_pairs(TRIALS, seed):
        queries = (f"class={i},ink=high", f"class={i},ink=low", f"class={j},ink=low")
        figures = {flag: out / "arithmetic" / f"{i}-to-{j}{'-rescaled' if flag else ''}.png" for flag in (False, True)}
        try:
            found = {
                flag: arithmetic(
                    run_dir, *queries, n=LABELLED, members=MEMBERS, seed=seed, rescale=flag, device="cpu", out=path
                ).numbers
                for flag, path in figures.items()
            }
        except GenlabError as error:  # a class the generator never draws: nothing to average
            skipped.append({"from": i, "to": j, "why": str(error)})
            continue
        row: dict[str, object] = {"from": i, "to": j, "figures": [str(path) for path in figures.values()]}
        for space, (flag, prefix) in SPACES.items():
            row.update({f"{space}_{key}": found[flag][f"{prefix}_{key}"] for key in READ})
            row[f"{space}_mean_c_ink"] = found[flag]["mean_c_ink"]
        trials.append(row)
    if not trials:
        raise GenlabError(f"no arithmetic trial could run: {skipped[0]['why']}")
    example = Path(trials[0]["figures"][0])
    return LabResult(
        numbers={
            "preset": PRESET,
            "steps": STEPS,
            "members": MEMBERS,
            "labelled": LABELLED,
            "summary": summary(trials),
            "trials": trials,
            "skipped": skipped,
        },
        files=[_figure(example, trials, out / "pixel-arithmetic.png"), example],
    )
