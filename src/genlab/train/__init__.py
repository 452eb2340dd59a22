"""The shared trainer, run folders and checkpoints."""

from genlab.train.checkpoint import load_checkpoint, save_checkpoint
from genlab.train.logger import read_metrics
from genlab.train.rundir import RunDir
from genlab.train.trainer import Trainer, TrainResult, resolve_device

__all__ = ["RunDir", "TrainResult", "Trainer", "load_checkpoint", "read_metrics", "resolve_device", "save_checkpoint"]
