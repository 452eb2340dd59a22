"""Checkpoint files: everything a run depends on, as plain tensors and containers.

Files are written atomically and read with ``torch.load(weights_only=True)`` (:func:`genlab.fileio.load_tensors`),
which refuses to unpickle arbitrary objects: a checkpoint from an untrusted source cannot run code. RNG states are
stored so a resumed run continues bit for bit where it stopped.
"""

from __future__ import annotations

import io
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genlab.errors import CheckpointError
from genlab.fileio import atomic_write, load_tensors
from genlab.hooks import Hook, Moment
from genlab.models import Recipe

FORMAT = "genlab-checkpoint-1"
_NAME = re.compile(r"ckpt-(\d+)\.pt")
RECOVER = "Use an earlier checkpoint of the run (delete this one and --resume takes the one before) or train again"


def checkpoint_name(step: int) -> str:
    return f"ckpt-{step:08d}.pt"


def list_checkpoints(folder: Path) -> list[Path]:
    """Checkpoint files in ``folder``, oldest step first."""
    found = [(int(m.group(1)), p) for p in folder.glob("ckpt-*.pt") if (m := _NAME.fullmatch(p.name))]
    return [p for _, p in sorted(found)]


class Checkpoints(Hook):
    """Every ``every`` steps (and after the last), a checkpoint of the whole training state (``Trainer.save``;
    Ctrl-C, SIGTERM and a hook's stop save one too, with or without this hook)."""

    def __init__(self, every: int):
        self.every = every

    def __call__(self, moment: Moment) -> None:
        moment.save()


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically. It is serialised in memory first: torch.save writing to a file turns a full
    disk into an unspecific RuntimeError, and the trainer needs the OSError to say what went wrong."""
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, **state}, buffer)
    with atomic_write(path) as handle:
        handle.write(buffer.getbuffer())


def load_checkpoint(
    path: Path, map_location: torch.device | str = "cpu", needs: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Read a checkpoint safely; any damage, and a missing entry of ``needs``, is a :class:`CheckpointError` naming
    the file and what to do."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    state = load_tensors(path, "checkpoint", RECOVER, CheckpointError, map_location)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a genlab checkpoint (expected format '{FORMAT}'). {RECOVER}")
    missing = [key for key in needs if key not in state]
    if missing:
        raise CheckpointError(
            f"checkpoint {path} has no {', '.join(missing)}: it was damaged or written by other code. {RECOVER}"
        )
    return state


def restore_recipe(recipe: Recipe, state: dict[str, Any], path: Path, *, weights_only: bool = False) -> None:
    """Load checkpoint ``path``'s recipe ``state`` into ``recipe``; networks of another shape name the file."""
    try:
        recipe.load_state_dict(state["recipe"], weights_only=weights_only)
    except CheckpointError as exc:
        raise CheckpointError(
            f"{path}: {exc}. It comes from another run, or the run's config changed since it was written: use the "
            "checkpoints of the run and config it belongs to"
        ) from None


def rng_state() -> dict[str, Any]:
    """The state of every random number generator a run may draw from."""
    version, mt_state, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
        "python": [version, list(mt_state), gauss],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"].cpu())
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    version, mt_state, gauss = state["python"]
    random.setstate((version, tuple(mt_state), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
