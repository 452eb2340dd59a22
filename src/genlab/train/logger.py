"""Metric records: JSON lines (always) and TensorBoard events (when tensorboard is installed)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from genlab.errors import CheckpointError
from genlab.fileio import atomic_write, naming


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """All records of a ``metrics.jsonl`` file, in order.

    A cut-off last line (the disk filled up, or the machine went down, while it was written) is left out with a
    warning, and dropped from the file when the run resumes; a damaged line before it is a CheckpointError."""
    path = Path(path)
    if not path.is_file():
        return []
    text = path.read_text(errors="replace")
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    records = []
    for number, line in lines:
        record = _record(line)
        if record is not None:
            records.append(record)
        elif number == lines[-1][0]:
            warnings.warn(
                f"{path}, line {number} is cut off (an interrupted write) and left out; resuming the run removes it",
                stacklevel=2,
            )
        else:
            raise CheckpointError(
                f"{path}, line {number} is not a metrics record (JSON with a step): {line[:60]!r}; repair or delete "
                "that line"
            )
    return records


def _record(line: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) and "step" in record else None


class MetricsLog:
    """Appends records to ``metrics.jsonl``; on resume, first drops records past the resumed step.

    Those records describe training that the resumed run repeats, so keeping them would draw every curve twice.
    """

    def __init__(self, path: Path, tensorboard_dir: Path | None, resumed_step: int | None = None):
        if resumed_step is not None:
            kept = [r for r in read_metrics(path) if r["step"] <= resumed_step]
            with atomic_write(path, "w") as handle:
                handle.writelines(json.dumps(r) + "\n" for r in kept)
        self._path = path
        self._file = path.open("a")
        self._tb = None
        if tensorboard_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is an optional extra
                pass
            else:
                self._tb = SummaryWriter(str(tensorboard_dir), purge_step=resumed_step)

    def write(self, record: dict[str, Any]) -> None:
        """Append one record holding ``step``; records need not share keys (mode statistics come on their own)."""
        with naming(self._path):
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()
        if self._tb is not None:
            for key, value in record.items():
                number = isinstance(value, (int, float)) and not isinstance(value, bool)
                if key != "step" and number and math.isfinite(value):
                    self._tb.add_scalar(key, value, record["step"])

    def image(self, tag: str, grid: np.ndarray, step: int) -> None:
        """Add an (H, W, C) uint8 picture to TensorBoard."""
        if self._tb is not None:
            self._tb.add_image(tag, grid, step, dataformats="HWC")

    def close(self) -> None:
        with naming(self._path):  # flushes what a failed write left in the buffer, failing again
            self._file.close()
        if self._tb is not None:
            self._tb.close()

    def __enter__(self) -> MetricsLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
