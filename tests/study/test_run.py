"""Tiny studies on the digits: the local backend, failed trials, skipping, phase 2, Ctrl-C and resuming."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

import genlab.api
import genlab.study
from genlab.cli import main
from genlab.errors import GenlabError
from genlab.study.trials import read_index
from tests.conftest import TINY

BASE = TINY | {
    "train": TINY["train"] | {"sample_every": 0, "report": False},
    "eval": {"n": 64, "metrics": ["fid"]},
}


@pytest.fixture(autouse=True)
def one_thread():
    """Trials in this process (--jobs 1) with one torch thread, as each worker of --jobs 2 on two cores: on a
    machine whose cores other processes share, two threads per tiny model run many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def write_study(folder: Path, **changes) -> Path:
    (folder / "tiny.yaml").write_text(yaml.safe_dump(BASE))
    study = {"base": "tiny.yaml", "models": {"ns": {"model.objective": "nonsaturating"}}, "steps": 20} | changes
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(study))
    return path


def checkpoint_times(folder: Path, pattern: str = "trials/*/checkpoints/*.pt") -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.glob(pattern)}


def interrupt_during_second_trial(command: list[str], out: Path) -> tuple[dict, dict]:
    """Start a two-trial study ``command`` into ``out`` and send it SIGINT once its first trial is done and its
    second has saved a checkpoint; checks that it stopped as Ctrl-C should and returns the two index rows."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ | {"OMP_NUM_THREADS": "1"}
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        rows = read_index(out / "trials.jsonl") if (out / "trials.jsonl").is_file() else []
        if len(rows) == 2 and rows[0]["status"] == "done" and list(out.glob(f"{rows[1]['dir']}/checkpoints/*.pt")):
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGINT, stderr.decode()
    assert "study stopped; 1 finished trials" in stderr.decode()
    first, second = read_index(out / "trials.jsonl")
    assert (first["status"], second["status"]) == ("done", "running")
    return first, second


def test_two_workers_record_every_trial_and_a_rerun_trains_nothing(tmp_path, capsys):
    """Four trials through two spawned workers: two train; one has a learning rate the config refuses and one
    diverges (LSGAN by SGD at learning rate 10: NaN at step 3), and both are recorded failed with their messages.
    The same command again skips all four."""
    sgd = {"model.objective": "lsgan", "model.g_optim": {"name": "sgd", "lr": 10.0}, "model.d_optim.name": "sgd"}
    study = write_study(
        tmp_path,
        models={"ns": {"model.objective": "nonsaturating"}, "bad": {}, "nan": sgd},
        spaces={
            "ns": {"model.d_optim.lr": {"grid": [1e-3, 2e-3]}},
            "bad": {"model.d_optim.lr": {"choice": [-1.0]}},
            "nan": {"model.d_optim.lr": {"choice": [10.0]}},
        },
    )
    out = tmp_path / "out"
    main(["study", "run", str(study), "--out", str(out), "--jobs", "2"])
    assert "4 trials (2 done, 2 failed)" in capsys.readouterr().out
    rows = {row["id"]: row for row in read_index(out / "trials.jsonl")}
    assert len(rows) == 4
    failed = {r["model"]: r for r in rows.values() if r["status"] == "failed"}
    assert set(failed) == {"bad", "nan"}
    assert "model.d_optim.lr: must be in (0, 10]" in failed["bad"]["error"] and failed["bad"]["final"] is None
    assert not (out / failed["bad"]["dir"]).exists()
    assert failed["nan"]["error"].startswith("training diverged: a logged value became NaN or infinite at step 3")
    done = [r for r in rows.values() if r["status"] == "done"]
    assert sorted(r["values"]["model.d_optim.lr"] for r in done) == [1e-3, 2e-3]
    for row in done:
        assert row["steps"] == 20 and row["evaluations"] == 1 and row["final"] == row["best"] == row["metrics"]["fid"]
        assert (out / row["dir"] / "config.yaml").is_file()
        eval_records = [json.loads(line) for line in (out / row["dir"] / "metrics.jsonl").read_text().splitlines()]
        assert [r["eval/fid"] for r in eval_records if "eval/fid" in r] == [row["final"]]
    before = checkpoint_times(out)

    main(["study", "run", str(study), "--out", str(out), "--jobs", "2"])
    assert "4 trials (2 done, 2 failed)" in capsys.readouterr().out
    assert checkpoint_times(out) == before
    assert {row["id"]: row for row in read_index(out / "trials.jsonl")} == rows


def test_phase_two_reruns_the_best_setting_over_new_seeds(tmp_path):
    """Two settings, then the one with the lower FID over two new seeds: a generator that barely learns (lr 1e-6)
    loses to one that does. Evaluated every 10 of the 20 steps: best is the better of the two points."""
    study = write_study(tmp_path, space={"model.g_optim.lr": {"grid": [1e-6, 5e-3]}}, rerun={"seeds": 2}, eval_every=10)
    rows = genlab.study.run(study, tmp_path / "out", jobs=1, progress=False)
    first = [r for r in rows if r["phase"] == 1]
    second = [r for r in rows if r["phase"] == 2]
    assert len(first) == 2 and len(second) == 2 and all(r["status"] == "done" for r in rows)
    means = {}
    for row in first:
        means.setdefault(row["values"]["model.g_optim.lr"], []).append(row["final"])
    best = min(means, key=lambda lr: statistics.fmean(means[lr]))
    assert best == 5e-3
    assert [(r["values"], r["seed"]) for r in second] == [
        ({"model.g_optim.lr": best}, 1),
        ({"model.g_optim.lr": best}, 2),
    ]
    for row in rows:
        assert row["evaluations"] == 2 and row["best"] == min(row["best"], row["final"])

    table = genlab.study.load(tmp_path / "out")
    assert len(table) == 4 and list(table["phase"]) == [1, 1, 2, 2]
    assert set(table["values/model.g_optim.lr"]) == {1e-6, 5e-3}
    assert table["metrics/fid"].tolist() == [r["final"] for r in rows]
    with pytest.raises(GenlabError, match="holds no study index"):
        genlab.study.load(tmp_path)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_keeps_finished_trials_and_a_rerun_resumes(tmp_path, capsys, jobs):
    """SIGINT to a study process while its second trial trains (in the study's process, or in a worker that the
    study forwards the signal to): the first stays done, the second is left running with the checkpoint the trainer
    saved, and the same command again resumes it from that checkpoint."""
    study = write_study(
        tmp_path,
        models={"a": {}, "b": {"model.objective": "lsgan", "train.steps": 100}},
        steps=None,
        overrides={"train.checkpoint_every": 10, "train.keep_checkpoints": 20},
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "genlab", "study", "run", str(study), "--out", str(out), "--jobs", jobs]
    first, second = interrupt_during_second_trial(command, out)
    saved = checkpoint_times(out / second["dir"], "checkpoints/*.pt")
    stopped_at = max(int(Path(name).stem.removeprefix("ckpt-")) for name in saved)
    assert 0 < stopped_at < 100
    before = checkpoint_times(out / first["dir"], "checkpoints/*.pt")

    main(["study", "run", str(study), "--out", str(out), "--jobs", "1"])  # resuming is the same with any --jobs
    assert "2 trials (2 done, 0 failed)" in capsys.readouterr().out
    first_again, second_again = read_index(out / "trials.jsonl")
    assert first_again == first and checkpoint_times(out / first["dir"], "checkpoints/*.pt") == before
    assert second_again["status"] == "done" and second_again["steps"] == 100
    kept = checkpoint_times(out / second["dir"], "checkpoints/*.pt")
    assert all(
        kept[name] == mtime for name, mtime in saved.items()
    )  # resumed: the checkpoints before stay as they were


def test_a_crashing_trial_is_recorded_and_the_others_finish(tmp_path, monkeypatch):
    """A trial that raises what is no genlab error (a bug, a library failure) is failed with the exception's type
    and message, in the order of the plan; the next trial still trains."""
    fit = genlab.api.fit

    def crash_on_hinge(config, *args, **kwargs):
        if config["model"].get("objective") == "hinge":
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return fit(config, *args, **kwargs)

    monkeypatch.setattr(genlab.api, "fit", crash_on_hinge)
    study = write_study(tmp_path, models={"a": {"model.objective": "hinge"}, "b": {}})
    crashed, trained = genlab.study.run(study, tmp_path / "out", jobs=1, progress=False)
    assert crashed["status"] == "failed" and crashed["model"] == "a"
    assert crashed["error"] == "RuntimeError: CUDA error: an illegal memory access was encountered"
    assert trained["status"] == "done" and trained["final"] > 0
