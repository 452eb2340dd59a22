"""The shared trainer and what it is built from: run folders, checkpoints, metric logs, speed switches,
learning-rate decay, data-parallel processes, and the generic hooks (checkpoints, evaluation, the doctor)."""

from genlab.train.accel import AccelConfig, Acceleration
from genlab.train.checkpoint import Checkpoints, load_checkpoint, save_checkpoint
from genlab.train.logger import MetricsLog, read_metrics
from genlab.train.lr_decay import LRDecay
from genlab.train.rundir import RunDir
from genlab.train.trainer import Trainer, TrainResult, resolve_device

__all__ = [
    "AccelConfig",
    "Acceleration",
    "Checkpoints",
    "LRDecay",
    "MetricsLog",
    "RunDir",
    "TrainResult",
    "Trainer",
    "load_checkpoint",
    "read_metrics",
    "resolve_device",
    "save_checkpoint",
]
