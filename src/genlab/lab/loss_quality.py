"""Does the loss track quality? WGAN's critic estimate against the standard GAN's D loss (seed 002).

Arjovsky et al. (2017, figures 3 and 4) show that the WGAN critic's estimate of the Wasserstein distance,
E[D(x)] − E[D(G(z))], falls as the samples get better, while the standard GAN's discriminator loss says little
about them: the lecture's "the loss now correlates with generation quality". Here genlab's trainer trains
``wgan-gp-mnist`` and ``nonsaturating-mnist`` (MNIST at 16x16, width-32 networks, ``STEPS`` steps, the same seed)
with the evaluation suite running every ``EVERY`` steps (FID of ``EVAL_N`` samples with the MNIST classifier's
features). At each evaluation the loss is the logging interval's mean (``train.log_every = EVERY``): the critic's
estimate D(x) − D(G(z)) for WGAN-GP (its loss without the penalty, negated), D's loss for the standard GAN. The
numbers are Spearman's rank correlation of each against FID over the evaluations (scipy), and the same from the
second evaluation on, when the first steps' fast fall of everything no longer dominates the ranks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from genlab import keys
from genlab.lab.base import LABS, LabResult, save_figure, train_preset
from genlab.train import read_metrics

PRESETS = {"wgan-gp": "wgan-gp-mnist", "nonsaturating": "nonsaturating-mnist"}
DATA = ["data.size=16", "model.generator.width=32", "model.discriminator.width=32"]
STEPS, EVERY, EVAL_N = 1500, 100, 1000
FID = f"{keys.EVAL_PREFIX}fid"
LOSS_READ = {"wgan-gp": "critic estimate D(x) − D(G(z))", "nonsaturating": "D loss"}


def loss_curve(name: str, record: dict) -> float:
    """What the lab reads as ``name``'s loss in one interval record."""
    if name == "wgan-gp":
        return float(record[keys.D_REAL]) - float(record[keys.D_FAKE])
    return float(record[keys.D_LOSS])


def curves(name: str, run_dir: Path) -> dict[str, list[float]]:
    """Steps, FID and the loss at every evaluation of a run, from its metrics.jsonl."""
    records = read_metrics(run_dir / "metrics.jsonl")
    losses = {int(r[keys.STEP]): loss_curve(name, r) for r in records if keys.D_LOSS in r}
    evaluations = [(int(r[keys.STEP]), float(r[FID])) for r in records if FID in r]
    steps = [step for step, _ in evaluations if step in losses]
    fid = dict(evaluations)
    return {"steps": steps, "fid": [fid[s] for s in steps], "loss": [losses[s] for s in steps]}


def rank_correlation(a: list[float], b: list[float]) -> float:
    return float(spearmanr(a, b).statistic)


def _figure(found: dict[str, dict], path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(found), figsize=(5.2 * len(found), 3.6))
    for axis, (name, result) in zip(np.atleast_1d(axes), found.items(), strict=True):
        axis.plot(result["steps"], result["fid"], "o-", color="C0")
        axis.set(xlabel="step", title=f"{name}: Spearman ρ(loss, FID) = {result['spearman']:.2f}")
        axis.set_ylabel("FID", color="C0")
        twin = axis.twinx()
        twin.plot(result["steps"], result["loss"], "s--", color="C3")
        twin.set_ylabel(LOSS_READ[name], color="C3")
    fig.tight_layout()
    return save_figure(fig, path)


@LABS.register("loss-vs-quality")
def loss_vs_quality(out: Path, seed: int) -> LabResult:
    """Train both presets into ``out/runs/NAME`` with periodic evaluation and draw ``loss-vs-quality.png``."""
    schedule = [f"train.steps={STEPS}", f"train.log_every={EVERY}", "train.sample_every=0"]
    evaluation = [f"eval.every={EVERY}", f"eval.n={EVAL_N}", "eval.metrics=[fid]"]
    found = {}
    for name, preset in PRESETS.items():
        run_dir = out / "runs" / name
        train_preset(preset, run_dir, seed, [*DATA, *schedule, *evaluation])
        result = curves(name, run_dir)
        result["spearman"] = rank_correlation(result["loss"], result["fid"])
        result["spearman_after_first"] = rank_correlation(result["loss"][1:], result["fid"][1:])
        found[name] = result
    figure = _figure(found, out / "loss-vs-quality.png")
    return LabResult(
        numbers={"presets": PRESETS, "steps": STEPS, "every": EVERY, "eval_n": EVAL_N, "loss_read": LOSS_READ, **found},
        files=[figure],
    )
