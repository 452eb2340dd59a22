"""Opening a run: the checkpoint's own model, and a note when a checkpoint does not belong to the folder it is in."""

import shutil

import pytest
import torch

import genlab
from genlab.config import load_config
from genlab.runs import open_run

from .conftest import TINY

CHECKPOINT = "checkpoints/ckpt-00000002.pt"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two finished runs of different configs: a (the tiny config) and b (z_dim 4, named 'other')."""
    root = tmp_path_factory.mktemp("runs")
    quick = ["train.steps=2", "train.report=false"]
    genlab.fit(load_config(TINY, quick), out=root / "a")
    genlab.fit(load_config(TINY, [*quick, "model.z_dim=4", "name=other"]), out=root / "b")
    return root


def drop_run_key(checkpoint):
    """Make ``checkpoint`` look like one written before checkpoints recorded their run folder."""
    state = torch.load(checkpoint, weights_only=True)
    del state["run"]
    torch.save(state, checkpoint)


def test_a_foreign_checkpoint_is_loaded_as_itself_with_a_note_naming_its_run_and_config(runs, tmp_path, capsys):
    mixed = tmp_path / "mixed"
    shutil.copytree(runs / "a", mixed)
    shutil.copy(runs / "b" / CHECKPOINT, mixed / "checkpoints" / "ckpt-00000009.pt")
    opened = open_run(mixed, "cpu")
    assert opened.config.name == "other" and opened.recipe.z_dim == 4
    note = capsys.readouterr().err
    assert note.startswith("note: ") and "model settings differ" in note, note
    assert f"run {runs / 'b'} (config 'other')" in note
    drop_run_key(mixed / "checkpoints" / "ckpt-00000009.pt")  # an old checkpoint: judged by its settings
    open_run(mixed, "cpu")
    assert "came from another run (config 'other')" in capsys.readouterr().err


def test_a_run_folder_moved_whole_keeps_its_checkpoints_and_a_sibling_run_is_named(runs, tmp_path, capsys):
    moved = tmp_path / "a"
    shutil.copytree(runs / "a", moved)
    open_run(moved, "cpu")
    assert capsys.readouterr().err == ""
    sibling = tmp_path / "sibling"  # the same settings, but written in another run folder
    shutil.copytree(runs / "a", sibling)
    open_run(sibling / CHECKPOINT, "cpu")
    assert f"written in another run folder): it came from run {runs / 'a'}" in capsys.readouterr().err
    drop_run_key(sibling / CHECKPOINT)
    assert open_run(sibling, "cpu").state["step"] == 2
    assert capsys.readouterr().err == ""
