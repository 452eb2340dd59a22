"""Trials and the study index.

A trial is one model with one setting of its search space and one seed. Its id is the model's name and a short
hash of (model, setting, seed), e.g. ``wgan-gp-3f9c2a1b07``: the same trial gets the same id on every run, so its
folder DIR/trials/ID/ (an ordinary genlab run folder) and its index row are found again when a study is rerun.

DIR/trials.jsonl holds one JSON row per trial, rewritten atomically after every change::

    id, model, phase (1: search, 2: rerun of the best setting), values (the sampled setting), seed,
    status (running, done or failed), metric (its name), final (its value at the last evaluation),
    best (its best value over the evaluation points), metrics (every value of the last evaluation),
    evaluations (the number of evaluation points), steps, wall_time (seconds of the attempt that finished it),
    error (a failed trial's message), dir (the trial folder, relative to DIR), and on a trial that early stopping
    ended (``--backend ray`` with ``scheduler:``) stopped ("asha at step N": done, with the points it reached)
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genlab.errors import ConfigError, GenlabError
from genlab.fileio import atomic_write

INDEX = "trials.jsonl"
TRIALS = "trials"
STUDY_COPY = "study.yaml"
"""DIR/study.yaml: the study file the folder was run with, for the record (and the study page's metric)."""
RUNNING, DONE, FAILED = "running", "done", "failed"
FINISHED = (DONE, FAILED)
"""Statuses a rerun of the study skips (a failed trial fails again: its setting and seed are fixed)."""


@dataclass(frozen=True)
class TrialSpec:
    model: str
    values: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    phase: int = 1

    @property
    def id(self) -> str:
        key = json.dumps({"model": self.model, "values": self.values, "seed": self.seed}, sort_keys=True)
        return f"{self.model}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"

    def row(self, status: str = RUNNING) -> dict[str, Any]:
        """The trial's index row before it has results."""
        return {
            "id": self.id,
            "model": self.model,
            "phase": self.phase,
            "values": self.values,
            "seed": self.seed,
            "status": status,
            "metric": None,
            "final": None,
            "best": None,
            "metrics": {},
            "evaluations": 0,
            "steps": 0,
            "wall_time": None,
            "error": None,
            "dir": f"{TRIALS}/{self.id}",
        }


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities (no value: e.g. a reverse KL without high-quality samples) as None, so the
    index stays valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    return value


class Index:
    """The rows of DIR/trials.jsonl by trial id, in the order the trials were first planned."""

    def __init__(self, folder: str | Path):
        self.path = Path(folder) / INDEX
        self.rows: dict[str, dict[str, Any]] = {row["id"]: row for row in read_index(self.path)}

    def finished(self, trial: TrialSpec) -> bool:
        row = self.rows.get(trial.id)
        return row is not None and row["status"] in FINISHED

    def put(self, *rows: dict[str, Any]) -> None:
        for row in rows:
            self.rows[row["id"]] = finite(row)
        with atomic_write(self.path, "w") as handle:
            for row in self.rows.values():
                handle.write(json.dumps(row, allow_nan=False) + "\n")


def read_index(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a study index (none when the file does not exist yet)."""
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}, line {number} is not a JSON row ({exc}); restore or delete the file") from None
    return rows


def study_rows(folder: str | Path) -> list[dict[str, Any]]:
    """The rows of the study folder ``folder``'s index; an error saying how to make one when it has none."""
    rows = read_index(Path(folder) / INDEX)
    if not rows:
        raise GenlabError(f"{folder} holds no study index ({INDEX}); run `genlab study run STUDY.yaml --out {folder}`")
    return rows
