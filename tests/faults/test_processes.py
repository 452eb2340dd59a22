"""Processes that die, collide or run out of room: a kill at any moment (also inside a checkpoint write), two
trainings of one run folder, a full or read-only disk, a torn metrics file, and an --out that is not a run. Whatever
happens, the run goes on exactly from its last complete checkpoint and the user's files stay as they were.

Faults inside genlab are injected without test hooks in the product: the child is ``python -c PATCH; main(ARGS)``
where PATCH replaces an OS function (a kill inside ``os.replace``, a full disk behind ``os.fdopen``)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import PIPE

import pytest

from genlab.build import build_trainer
from genlab.train import RunDir, load_checkpoint, read_metrics

from ..train.helpers import assert_same
from .conftest import CLI_TIMEOUT_S, assert_clean_error

LONG = ("train.steps=1000000", "train.log_every=1", "train.sample_every=0", "train.report=false")
"""A run that goes on until it is stopped, logging every step."""

KILL_INSIDE_LAST_CHECKPOINT_WRITE = """
import os, signal
rename = os.replace
def replace(source, target, *args, **kwargs):
    if str(target).endswith("ckpt-00000020.pt"):  # written and flushed in full, not yet renamed
        os.kill(os.getpid(), signal.SIGKILL)
    return rename(source, target, *args, **kwargs)
os.replace = replace
"""

FULL_DISK_FOR_CHECKPOINTS = """
import errno, os
fdopen = os.fdopen
class Full:
    '''A file on a full disk: writing to it fails.'''
    def __init__(self, handle):
        self.handle = handle
    def __getattr__(self, name):
        return getattr(self.handle, name)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self.handle.close()
    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
def full_fdopen(fd, *args, **kwargs):
    handle = fdopen(fd, *args, **kwargs)
    return Full(handle) if "ckpt-" in os.readlink(f"/proc/self/fd/{fd}") else handle
os.fdopen = full_fdopen
"""


SLOW_STEPS = """
import time
from genlab.train.logger import MetricsLog
write = MetricsLog.write
MetricsLog.write = lambda log, record: (time.sleep(0.05), write(log, record))[1]
"""
"""Log every 50 ms at most, so that a training left running leaves the CPU to the test's other processes."""


def genlab_command(*args: str | Path, patch: str | None = None) -> list[str]:
    """``python -m genlab ARGS``, or with ``patch`` (Python source that injects a fault) run first in the child."""
    if patch is None:
        return [sys.executable, "-m", "genlab", *map(str, args)]
    code = f"{patch}\nimport sys\nfrom genlab.cli import main\nmain(sys.argv[1:])\n"
    return [sys.executable, "-c", code, *map(str, args)]


def run_patched(patch: str, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    command = genlab_command(*args, patch=patch)
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=CLI_TIMEOUT_S)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start ``genlab ARGS`` in the background in the test's folder; what still runs when the test ends is killed."""
    started: list[subprocess.Popen] = []

    def call(*args: str | Path, patch: str | None = None) -> subprocess.Popen:
        command = genlab_command(*args, patch=patch)
        started.append(subprocess.Popen(command, cwd=tmp_path, stdout=PIPE, stderr=PIPE, text=True))
        return started[-1]

    yield call
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    out, err = process.communicate(timeout=CLI_TIMEOUT_S)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def logged_steps(run: Path) -> list[int]:
    return [r["step"] for r in read_metrics(run / "metrics.jsonl") if "loss/d" in r]


def wait_for_step(process: subprocess.Popen, run: Path, step: int) -> None:
    deadline = time.monotonic() + CLI_TIMEOUT_S
    while len(logged_steps(run)) < step:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.02)


def final_recipe(run: Path) -> dict:
    return load_checkpoint(RunDir(run).latest_checkpoint())["recipe"]


def assert_only_complete_checkpoints(run: Path) -> None:
    assert not list(run.rglob("*.tmp")), list(run.rglob("*.tmp"))
    checkpoints = RunDir(run).checkpoints()
    assert sorted((run / "checkpoints").iterdir()) == checkpoints
    for checkpoint in checkpoints:
        load_checkpoint(checkpoint)


def test_sigkill_at_a_random_step_resumes_from_the_last_checkpoint(cli, start, tiny_yaml, tiny_config, tmp_path):
    settings = (*LONG, "train.checkpoint_every=4")
    run = tmp_path / "run"
    process = start("train", tiny_yaml(*settings), "--out", run)
    wait_for_step(process, run, random.Random(24).randint(6, 14))
    process.kill()
    process.wait()
    stopped = int(RunDir(run).latest_checkpoint().stem.split("-")[1])

    done = cli("train", "--resume", run, "--set", f"train.steps={stopped + 3}")
    assert done.returncode == 0, done.stderr
    assert f"pid {process.pid}" in done.stderr and "no longer running" in done.stderr  # its lock, taken over
    reference = build_trainer(
        tiny_config(*settings, f"train.steps={stopped + 3}"), RunDir.create(tmp_path / "ref", "ref")
    )
    reference.fit()
    assert_same(final_recipe(tmp_path / "ref"), final_recipe(run), "recipe")
    assert logged_steps(run) == list(range(1, stopped + 4))
    assert_only_complete_checkpoints(run)


