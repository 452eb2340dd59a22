"""The Ray backend against the local one on the same tiny study: the same rows, failed trials, skipping on rerun;
without Ray installed, a message that says what to install. One Ray start for the module."""

from __future__ import annotations

import importlib.util
import sys

import pytest
import yaml

import genlab.study
from genlab.cli import main
from genlab.errors import ConfigError, GenlabError
from genlab.study.trials import read_index
from tests.study.test_run import (  # noqa: F401  (one_thread: autouse)
    checkpoint_times,
    interrupt_during_second_trial,
    one_thread,
    write_study,
)

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None, reason="ray is not installed: pip install 'genlab[ray]'"
)


@pytest.fixture(scope="module")
def ray_here():
    """Ray on two CPUs of this machine, started once for the module's tests (a start takes seconds); its address,
    for a study process to join as it would join a cluster."""
    import ray

    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield context.address_info["gcs_address"]
    ray.shutdown()


def tiny_study(folder):
    return write_study(
        folder,
        models={"ns": {}, "bad": {}},
        spaces={"ns": {"model.d_optim.lr": {"grid": [1e-3, 2e-3]}}, "bad": {"model.d_optim.lr": {"choice": [-1.0]}}},
        seeds=1,
        eval_every=10,
    )


def without_wall_time(rows):
    return [{k: v for k, v in row.items() if k != "wall_time"} for row in rows]


@needs_ray
def test_ray_gives_the_local_rows_and_a_rerun_trains_nothing(tmp_path, capsys, ray_here):
    """Three trials (two train, one has a learning rate the config refuses) through both backends: the same ids,
    values, seeds, statuses, messages and, on the CPU with fixed seeds, the same FIDs at both evaluation points.
    The same command again with --backend ray skips all three."""
    study = tiny_study(tmp_path)
    local = genlab.study.run(study, tmp_path / "local", jobs=1, progress=False)
    main(["study", "run", str(study), "--out", str(tmp_path / "ray"), "--backend", "ray", "--jobs", "2"])
    assert "3 trials (2 done, 1 failed)" in capsys.readouterr().out
    rows = read_index(tmp_path / "ray" / "trials.jsonl")
    assert without_wall_time(rows) == without_wall_time(local)
    status = {r["model"]: r["status"] for r in rows}
    assert [r["status"] for r in rows].count("done") == 2 and status["bad"] == "failed"
    done = [r for r in rows if r["status"] == "done"]
    assert all(r["evaluations"] == 2 and r["steps"] == 20 and r["final"] > 0 for r in done)
    assert done[0]["final"] != done[1]["final"]  # the two learning rates train two different models
    (bad,) = [r for r in rows if r["model"] == "bad"]
    assert "model.d_optim.lr: must be in (0, 10]" in bad["error"]
    assert list((tmp_path / "ray" / "ray").glob("phase1-*"))  # Ray's own files stay in the study folder
    for row in done:  # a Ray trial without GPUs trains on the CPU
        assert yaml.safe_load((tmp_path / "ray" / row["dir"] / "config.yaml").read_text())["device"] == "cpu"
    before = checkpoint_times(tmp_path / "ray")

    main(["study", "run", str(study), "--out", str(tmp_path / "ray"), "--backend", "ray"])
    assert "3 trials (2 done, 1 failed)" in capsys.readouterr().out
    assert checkpoint_times(tmp_path / "ray") == before
    assert read_index(tmp_path / "ray" / "trials.jsonl") == rows


def test_without_ray_the_message_gives_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as where it is not installed
    monkeypatch.setitem(sys.modules, "ray.tune", None)
    with pytest.raises(GenlabError, match=r"--backend ray needs Ray Tune.*pip install 'genlab\[ray\]'"):
        genlab.study.run(tiny_study(tmp_path), tmp_path / "out", backend="ray", progress=False)
    assert not (tmp_path / "out").exists()


def test_the_local_backend_refuses_ray_options(tmp_path):
    study = tiny_study(tmp_path)
    with pytest.raises(ConfigError, match=r"--address names a Ray cluster: add --backend ray"):
        genlab.study.run(study, tmp_path / "out", address="ray://head:10001", progress=False)
    asha = write_study(tmp_path, scheduler={"name": "asha", "grace": 5})
    with pytest.raises(ConfigError, match="scheduler: asha early stopping runs on Ray Tune: add --backend ray"):
        genlab.study.run(asha, tmp_path / "out", progress=False)


