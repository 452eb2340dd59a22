"""TensorBoard events in RUN/tensorboard/ (``tensorboard --logdir RUN``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from genlab.train.rundir import RunDir
from genlab.train.sinks.base import Sink


class TensorBoardSink(Sink):
    """Scalars and pictures as TensorBoard events; the config as a text summary. A resumed run purges the events
    past its checkpoint, which it writes again."""

    name = "tensorboard"
    packages = ("tensorboard",)

    def __init__(self, run: RunDir, resumed_step: int | None) -> None:
        from torch.utils.tensorboard import SummaryWriter

        # Events at purge_step and later are hidden: the first step the resumed run logs again.
        purge_step = None if resumed_step is None else resumed_step + 1
        self._writer = SummaryWriter(str(run.tensorboard_dir), purge_step=purge_step)

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        for key, value in values.items():
            self._writer.add_scalar(key, value, step)

    def image(self, tag: str, grid: np.ndarray, step: int) -> None:
        self._writer.add_image(tag, grid, step, dataformats="HWC")

    def config(self, config: Mapping[str, Any]) -> None:
        indented = "\n".join("    " + line for line in json.dumps(config, indent=2).splitlines())  # Markdown code
        self._writer.add_text("config", indented)

    def close(self) -> None:
        self._writer.close()
