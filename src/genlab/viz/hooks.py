"""The trainer's hooks that draw: sample pictures over training, and the run's curves and report when it stops."""

from __future__ import annotations

from collections.abc import Callable

import torch

from genlab.hooks import Hook, Moment
from genlab.images import save_png
from genlab.viz.curves import plot_curves
from genlab.viz.report import write_report
from genlab.viz.samples import render_samples


class SamplePictures(Hook):
    """Every ``every`` steps, after the last and at the end of every stage: ``n`` samples of a fixed latent seed as
    samples/step-STEP.png (and samples/STAGE.png at a stage's end) and to the train.loggers backends under "samples".
    2-D points are drawn over the grey ``reference`` points, which fix the axes so the frames of a run compare."""

    at_stages = True

    def __init__(
        self,
        sample: Callable[..., torch.Tensor],
        n: int,
        every: int,
        seed: int,
        reference: torch.Tensor | None = None,
    ):
        self.sample, self.n, self.every, self.seed, self.reference = sample, n, every, seed, reference

    def __call__(self, moment: Moment) -> None:
        samples = self.sample(self.n, generator=torch.Generator().manual_seed(self.seed))
        picture = render_samples(samples, self.reference)
        save_png(picture, moment.samples_dir / f"step-{moment.step:08d}.png")
        if moment.stage is not None:
            save_png(picture, moment.samples_dir / f"{moment.stage}.png")
        moment.log.image("samples", picture, moment.step)


class RunReport(Hook):
    """When training stops, for whatever reason (also an interruption, a divergence or a doctor's stop): the loss
    curves as RUN_DIR/curves.png and the run's page RUN_DIR/report.html."""

    def finish(self, moment: Moment) -> None:
        plot_curves(moment.run_dir / "metrics.jsonl", moment.run_dir / "curves.png")
        write_report(moment.run_dir)
