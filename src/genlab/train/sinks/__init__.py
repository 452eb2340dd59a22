"""The logging backends train.loggers may name besides jsonl (RUN/metrics.jsonl, always written)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

from genlab.errors import ConfigError
from genlab.train.sinks.base import Sink, SinkOpener
from genlab.train.sinks.mlflow import MlflowConfig, MlflowSink
from genlab.train.sinks.tensorboard import TensorBoardSink
from genlab.train.sinks.wandb import WandbConfig, WandbSink

JSONL = "jsonl"
SINKS: dict[str, type[Sink]] = {sink.name: sink for sink in (TensorBoardSink, WandbSink, MlflowSink)}
LOGGERS = (JSONL, *SINKS)
"""Every name train.loggers accepts."""
DEFAULT_LOGGERS = (JSONL, TensorBoardSink.name)


def installed(loggers: Sequence[str]) -> list[str]:
    """The sinks of ``loggers`` to open: a missing package is a ConfigError saying what to install, except
    tensorboard's, which the default list names: that one is left out with a note, as genlab always did."""
    names = []
    for name in (name for name in loggers if name != JSONL):
        missing = [package for package in SINKS[name].packages if importlib.util.find_spec(package) is None]
        if not missing:
            names.append(name)
            continue
        fix = f"pip install 'genlab[{name}]', or leave {name} out of train.loggers"
        if name != TensorBoardSink.name:
            raise ConfigError(f"train.loggers names {name}, but the {missing[0]} package is not installed: {fix}")
        print(f"note: tensorboard is not installed, so no TensorBoard events are written ({fix})", file=sys.stderr)
    return names


__all__ = [
    "DEFAULT_LOGGERS",
    "JSONL",
    "LOGGERS",
    "SINKS",
    "MlflowConfig",
    "MlflowSink",
    "Sink",
    "SinkOpener",
    "TensorBoardSink",
    "WandbConfig",
    "WandbSink",
    "installed",
]
