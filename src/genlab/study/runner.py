"""Running a study: phase 1 tries every model's sampled settings over ``seeds`` seeds; phase 2 reruns each model's
best setting (the best mean of the metric over its seeds) over ``rerun.seeds`` new seeds (Lucic et al. 2018's
protocol: a search per model under the same budget, then the spread of the winner over seeds).

Trials already finished in DIR/trials.jsonl are skipped; the others are marked ``running`` and handed to the
backend, and each row is written to the index the moment its trial finishes, so an interruption loses no finished
trial. Rerunning the same command continues: interrupted trials resume from their checkpoints.
"""

from __future__ import annotations

import json
import signal
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from genlab.errors import ConfigError, TrainingInterrupted
from genlab.fileio import atomic_write, ensure_writable
from genlab.schema import COUNT, check_arguments
from genlab.study import local, ray_backend  # noqa: F401  (register the backends)
from genlab.study.analysis import best_setting, setting_scores
from genlab.study.backend import BACKENDS, Backend
from genlab.study.execute import Task, run_trial
from genlab.study.report import write_study_report
from genlab.study.space import model_rng, settings
from genlab.study.spec import ModelPlan, Study, load_study
from genlab.study.trials import DONE, FAILED, INDEX, STUDY_COPY, TRIALS, Index, TrialSpec


def run(
    study: str | Path,
    out: str | Path,
    *,
    backend: str = "local",
    jobs: int | None = None,
    address: str | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run (or continue) the study file ``study`` (a path or a ready study's name) into the folder ``out``, write
    its page DIR/study.html (:mod:`genlab.study.report`) and return the index rows. ``backend``: ``local`` or
    ``ray``; ``jobs``: trials at a time (default: the cores over ``resources.cpus``); ``address``: the Ray cluster
    to run on (default: ``RAY_ADDRESS``, else Ray on this machine)."""
    check_arguments(jobs=(jobs, COUNT))
    plan = load_study(study)
    if backend not in BACKENDS:
        raise ConfigError(f"--backend: {BACKENDS.unknown_message(backend)}")
    engine = BACKENDS.get(backend)(
        jobs=jobs, resources=plan.spec.resources, address=address, scheduler=plan.spec.scheduler
    )
    folder = Path(out)
    ensure_writable(folder / INDEX)
    text, copy = plan.path.read_text(encoding="utf-8"), folder / STUDY_COPY
    if copy.is_file() and copy.read_text(encoding="utf-8") != text:
        print(
            f"note: {copy} differs from {plan.path}: trials of the same model, setting and seed that {folder} holds "
            "are reused as they are",
            file=sys.stderr,
        )
    with atomic_write(copy, "w") as handle:
        handle.write(text)
    index = Index(folder)
    spec = plan.spec
    try:
        search = [
            TrialSpec(model.name, values, seed, phase=1)
            for model in plan.models
            for values in settings(model.space, spec.samples, model_rng(spec.seed, model.name))
            for seed in range(spec.seeds)
        ]
        _run_phase(plan, search, engine, index, folder, progress)
        if spec.rerun.seeds:
            new_seeds = range(spec.seeds, spec.seeds + spec.rerun.seeds)
            best = best_settings(list(index.rows.values()), plan)
            rerun = [TrialSpec(model, values, seed, phase=2) for model, values in best.items() for seed in new_seeds]
            _run_phase(plan, rerun, engine, index, folder, progress)
    except (KeyboardInterrupt, TrainingInterrupted) as stop:
        index.put()  # a row whose write the interruption cut short
        finished = sum(row["status"] in (DONE, FAILED) for row in index.rows.values())
        raise TrainingInterrupted(
            f"study stopped; {finished} finished trials are in {index.path}. Run the same command again to "
            "continue: finished trials are skipped, interrupted ones resume from their checkpoints",
            getattr(stop, "signum", signal.SIGINT),
        ) from None
    finally:
        engine.close()
    write_study_report(folder)
    return list(index.rows.values())


def _run_phase(
    plan: Study, trials: Sequence[TrialSpec], engine: Backend, index: Index, folder: Path, progress: bool
) -> None:
    models = {model.name: model for model in plan.models}
    unique = list({trial.id: trial for trial in trials}.values())  # a setting drawn twice is one trial
    if not unique:
        return
    tasks = [_task(plan, models[t.model], t, folder) for t in unique if not index.finished(t)]
    index.put(*(task.trial.row() | {"metric": plan.spec.value} for task in tasks))
    counts = Counter(index.rows[t.id]["status"] for t in unique if index.finished(t))
    phase = unique[0].phase
    with tqdm(
        total=len(unique), initial=sum(counts.values()), desc=f"phase {phase}", unit="trial", disable=not progress
    ) as bar:

        def show(finished: int) -> None:
            running = min(engine.slots, len(unique) - counts[DONE] - counts[FAILED])
            bar.set_postfix(done=counts[DONE], running=running, failed=counts[FAILED], refresh=False)
            bar.update(finished)

        def on_result(task: Task, row: dict[str, Any]) -> None:
            index.put(row)
            counts[row["status"]] += 1
            show(1)

        show(0)
        if tasks:
            engine.run(tasks, run_trial, on_result)


def _task(plan: Study, model: ModelPlan, trial: TrialSpec, folder: Path) -> Task:
    spec = plan.spec
    trial_dir = folder / TRIALS / trial.id
    return Task(trial, model.config, str(trial_dir), spec.value, spec.mode, (spec.likelihood_k, spec.likelihood_n))


def best_settings(rows: list[dict[str, Any]], plan: Study) -> dict[str, dict[str, Any]]:
    """Each model's best phase-1 setting: the best mean of the final metric over its finished seeds (in the order
    the settings were planned on a tie). A model none of whose trials finished with a value is left out, with a
    note on stderr."""
    best = {}
    for model in plan.models:
        key = best_setting(setting_scores(rows, model.name), plan.spec.mode)
        if key is None:
            print(
                f"note: no trial of {model.name} finished with a {plan.spec.metric}: it is not rerun", file=sys.stderr
            )
            continue
        best[model.name] = json.loads(key)
    return best
