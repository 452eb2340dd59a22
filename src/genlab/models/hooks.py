"""The periodic actions recipes contribute to the trainer (``Recipe.hooks``): pictures of what a model does to
fixed real images, and the mode statistics of a generator trained on a 2-D mixture."""

from __future__ import annotations

from collections.abc import Callable

import torch

from genlab import keys
from genlab.data import TrainingSet
from genlab.data.toy import Mixture
from genlab.hooks import Hook, Moment
from genlab.images import enlarged_grid, save_png
from genlab.metrics.modes import MODE_SAMPLES, mode_stats
from genlab.metrics.reference import real_subset

PREVIEW_COLUMNS = 4
"""Input | output groups per row of a preview grid (as many rows)."""

Sample = Callable[..., torch.Tensor]
"""A recipe's ``sample(n, *, generator=...)``."""


class PreviewGrid(Hook):
    """Every ``every`` steps, a grid of 16 fixed real images of ``data`` each beside the model's
    outputs for it (its reconstruction; for a translator, the translation and the round trip), as
    samples/NAME-STEP.png and to the train.loggers backends under NAME. Without ``with_images`` the
    ``columns`` alone are shown (a paired translator's: input | output | target of each stacked pair)."""

    def __init__(
        self,
        data: TrainingSet,
        device: torch.device,
        columns: Callable[[torch.Tensor], list[torch.Tensor]],
        name: str,
        every: int,
        with_images: bool = True,
    ):
        self.images = real_subset(data, PREVIEW_COLUMNS**2)[0].to(device)
        self.columns, self.name, self.every, self.with_images = columns, name, every, with_images

    def __call__(self, moment: Moment) -> None:
        columns = [self.images] if self.with_images else []
        columns += [out.to(self.images) for out in self.columns(self.images)]
        channels = max(c.shape[1] for c in columns)  # a grey domain beside a colour one is shown in colour
        rows = torch.stack([c.expand(-1, channels, -1, -1) for c in columns], dim=1)
        picture = enlarged_grid(rows.flatten(0, 1), nrow=len(columns) * PREVIEW_COLUMNS)  # input | outputs
        save_png(picture, moment.samples_dir / f"{self.name}-{moment.step:08d}.png")
        moment.log.image(self.name, picture, moment.step)


class ModeStatistics(Hook):
    """Every ``every`` steps, the modes covered, the high-quality share and the reverse KL of 2,500 generated
    points (latent seed ``seed``) against the ``mixture`` the run trains on, as a record of their own. The sample
    pictures draw the same points from the same seed, so the scatter plot shows what the statistics describe."""

    def __init__(self, sample: Sample, mixture: Mixture, every: int, seed: int):
        self.sample, self.mixture, self.every, self.seed = sample, mixture, every, seed

    def __call__(self, moment: Moment) -> None:
        points = self.sample(MODE_SAMPLES, generator=torch.Generator().manual_seed(self.seed))
        stats = mode_stats(points, self.mixture)
        moment.log.write(
            {
                keys.STEP: moment.step,
                keys.MODES_COVERED: stats.modes_covered,
                keys.MODES_HIGH_QUALITY: stats.high_quality,
                keys.MODES_REVERSE_KL: stats.reverse_kl,
            }
        )
