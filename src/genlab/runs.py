"""Opening a finished (or interrupted) run: its checkpoint, config and rebuilt model, for sampling and analysis."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from genlab.config import Config, validate_config
from genlab.models import Recipe
from genlab.train import RunDir, load_checkpoint, resolve_device
from genlab.train.checkpoint import restore_recipe

OPEN_NEEDS = ("config", "data", "recipe", "step")
"""What opening a checkpoint reads: the config and data shape rebuild the model (build.py records them)."""


class OpenRun(NamedTuple):
    checkpoint: Path
    state: dict
    config: Config
    recipe: Recipe

    @property
    def run_dir(self) -> Path:
        """The run folder (a checkpoint lives in RUN_DIR/checkpoints/)."""
        return self.checkpoint.parent.parent


def open_run(path: str | Path, device: str = "auto") -> OpenRun:
    """The latest checkpoint of a run folder (or a checkpoint file), its config and its recipe with trained weights."""
    path = Path(path)
    checkpoint = path if path.is_file() else RunDir.open(path).latest_checkpoint()
    target = resolve_device(device)
    state = load_checkpoint(checkpoint, map_location=target, needs=OPEN_NEEDS)
    cfg = validate_config(state["config"], str(checkpoint))
    recipe = cfg.model.build(tuple(state["data"]["shape"]), state["data"]["num_classes"], target)
    restore_recipe(recipe, state, checkpoint, weights_only=True)
    return OpenRun(checkpoint, state, cfg, recipe)
