"""Commands given numbers out of range, outputs of every kind, failing edits and checkpoints of another run."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

import genlab

from .conftest import assert_clean_error


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sample", "--n", "0"], "n must be >= 1, got 0"),
        (["sample", "--truncation", "nan"], "truncation must be a finite number >= 0, got nan"),
        (["eval", "--n", "0"], "n: must be >= 2 (got 0)"),
    ],
)
def test_numbers_out_of_range_are_refused_by_name(cli, trained_run, tmp_path, argv, message):
    command, *options = argv
    done = cli(command, trained_run, *options)
    assert_clean_error(done, message)
    assert not list(tmp_path.glob("*.png")) and not (trained_run / "eval.json").exists()


def test_samples_saved_as_npz_are_evaluated_and_a_short_set_is_noted(cli, trained_run, tmp_path):
    done = cli("sample", trained_run, "--n", "50", "--seed", "4", "--out", "fakes.npz")
    assert done.returncode == 0, done.stderr
    with np.load(tmp_path / "fakes.npz") as archive:
        saved = archive["images"]
    expected = (genlab.sample(trained_run, 50, seed=4, device="cpu").numpy() + 1) / 2
    assert np.allclose(saved, expected, atol=1e-6)

    done = cli("eval", "--real", "digits", "--fake", "fakes.npz", "--metrics", "fid", "--n", "2000", "--out", "e.json")
    assert done.returncode == 0, done.stderr
    assert "note: fakes.npz holds 50 images, fewer than n = 2000" in done.stderr
    assert "has fewer than n = 2000 images: compared with all 1437" in done.stderr
    provenance = json.loads((tmp_path / "e.json").read_text())["provenance"]
    assert provenance["n_fake"] == 50 and provenance["n_requested"] == 2000 and "50 images" in provenance["n_note"]


def test_an_unknown_output_suffix_lists_the_three_kinds(cli, trained_run, tmp_path):
    done = cli("sample", trained_run, "--out", "samples.jpg")
    assert_clean_error(done, "samples.jpg", ".png file", ".npz file", "folder (DIR/")
    assert not (tmp_path / "samples.jpg").exists()


def test_edits_that_all_fail_exit_with_advice_and_write_null_means(cli, trained_run, tmp_path):
    done = cli("edit", trained_run, "--to-class", "3", "--n", "8", "--max-steps", "0", "--out", "edit.png")
    assert_clean_error(done, "reached class 3", "within 0 steps", "--max-steps", "--lr", "--p", "edit.json")
    numbers = json.loads((tmp_path / "edit.json").read_text())
    assert numbers["succeeded"] == 0 and numbers["edited"] == 8 and numbers["mean_dz"] is None
    assert (tmp_path / "edit.png").is_file()


def test_a_checkpoint_from_another_run_is_sampled_with_a_note_naming_it(cli, trained_run, tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(trained_run, mixed)
    (latest,) = sorted((mixed / "checkpoints").glob("ckpt-*.pt"))[-1:]
    state = torch.load(latest, weights_only=True)  # as if trained on inverted digits in another run folder
    state["config"] |= {"name": "other", "data": {**state["config"]["data"], "style": "invert"}}
    state["run"] = str(tmp_path / "other-run")
    torch.save(state, mixed / "checkpoints" / "ckpt-00000099.pt")
    done = cli("sample", mixed, "--out", "s.png")
    assert done.returncode == 0, done.stderr
    assert "ckpt-00000099.pt is not" in done.stderr and "data settings differ" in done.stderr, done.stderr
    assert f"it came from run {tmp_path / 'other-run'} (config 'other')" in done.stderr
