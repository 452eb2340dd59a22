"""The Ray backend: each phase of a study is one Ray Tune experiment (``tune.Tuner``), one Tune trial per genlab
trial, on this machine or on a Ray cluster (``--address`` or ``RAY_ADDRESS``). Workers are reused from trial to
trial, as the local pool's are (except under ASHA), so a study pays for a worker's start (torch's import) once per
slot.

The trials are genlab's own (the same ids, settings and seeds as the local backend): Tune gets a grid over their
ids and searches nothing. Each Tune trial runs :func:`genlab.study.execute.run_trial` in a worker with
``resources.cpus`` torch threads, on the CPU unless ``resources.gpus`` > 0 (Tune's resources per trial), and while
it trains reads its run folder's metrics.jsonl every second, reporting each new evaluation point to Tune
(``tune.report``; ASHA decides on these). The reports carry the metrics only, not a checkpoint: the trial folder
DIR/trials/ID is the checkpoint, an ordinary run folder that genlab resumes, and copying it into Ray's storage at
every evaluation point would double the disk a study takes and race with the trainer writing into it. The last
report carries the trial's index row, which reaches the study through the same ``on_result`` as with the local
backend. Ray's own files go to DIR/ray/; on a cluster DIR must be on a file system every node sees.

Ctrl-C (or SIGTERM): Tune stops the experiment (its first SIGINT) and ends the running trials' workers; their rows stay
``running`` and a rerun resumes them from their last checkpoint (``train.checkpoint_every``): a worker thread
cannot catch the signal to save one first, so the steps since are trained again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import ray
import torch
from ray import cloudpickle, tune
from ray.tune.schedulers import ASHAScheduler

from genlab.config import validate_config
from genlab.errors import ConfigError, one_line
from genlab.study.backend import Backend, OnResult, RunOne
from genlab.study.execute import Task, evaluation_points, scores
from genlab.study.local import available_cores
from genlab.study.spec import Resources, Scheduler
from genlab.study.trials import DONE, FAILED

STORAGE = "ray"
"""DIR/ray/: Ray Tune's experiment folders."""
ROW = "genlab_row"
POINT = "genlab_point"
POLL_S = 1.0
RETRIES = 2
"""Restarts of a Tune trial whose worker died (its node went away, it ran out of memory): the restart resumes the
genlab trial from its checkpoint. A trial's own failures never reach Tune: they are its failed row."""


