"""Config mistakes through the real command line: each is refused before any training or computing, with one line
that names the file or field and the fix, and nothing half-made left behind."""

from __future__ import annotations

import os
import shutil

import pytest
import yaml

from .conftest import assert_clean_error


def test_a_missing_eval_classifier_is_refused_before_step_1(cli, tiny_yaml, tmp_path):
    config = tiny_yaml("eval.every=10", "eval.n=32", "eval.metrics=[fid]", "eval.features=nowhere/clf.pt")
    done = cli("train", config, "--out", "run")
    assert_clean_error(done, "eval.every", "nowhere/clf.pt", "eval.features")
    # No run was made in it (no config.yaml, no checkpoints), so the fixed config trains into the same --out.
    assert not (tmp_path / "run" / "config.yaml").exists() and not (tmp_path / "run" / "checkpoints").exists()


def test_a_hand_edited_run_config_is_refused_on_resume(cli, trained_run, tmp_path):
    run = shutil.copytree(trained_run, tmp_path / "run")
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["model"]["d_optim"]["lr"] = 0.01
    config["data"]["name"] = "mnist"
    config["train"]["steps"] = 30  # a resumable section: not a complaint
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    done = cli("train", "--resume", run)
    line = assert_clean_error(done, "config.yaml", "model.d_optim.lr: 0.0002 → 0.01", "data.name: digits → mnist")
    assert "train.steps" not in line and "--set" in line
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == sorted(
        p.name for p in (trained_run / "checkpoints").iterdir()
    )


def test_a_config_file_that_is_not_utf8_is_named(cli, tmp_path):
    (tmp_path / "latin1.yaml").write_bytes("name: café\n".encode("latin-1"))
    assert_clean_error(cli("train", "latin1.yaml"), "latin1.yaml", "UTF-8")


def test_a_yaml_error_in_a_run_config_is_named_on_resume(cli, trained_run, tmp_path):
    run = shutil.copytree(trained_run, tmp_path / "run")
    (run / "config.yaml").write_text("train: [unclosed\n")
    assert_clean_error(cli("train", "--resume", run), "config.yaml", "not valid YAML")


def test_set_goes_through_a_kind_shorthand(cli):
    done = cli(
        "config",
        "dcgan-digits",  # objective: nonsaturating, the shorthand of {name: nonsaturating}
        "--set",
        "model.objective.name=wgan-gp",
        "--set",
        "model.objective.gp_weight=5",
    )
    assert done.returncode == 0, done.stderr
    objective = yaml.safe_load(done.stdout)["model"]["objective"]
    assert (objective["name"], objective["gp_weight"]) == ("wgan-gp", 5)


def test_a_boolean_is_not_a_step_count(cli, tiny_yaml):
    done = cli("train", tiny_yaml(), "--set", "train.steps=true")
    assert_clean_error(done, "invalid config", "train.steps: must be a number, not true or false (got True)")


def test_an_empty_config_file_is_refused(cli, tmp_path):
    (tmp_path / "empty.yaml").write_text("# settings to come\n")
    assert_clean_error(cli("train", "empty.yaml"), "empty.yaml", "empty", "dcgan-digits")
    assert not (tmp_path / "runs").exists()


def test_eval_refuses_an_output_under_a_file_before_computing(cli, trained_run, tmp_path):
    (tmp_path / "somefile.txt").write_text("not a folder\n")
    done = cli("eval", trained_run, "--out", "somefile.txt/eval.json")
    assert_clean_error(done, "somefile.txt/eval.json", "--out")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_eval_refuses_a_read_only_output_folder(cli, trained_run, tmp_path):
    (tmp_path / "ro").mkdir(mode=0o555)
    done = cli("eval", trained_run, "--out", "ro/eval.json")
    assert_clean_error(done, "ro/eval.json", "--out")
