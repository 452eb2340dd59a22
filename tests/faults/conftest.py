"""The fault-injection suite runs genlab's real command line in subprocesses, as a user would, and checks what a
user sees: the exit status, one ``genlab: error:`` line naming the file or field and the fix, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from genlab.config import dump_config, load_config

from ..conftest import TINY

CLI_TIMEOUT_S = 300


def run_cli(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m genlab ARGS`` in ``cwd``; the child sees the same GENLAB_DATA and code as the tests."""
    environment = {**os.environ, **(env or {})}
    command = [sys.executable, "-m", "genlab", *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=CLI_TIMEOUT_S)


def assert_clean_error(done: subprocess.CompletedProcess, *needles: str, status: int = 1) -> str:
    """The command failed with ``status`` and one ``genlab: error:`` line holding every needle; returns the line."""
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == status, (done.returncode, done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.startswith("genlab: error:")]
    assert len(lines) == 1, done.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess]:
    """Run the CLI with the test's temporary folder as the working folder."""

    def call(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return run_cli(*args, cwd=tmp_path, env=env)

    return call


@pytest.fixture
def tiny_yaml(tmp_path: Path) -> Callable[..., Path]:
    """Write the tiny test config (with ``--set`` style overrides) to a YAML file and return its path."""

    def make(*overrides: str, name: str = "tiny.yaml") -> Path:
        path = tmp_path / name
        path.write_text(dump_config(load_config(TINY, list(overrides))))
        return path

    return make


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished tiny run (20 steps on 8 px digits, checkpoints at 10 and 20), shared by a module's tests.

    Tests that would change it copy it first (``shutil.copytree``)."""
    folder = tmp_path_factory.mktemp("trained")
    config = folder / "tiny.yaml"
    config.write_text(dump_config(load_config(TINY, ["train.report=false"])))
    done = run_cli("train", config, "--out", folder / "run", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "run"