def test_a_kill_inside_a_checkpoint_write_leaves_no_temporary_file_after_resume(cli, tiny_yaml, trained_run, tmp_path):
    run = tmp_path / "run"
    killed = run_patched(
        KILL_INSIDE_LAST_CHECKPOINT_WRITE, "train", tiny_yaml("train.report=false"), "--out", run, cwd=tmp_path
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert [p.name for p in RunDir(run).checkpoints()] == ["ckpt-00000010.pt"]
    assert list((run / "checkpoints").glob(".ckpt-00000020.pt.*.tmp"))  # the full-size file the kill left

    done = cli("train", "--resume", run)
    assert done.returncode == 0, done.stderr
    assert "ckpt-00000020.pt" in done.stderr and "temporary" in done.stderr  # the note on what was removed
    assert_only_complete_checkpoints(run)
    assert [p.name for p in RunDir(run).checkpoints()] == ["ckpt-00000010.pt", "ckpt-00000020.pt"]
    assert_same(final_recipe(trained_run), final_recipe(run), "recipe")


def test_a_run_folder_trains_in_one_process_at_a_time(start, tiny_yaml, tmp_path):
    run = tmp_path / "run"
    config = tiny_yaml(*LONG, "train.checkpoint_every=0")
    first = start("train", config, "--out", run, patch=SLOW_STEPS)
    wait_for_step(first, run, 2)
    config_text = (run / "config.yaml").read_text()
    second = start("train", config, "--out", run)
    resume = start("train", "--resume", run, "--set", "train.steps=7")
    for done in (finish(second), finish(resume)):
        assert_clean_error(done, str(run), f"pid {first.pid}", "since")
    assert first.poll() is None  # untouched, still training
    first.send_signal(signal.SIGINT)
    done = finish(first)
    assert done.returncode == 128 + signal.SIGINT, done.stderr
    assert "lock" not in done.stderr  # held from the folder's creation on, never left and taken over

    steps = logged_steps(run)
    assert steps == list(range(1, len(steps) + 1))  # every step once, from one process
    assert (run / "config.yaml").read_text() == config_text
    assert [p.name for p in RunDir(run).checkpoints()] == [f"ckpt-{steps[-1]:08d}.pt"]


@pytest.mark.parametrize("fault", ["full disk", "read-only"])
def test_a_checkpoint_that_cannot_be_written_stops_cleanly_and_resume_goes_on(cli, trained_run, tmp_path, fault):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    (run / "checkpoints" / "ckpt-00000020.pt").unlink()  # the run stopped at step 10; resuming writes step 20
    previous = run / "checkpoints" / "ckpt-00000010.pt"
    previous_bytes = previous.read_bytes()
    if fault == "full disk":
        done = run_patched(FULL_DISK_FOR_CHECKPOINTS, "train", "--resume", run, cwd=tmp_path)
        reason = "disk is full"
    else:
        (run / "checkpoints").chmod(0o555)
        if os.access(run / "checkpoints", os.W_OK):
            (run / "checkpoints").chmod(0o755)
            pytest.skip("this process writes into read-only folders (root does); the full-disk case stands in")
        try:
            done = cli("train", "--resume", run)
        finally:
            (run / "checkpoints").chmod(0o755)
        reason = "permission denied"
    assert_clean_error(done, "ckpt-00000020.pt", reason, str(previous), f"genlab train --resume {run}")
    assert previous.read_bytes() == previous_bytes
    assert_only_complete_checkpoints(run)

    done = cli("train", "--resume", run)
    assert done.returncode == 0, done.stderr
    assert_same(final_recipe(trained_run), final_recipe(run), "recipe")


def test_a_torn_last_metrics_line_is_dropped_with_a_warning(cli, trained_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    metrics = run / "metrics.jsonl"
    torn_line = len(metrics.read_text().splitlines()) + 1
    with metrics.open("a") as handle:
        handle.write('{"step": 21, "loss/d": 0.69')  # the disk filled up in the middle of the line
    done = cli("compare", run, trained_run, "--out", tmp_path / "compare.html")  # reads as `genlab report` does
    assert done.returncode == 0, done.stderr
    assert f"{metrics}, line {torn_line} is cut off" in done.stderr

    done = cli("train", "--resume", run, "--set", "train.steps=25")
    assert done.returncode == 0, done.stderr
    assert [r["step"] for r in read_metrics(metrics)] == [5, 10, 15, 20, 25]
    assert metrics.read_text().endswith("}\n")  # rewritten without the torn line


def test_a_corrupt_metrics_line_in_the_middle_is_a_clean_error(cli, trained_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    metrics = run / "metrics.jsonl"
    lines = metrics.read_text().splitlines()
    lines[1] = lines[1][:30]
    metrics.write_text("\n".join(lines) + "\n")
    assert_clean_error(cli("report", run), str(metrics), "line 2")


def test_out_never_writes_into_a_folder_that_is_not_a_run(cli, tiny_yaml, tmp_path):
    mine = tmp_path / "mine"
    (mine / "samples").mkdir(parents=True)
    for name, text in {
        "curves.png": "my curves",
        "samples/step-00000010.png": "my samples",
        "metrics.jsonl": '{"mine": 1}\n',
        "eval.json": "{}",
    }.items():
        (mine / name).write_text(text)
    before = {p: p.read_bytes() for p in mine.rglob("*") if p.is_file()}
    config = tiny_yaml("train.report=false")

    assert_clean_error(cli("train", config, "--out", mine), str(mine), "not a genlab run")
    assert {p: p.read_bytes() for p in mine.rglob("*") if p.is_file()} == before

    assert_clean_error(cli("train", config, "--out", ""), "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "tiny.yaml"]
