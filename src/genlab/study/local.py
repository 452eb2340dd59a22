"""The local backend: a pool of ``--jobs`` worker processes on this machine, started with ``spawn``.

``spawn`` (not ``fork``) gives every worker a fresh interpreter: no copy of the study process's torch thread pool
or open files, and the same behaviour on Linux and macOS. Each worker uses ``max(1, cores // jobs)`` torch threads
(and OMP_NUM_THREADS), so ``jobs`` workers do not oversubscribe the cores. Workers run in a process group of their
own and ignore SIGINT between trials: a Ctrl-C in the terminal reaches the study's process only, which forwards
one SIGINT to each worker, so the trainer saves a checkpoint of the running trial and nothing else is lost (SIGTERM
to the study's process does the same). The phases of a study share the workers. ``--jobs 1`` runs the trials in the
study's own process.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from genlab.errors import ConfigError, TrainingInterrupted
from genlab.study.backend import BACKENDS, Backend, OnResult, RunOne
from genlab.study.execute import Task
from genlab.study.spec import Resources, Scheduler


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def start_worker(threads: int) -> None:
    """Initialise a worker: its torch threads, its own process group, SIGINT ignored outside training (the
    trainer's handler takes it while a trial trains)."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    torch.set_num_threads(threads)


@BACKENDS.register("local")
class LocalBackend(Backend):
    def __init__(
        self,
        jobs: int | None = None,
        resources: Resources | None = None,
        address: str | None = None,
        scheduler: Scheduler | None = None,
    ):
        if address is not None:
            raise ConfigError("--address names a Ray cluster: add --backend ray (pip install 'genlab[ray]')")
        if scheduler is not None:
            raise ConfigError(
                f"scheduler: {scheduler.name} early stopping runs on Ray Tune: add --backend ray, or remove "
                "scheduler from the study file"
            )
        cores = available_cores()
        per_trial = resources.cpus if resources is not None else 1
        self.slots = jobs if jobs is not None else max(1, cores // per_trial)
        self.threads = max(1, cores // self.slots)
        self._pool: ProcessPoolExecutor | None = None

    def run(self, tasks: Sequence[Task], run_one: RunOne, on_result: OnResult) -> None:
        if self.slots == 1:
            for task in tasks:
                on_result(task, run_one(task))
            return
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.slots, context, start_worker, (self.threads,))
        futures = {self._pool.submit(run_one, task): task for task in tasks}
        unreported = set(futures)
        main = threading.current_thread() is threading.main_thread()  # signals can be caught there only
        previous = signal.signal(signal.SIGTERM, _interrupt) if main else None  # SIGTERM stops as Ctrl-C does
        try:
            while unreported:
                finished, _ = wait(unreported, return_when=FIRST_COMPLETED)
                for future in finished:
                    on_result(futures[future], future.result())
                    unreported.discard(future)
        except KeyboardInterrupt:
            _stop(futures, unreported, on_result)
            raise
        finally:
            if main:
                signal.signal(signal.SIGTERM, previous)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop(futures: dict[Future, Task], unreported: set[Future], on_result: OnResult) -> None:
    """Cancel the tasks not started, ask the workers to stop theirs, and report what still finishes."""
    started = [future for future in unreported if not future.cancel()]
    for child in multiprocessing.active_children():
        os.kill(child.pid, signal.SIGINT)
    for future in started:
        try:
            row = future.result()
        except (TrainingInterrupted, KeyboardInterrupt):
            continue
        on_result(futures[future], row)
