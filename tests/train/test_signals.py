"""Ctrl-C and SIGTERM in a real subprocess: a checkpoint is saved, the exit is clean, resume is exact."""

import signal
import subprocess
import sys
import time

import pytest
import yaml

from genlab.build import build_trainer, resume_trainer
from genlab.config import dump_config
from genlab.train import RunDir, read_metrics

from .helpers import assert_same


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_saves_a_checkpoint_and_resume_continues_exactly(tiny_config, tmp_path, signum):
    settings = ("train.log_every=1", "train.checkpoint_every=0", "train.sample_every=0")
    config_file = tmp_path / "tiny.yaml"
    config_file.write_text(dump_config(tiny_config(*settings, "train.steps=1000000")))
    run_dir = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "genlab", "train", str(config_file), "--out", str(run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while len(read_metrics(run_dir / "metrics.jsonl")) < 3:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.05)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)

    assert process.returncode == 128 + signum, err
    assert "Traceback" not in err
    assert f"genlab train --resume {run_dir}" in err
    (checkpoint,) = RunDir(run_dir).checkpoints()
    stopped_at = int(checkpoint.stem.split("-")[1])
    assert stopped_at >= 3

    resumed = resume_trainer(run_dir, [f"train.steps={stopped_at + 3}"])
    resumed.fit()
    straight = build_trainer(
        tiny_config(*settings, f"train.steps={stopped_at + 3}"), RunDir.create(tmp_path / "ref", "ref")
    )
    straight.fit()
    assert_same(straight.recipe.state_dict(), resumed.recipe.state_dict(), "recipe")
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["train"]["steps"] == stopped_at + 3