@needs_ray
def test_asha_stops_the_trailing_trial_at_its_first_rung(tmp_path, ray_here):
    """One trial at a time, ASHA with rungs at 10 and 20 of 40 steps keeping the best half: a generator that learns
    (lr 5e-3) reaches every rung first and trains to the end; one that barely learns (lr 1e-6) has the worse FID at
    step 10 and is stopped there, recorded done with the evaluation point it reached."""
    study = write_study(
        tmp_path,
        space={"model.g_optim.lr": {"grid": [5e-3, 1e-6]}},
        steps=40,
        eval_every=10,
        scheduler={"name": "asha", "grace": 10, "reduction": 2},
    )
    learns, stalls = genlab.study.run(study, tmp_path / "out", backend="ray", jobs=1, progress=False)
    assert learns["values"] == {"model.g_optim.lr": 5e-3} and stalls["values"] == {"model.g_optim.lr": 1e-6}
    assert (learns["status"], learns["steps"], learns["evaluations"]) == ("done", 40, 4) and "stopped" not in learns
    assert (stalls["status"], stalls["steps"], stalls["evaluations"]) == ("done", 10, 1)
    assert stalls["stopped"] == "asha at step 10" and stalls["final"] > learns["final"]


@needs_ray
def test_a_trial_asking_for_more_than_the_cluster_has_is_refused(tmp_path, ray_here):
    """Resources Ray cannot give would leave every trial pending for ever: refused before any trial starts."""
    study = write_study(tmp_path, resources={"cpus": 1, "gpus": 1})
    with pytest.raises(ConfigError, match=r"resources\.gpus: a trial asks for 1, and the Ray cluster has 0 GPUs"):
        genlab.study.run(study, tmp_path / "out", backend="ray", progress=False)
    assert [row["status"] for row in read_index(tmp_path / "out" / "trials.jsonl")] == ["running"]


@needs_ray
def test_a_trial_whose_worker_dies_is_failed_with_rays_message(tmp_path, ray_here, monkeypatch):
    """A trial whose Ray worker dies (run_one is sys.exit: the worker process exits under the training) is failed
    with Ray's message once its restarts are spent (none here, to keep the test short)."""
    from genlab.study import ray_tune
    from genlab.study.execute import Task
    from genlab.study.spec import Resources
    from genlab.study.trials import TrialSpec

    monkeypatch.setattr(ray_tune, "RETRIES", 0)

    task = Task(TrialSpec("ns"), {}, str(tmp_path / "trials" / "ns-0"), "fid", "min")
    rows = []
    ray_tune.RayBackend(1, Resources(), None, None).run([task], sys.exit, lambda task, row: rows.append(row))
    ((row),) = rows
    assert row["status"] == "failed" and row["id"] == task.trial.id and row["metric"] == "fid"
    assert (
        row["error"].startswith("the Ray trial failed: ActorDiedError: ") and "worker process has died" in row["error"]
    )
    assert len(list((tmp_path / "ray").glob("phase1-*/_trainable_*/error.txt"))) == 1


@needs_ray
def test_ctrl_c_under_ray_keeps_finished_trials_and_a_rerun_finishes(tmp_path, capsys, ray_here):
    """A study process that joins the module's Ray by --address, as it would a cluster, gets SIGINT while its
    second trial trains: Tune stops, the first trial stays done, the second stays running with its checkpoints, and
    the same study again finishes it from them without training the first again."""
    study = write_study(
        tmp_path,
        models={"a": {}, "b": {"model.objective": "lsgan", "train.steps": 200}},
        steps=None,
        overrides={"train.checkpoint_every": 10, "train.keep_checkpoints": 50},
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "genlab", "study", "run", str(study), "--out", str(out), "--backend", "ray"]
    first, second = interrupt_during_second_trial([*command, "--jobs", "1", "--address", ray_here], out)
    assert list(out.glob(f"{second['dir']}/checkpoints/*.pt"))
    before = checkpoint_times(out / first["dir"], "checkpoints/*.pt")

    main(command[3:])
    assert "2 trials (2 done, 0 failed)" in capsys.readouterr().out
    first_again, second_again = read_index(out / "trials.jsonl")
    assert first_again == first and checkpoint_times(out / first["dir"], "checkpoints/*.pt") == before
    assert second_again["status"] == "done" and second_again["steps"] == 200
