"""Metric records: JSON lines in RUN/metrics.jsonl (always), and the same to every sink of train.loggers
(TensorBoard, W&B, MLflow; see :mod:`genlab.train.sinks`)."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genlab.errors import CheckpointError
from genlab.fileio import atomic_write, naming
from genlab.train.rundir import RunDir
from genlab.train.sinks import Sink, SinkOpener


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
    """Appends records to the run's ``metrics.jsonl`` and sends their finite numbers, the pictures and the config
    to the sinks it opens; on resume, first drops records past the resumed step.

    Those records describe training that the resumed run repeats, so keeping them would draw every curve twice.
    """

    def __init__(self, run: RunDir, resumed_step: int | None = None, sinks: Sequence[SinkOpener] = ()):
        path = run.metrics_path
        if resumed_step is not None:
            kept = [r for r in read_metrics(path) if r["step"] <= resumed_step]
            with atomic_write(path, "w") as handle:
                handle.writelines(json.dumps(r) + "\n" for r in kept)
        self._path = path
        self._file = path.open("a")
        self._sinks: list[Sink] = []
        try:
            for open_sink in sinks:
                self._sinks.append(open_sink(run, resumed_step))
        except BaseException:
            self.close()
            raise

    def write(self, record: dict[str, Any]) -> None:
        """Append one record holding ``step``; records need not share keys (mode statistics come on their own)."""
        with naming(self._path):
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()
        values = scalars(record)
        if values:
            for sink in self._sinks:
                sink.scalars(values, record["step"])

    def image(self, tag: str, grid: np.ndarray, step: int) -> None:
        """Send an (H, W, C) uint8 picture to the sinks."""
        for sink in self._sinks:
            sink.image(tag, grid, step)

    def config(self, config: Mapping[str, Any]) -> None:
        """Send the run's config (a nested mapping, as config.yaml holds it) to the sinks."""
        for sink in self._sinks:
            sink.config(config)

    def close(self) -> None:
        try:
            with naming(self._path):  # flushes what a failed write left in the buffer, failing again
                self._file.close()
        finally:
            for sink in self._sinks:
                sink.close()

    def __enter__(self) -> MetricsLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def scalars(record: Mapping[str, Any]) -> dict[str, float]:
    """The finite numbers of a record but its step: what every sink records (findings' texts stay in the file)."""
    return {
        key: value
        for key, value in record.items()
        if key != "step" and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    }