class RayBackend(Backend):
    def __init__(self, jobs: int | None, resources: Resources, address: str | None, scheduler: Scheduler | None):
        self.jobs, self.resources, self.address, self.scheduler = jobs, resources, address, scheduler
        self.slots = jobs or max(1, available_cores() // resources.cpus)
        self._started = False

    def run(self, tasks: Sequence[Task], run_one: RunOne, on_result: OnResult) -> None:
        self._connect()
        by_id = {task.trial.id: task for task in tasks}
        phase = tasks[0].trial.phase
        asha = self._asha(tasks) if phase == 1 else None
        rows = _Rows(by_id, on_result)
        trainable = tune.with_parameters(
            _trainable, tasks=by_id, run_one=run_one, threads=self.resources.cpus, cpu=not self.resources.gpus
        )
        tuner = tune.Tuner(
            tune.with_resources(trainable, {"cpu": self.resources.cpus, "gpu": self.resources.gpus}),
            param_space={"trial": tune.grid_search(list(by_id))},
            tune_config=tune.TuneConfig(
                max_concurrent_trials=self.jobs,
                scheduler=asha,
                # a worker process trains trial after trial, as the local pool's do; not under ASHA, whose stopped
                # trials' training threads only end with their process
                reuse_actors=asha is None,
            ),
            run_config=tune.RunConfig(
                name=f"phase{phase}-{time.strftime('%Y%m%d-%H%M%S')}",
                storage_path=str(Path(tasks[0].folder).resolve().parents[1] / STORAGE),
                verbose=0,
                callbacks=[rows],
                failure_config=tune.FailureConfig(max_failures=RETRIES),
            ),
        )
        main = threading.current_thread() is threading.main_thread()  # signals can be caught there only
        previous = signal.signal(signal.SIGTERM, _as_ctrl_c) if main else None
        try:
            with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # Tune's table prints at verbose=0
                tuner.fit()
        finally:
            if main:
                signal.signal(signal.SIGTERM, previous)
        if rows.pending:  # Tune caught a Ctrl-C, stopped the experiment and returned
            raise KeyboardInterrupt

    def close(self) -> None:
        if self._started:
            ray.shutdown()
            self._started = False

    def _connect(self) -> None:
        """Join the cluster at ``--address`` (or RAY_ADDRESS), else start Ray here with ``jobs * cpus`` CPUs (all the
        cores without --jobs); a Ray the caller already started is used as it is."""
        if not ray.is_initialized():
            address = self.address or os.environ.get("RAY_ADDRESS")
            local = {} if address else {"num_cpus": self.jobs * self.resources.cpus if self.jobs else available_cores()}
            ray.init(address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING, **local)
            self._started = True
        cluster = ray.cluster_resources()
        for name, key in (("cpus", "CPU"), ("gpus", "GPU")):
            wanted, there = getattr(self.resources, name), cluster.get(key, 0)
            if wanted > there:
                raise ConfigError(
                    f"resources.{name}: a trial asks for {wanted:g}, and the Ray cluster has {there:g} {key}s: lower "
                    "it or add nodes"
                )
        self.slots = self.jobs or max(1, int(cluster.get("CPU", 1) // self.resources.cpus))

    def _asha(self, tasks: Sequence[Task]) -> ASHAScheduler | None:
        """ASHA over training steps, for the search phase; the rungs end at the longest trial, which no rung
        stops (its last report arrives as it finishes)."""
        if self.scheduler is None:
            return None
        longest = max(validate_config(task.config).train.steps for task in tasks)
        if self.scheduler.grace > longest:
            raise ConfigError(
                f"scheduler.grace: {self.scheduler.grace} steps is more than the trials train ({longest}); lower it"
            )
        return ASHAScheduler(
            time_attr="step",
            metric=tasks[0].metric,
            mode=tasks[0].mode,
            max_t=longest,
            grace_period=self.scheduler.grace,
            reduction_factor=self.scheduler.reduction,
            stop_last_trials=False,
        )


class _Rows(tune.Callback):
    """In the study's process: hands each trial's row to ``on_result`` as it comes. A trial ASHA stopped has no
    row of its own: it is done at the step it reached, with its reported evaluation points; a trial whose worker
    failed (it crashed, the node went away) is failed with Ray's message."""

    def __init__(self, tasks: dict[str, Task], on_result: OnResult):
        self.tasks, self.on_result = tasks, on_result
        self.pending = set(tasks)
        self.points: dict[str, list[tuple[int, dict[str, Any]]]] = {trial_id: [] for trial_id in tasks}
        self.started: dict[str, float] = {}

    def __getstate__(self) -> dict[str, Any]:
        """What Tune pickles into its experiment state: not ``on_result``, which holds the study's index and
        progress bar (the live callback keeps it)."""
        return {k: v for k, v in self.__dict__.items() if k != "on_result"}

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.started[trial.config["trial"]] = time.perf_counter()

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        trial_id = trial.config["trial"]
        if ROW in result:
            self._finish(trial_id, json.loads(result[ROW]))
        elif POINT in result:
            self.points[trial_id].append((result["step"], json.loads(result[POINT])))

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        trial_id = trial.config["trial"]
        if trial_id in self.pending and self.points[trial_id]:
            task, points = self.tasks[trial_id], self.points[trial_id]
            row = task.trial.row(DONE) | {"metric": task.metric, "steps": points[-1][0]}
            values = scores([values for _, values in points], task.metric, task.mode)
            self._finish(trial_id, row | values | {"stopped": f"asha at step {points[-1][0]}"} | self._wall(trial_id))

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        trial_id = trial.config["trial"]
        task = self.tasks[trial_id]
        saved = Path(trial.pickled_error_file or os.devnull)  # Tune writes it in this process before calling
        cause = one_line(cloudpickle.loads(saved.read_bytes()), 600) if saved.is_file() else "no message"
        error = f"the Ray trial failed: {cause}"
        self._finish(trial_id, task.trial.row(FAILED) | {"metric": task.metric, "error": error} | self._wall(trial_id))

    def _wall(self, trial_id: str) -> dict[str, Any]:
        return {"wall_time": round(time.perf_counter() - self.started.get(trial_id, time.perf_counter()), 2)}

    def _finish(self, trial_id: str, row: dict[str, Any]) -> None:
        if trial_id in self.pending:
            self.pending.discard(trial_id)
            self.on_result(self.tasks[trial_id], row)


def _as_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM stops the study as Ctrl-C does: it goes to Tune's SIGINT handler, which ends the experiment."""
    signal.raise_signal(signal.SIGINT)


def _trainable(config: dict[str, str], tasks: dict[str, Task], run_one: RunOne, threads: int, cpu: bool) -> None:
    """One Tune trial, in a Ray worker: the genlab trial trains in a thread while this one reports its evaluation
    points, then its row."""
    task = tasks[config["trial"]]
    if cpu:
        task = replace(task, config=task.config | {"device": "cpu"})
    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)
    outcome: dict[str, Any] = {}
    training = threading.Thread(target=_train, args=(run_one, task, outcome), daemon=True)
    training.start()
    reported = 0
    while training.is_alive():
        training.join(POLL_S)
        reported = _report_points(task.folder, reported)
    if "error" in outcome:
        raise outcome["error"]
    row = outcome["row"]
    final = row["final"] if row["final"] is not None and math.isfinite(row["final"]) else None
    worst = math.inf if task.mode == "min" else -math.inf  # a failed trial: the metric a scheduler expects
    tune.report({ROW: json.dumps(row), "step": row["steps"], task.metric: worst if final is None else final})


def _train(run_one: RunOne, task: Task, outcome: dict[str, Any]) -> None:
    try:
        outcome["row"] = run_one(task)
    except BaseException as exc:  # an interruption: run_one records every other failure in the row
        outcome["error"] = exc


def _report_points(folder: str, reported: int) -> int:
    """Report the evaluation points past the first ``reported``; returns how many there are now."""
    points = evaluation_points(folder)
    for step, values in points[reported:]:
        finite = {k: v for k, v in values.items() if isinstance(v, int | float) and math.isfinite(v)}
        tune.report({"step": step, POINT: json.dumps(values)} | finite)
    return len(points)
