"""benchmarks/gpu_check.sh on a machine without CUDA: every GPU step skipped with its reason, exit 0, quickly."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.sh"
GPU_STEPS = [
    "tests",
    "throughput-b64-eager",
    "throughput-b64-fast",
    "throughput-b256-eager",
    "throughput-b256-fast",
    "step-ablation",
    "ddp",
    "progressive",
    "cyclegan-classifier",
    "cyclegan-identity",
    "cyclegan-no-identity",
    "cyclegan-eval-identity",
    "cyclegan-eval-no-identity",
]


def run(tmp_path: Path, python: str, *args: str) -> tuple[subprocess.CompletedProcess, dict[str, list[str]]]:
    env = {**os.environ, "OUT": str(tmp_path / "out"), "PYTHON": python, "REFERENCE": str(tmp_path / "no" / "main.py")}
    env.update(CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
    done = subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60)
    lines = (tmp_path / "out" / "summary.txt").read_text().splitlines()
    return done, {line.split("\t")[0]: line.split("\t")[1:] for line in lines}


def test_the_script_parses():
    done = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_without_cuda_every_gpu_step_is_skipped_with_the_reason_and_the_script_exits_0(tmp_path):
    done, summary = run(tmp_path, sys.executable, "all")
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(summary) == ["env", *GPU_STEPS]
    for name in GPU_STEPS:
        assert summary[name][0] == "skipped", name
        assert "torch.cuda.is_available() gave 'False'" in summary[name][2], name
    env = (tmp_path / "out" / "env.txt").read_text()
    assert "torch " in env and "available False" in env
    # A rerun replaces each step's line instead of appending a second one.
    done, _ = run(tmp_path, sys.executable, "part2")
    assert (tmp_path / "out" / "summary.txt").read_text().count("\nddp\t") == 1


def test_a_failing_step_is_recorded_and_the_run_goes_on_to_exit_1(tmp_path):
    """A stand-in Python that reports CUDA and fails everything else: each GPU step runs, fails, is recorded."""
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\ncase "$*" in *is_available*) echo True ;; *) exit 3 ;; esac\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    done, summary = run(tmp_path, str(fake), "all")
    assert done.returncode == 1
    assert summary["tests"][0] == "failed (exit 3)" and summary["cyclegan-eval-no-identity"][0] == "failed (exit 3)"
    assert summary["throughput-b64-fast"][0] == "skipped" and "no reference script" in summary["throughput-b64-fast"][2]
    assert summary["ddp"][0] == "skipped" and "lists 0 GPU(s)" in summary["ddp"][2]
    assert (tmp_path / "out" / "step-ablation.log").exists()
