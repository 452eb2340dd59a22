"""The shared trainer, run folders, checkpoints, and the training tricks and schedules recipes compose.

Names load on first use: recipes import ``genlab.train.tricks`` while the trainer imports the recipes, so an
eager package ``__init__`` would make the two import each other.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "load_checkpoint": "genlab.train.checkpoint",
    "save_checkpoint": "genlab.train.checkpoint",
    "read_metrics": "genlab.train.logger",
    "RunDir": "genlab.train.rundir",
    "Trainer": "genlab.train.trainer",
    "TrainResult": "genlab.train.trainer",
    "resolve_device": "genlab.train.trainer",
}

__all__ = list(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'genlab.train' has no attribute '{name}'")
