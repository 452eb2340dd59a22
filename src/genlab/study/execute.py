"""One trial, as a user would run it: ``genlab.fit`` into the trial folder (``genlab.resume`` when an interrupted
attempt left a checkpoint there), then its scores from the evaluation records the run wrote.

This is the function every backend calls, in a worker process or in the study's own. A trial that fails (a
sampled value the config refuses, a loss that became NaN, any other exception) comes back as a failed row with
its message; only an interruption (Ctrl-C, SIGTERM: the trainer saved a checkpoint) propagates, so that the trial
stays ``running`` in the index and a rerun resumes it.
"""

from __future__ import annotations

import copy
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genlab import api, keys
from genlab.config import assign
from genlab.errors import GenlabError, TrainingInterrupted, one_line
from genlab.study.trials import DONE, FAILED, TrialSpec
from genlab.train import RunDir, read_metrics

LIKELIHOOD = "nll"


@dataclass(frozen=True)
class Task:
    """What a worker needs to run one trial (picklable: it crosses to spawned processes and cluster nodes)."""

    trial: TrialSpec
    config: dict[str, Any]
    """The model's raw config; the trial's values and seed are set on it when the trial runs."""
    folder: str
    metric: str
    mode: str
    likelihood: tuple[int, int | None] = (100, 1000)
    """metric nll: importance samples k and test images n."""


def run_trial(task: Task) -> dict[str, Any]:
    """Train and score one trial; returns its index row (done or failed)."""
    start = time.perf_counter()
    row = task.trial.row() | {"metric": task.metric}
    try:
        result = _train(task)
        scores = _scores(task, Path(result.run_dir))
        row |= {"status": DONE, "steps": result.step} | scores
    except (TrainingInterrupted, KeyboardInterrupt):
        raise
    except GenlabError as exc:
        row |= {"status": FAILED, "error": str(exc)}
    except Exception as exc:  # a crash of one trial must not stop the study: record it, with its type
        row |= {"status": FAILED, "error": one_line(exc, 600)}
    return row | {"wall_time": round(time.perf_counter() - start, 2)}


def trial_config(task: Task) -> dict[str, Any]:
    """The model's config with the trial's sampled values and seed (validated when training starts)."""
    config = copy.deepcopy(task.config)
    for key, value in task.trial.values.items():
        assign(config, key, value, f"sampled value {key}={value!r}")
    config["seed"] = task.trial.seed
    return config


def _train(task: Task) -> api.TrainResult:
    run = RunDir(task.folder)
    if run.checkpoints():
        return api.resume(run.path)
    if run.path.exists():  # stopped before its first checkpoint: nothing to continue from
        shutil.rmtree(run.path)
    return api.fit(trial_config(task), out=run.path)


def evaluation_points(folder: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """The evaluation records of a run folder's metrics.jsonl so far: each one's step and its values by metric
    name (``eval/fid`` as ``fid``)."""
    return [
        (
            record["step"],
            {k.removeprefix(keys.EVAL_PREFIX): v for k, v in record.items() if k.startswith(keys.EVAL_PREFIX)},
        )
        for record in read_metrics(Path(folder) / "metrics.jsonl")
        if any(k.startswith(keys.EVAL_PREFIX) for k in record)
    ]


def _scores(task: Task, folder: Path) -> dict[str, Any]:
    """The metric's final and best values over the run's evaluation records, and the last record's values."""
    points = [values for _, values in evaluation_points(folder)]
    if task.metric == LIKELIHOOD:
        k, n = task.likelihood
        points.append({LIKELIHOOD: api.likelihood(folder, k=k, n=n)["nll"]})
    return scores(points, task.metric, task.mode)


def scores(points: list[dict[str, Any]], metric: str, mode: str) -> dict[str, Any]:
    """A row's final and best value of ``metric`` over the evaluation points (each a mapping of values by name),
    and the last point's values."""
    values = [p[metric] for p in points if p.get(metric) is not None and math.isfinite(p[metric])]
    if not values:
        raise GenlabError(f"the run has no finite {metric} value to rank by (evaluation points: {len(points)})")
    best = min(values) if mode == "min" else max(values)
    return {"final": points[-1].get(metric), "best": best, "metrics": points[-1], "evaluations": len(points)}
