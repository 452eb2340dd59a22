"""Opening a finished (or interrupted) run: its checkpoint, config and rebuilt model, for sampling and analysis."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NamedTuple

from genlab.config import Config, read_run_config, validate_config
from genlab.errors import GenlabError
from genlab.models import Recipe
from genlab.train import RunDir, load_checkpoint, resolve_device
from genlab.train.checkpoint import restore_recipe

OPEN_NEEDS = ("config", "data", "recipe", "step")
"""What opening a checkpoint reads: the config and data shape rebuild the model (build.py records them)."""

COMPARED_SECTIONS = ("model", "data")
"""The settings a checkpoint shares with the run folder it belongs to (train.* and the like change on resume)."""


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
    """The latest checkpoint of a run folder (or a checkpoint file), its config and its recipe with trained weights.

    The model is always the one the checkpoint's own config describes; when the checkpoint sits in the checkpoints/
    folder of a run it does not belong to, a note on stderr names the run and config it came from.
    """
    path = Path(path)
    checkpoint = path if path.is_file() else RunDir.open(path).latest_checkpoint()
    target = resolve_device(device)
    state = load_checkpoint(checkpoint, map_location=target, needs=OPEN_NEEDS)
    cfg = validate_config(state["config"], str(checkpoint))
    note = foreign_checkpoint(checkpoint, state, cfg)
    if note:
        print(f"note: {note}", file=sys.stderr)
    recipe = cfg.model.build(tuple(state["data"]["shape"]), state["data"]["num_classes"], target)
    restore_recipe(recipe, state, checkpoint, weights_only=True)
    return OpenRun(checkpoint, state, cfg, recipe)


def foreign_checkpoint(checkpoint: Path, state: dict, cfg: Config) -> str | None:
    """Why ``checkpoint`` (with its ``state`` and config ``cfg``) does not belong to the run folder whose
    checkpoints/ it sits in, or None when it does or sits in no run folder.

    It does not when its model or data settings differ from RUN/config.yaml, or when the run folder it was written
    in (its 'run' key; older checkpoints lack it and are judged by their settings alone) has another name: folders
    are compared by name, so a run folder moved or copied whole still owns its checkpoints.
    """
    run = RunDir(checkpoint.parent.parent)
    if checkpoint.parent.name != "checkpoints" or not run.config_path.is_file():
        return None
    written_in = state.get("run")
    origin = f"run {written_in}" if written_in else "another run"
    try:
        own = read_run_config(run).model_dump(mode="json")
    except GenlabError as error:
        return f"cannot check that {checkpoint} belongs to {run.path}, whose config is unreadable ({error})"
    theirs = cfg.model_dump(mode="json")
    differ = [section for section in COMPARED_SECTIONS if own[section] != theirs[section]]
    if not differ and (written_in is None or Path(written_in).name == run.path.name):
        return None
    why = "it was written in another run folder"
    if differ:
        why = f"its {' and '.join(differ)} settings differ from {run.config_path}"
    return (
        f"{checkpoint} is not {run.path}'s own checkpoint ({why}): it came from {origin} (config '{cfg.name}'); "
        "genlab uses the checkpoint's own model"
    )
