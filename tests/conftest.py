"""Shared fixtures: tiny configs that train in a second, and the MNIST copy named by GENLAB_DATA."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genlab.config import Config, load_config

TINY = {
    "name": "tiny",
    "device": "cpu",
    "data": {"name": "digits", "size": 8},
    "model": {"z_dim": 8, "generator": {"width": 8}, "discriminator": {"width": 8}},
    "train": {
        "steps": 20,
        "batch_size": 16,
        "log_every": 5,
        "sample_every": 10,
        "checkpoint_every": 10,
        "n_samples": 16,
        "progress": False,
        "loggers": ["jsonl"],
    },
}


@pytest.fixture
def tiny_config():
    """Build a tiny, fast config; keyword ``overrides`` are ``--set`` style strings."""

    def make(*overrides: str) -> Config:
        return load_config(TINY, list(overrides))

    return make


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The MNIST folder under $GENLAB_DATA; skipped when the variable is unset, an error when files are missing."""
    home = os.environ.get("GENLAB_DATA")
    if not home:
        pytest.skip("set GENLAB_DATA to a folder holding mnist/ (e.g. GENLAB_DATA=../shared/data) to run MNIST tests")
    folder = Path(home) / "mnist"
    assert (folder / "train-images-idx3-ubyte.gz").is_file(), f"GENLAB_DATA is set but {folder} lacks the MNIST files"
    return folder
