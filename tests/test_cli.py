"""The genlab command line, run in-process through cli.main."""

import errno
import os

import pytest
import torch
from PIL import Image

import genlab
from genlab.cli import main
from genlab.config import dump_config
from genlab.data import DataConfig, load_dataset


def run(capsys, *argv):
    """Run the CLI; returns (exit code, stdout, stderr)."""
    code = 0
    try:
        main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["train"],
        ["sample"],
        ["demo"],
        ["config"],
        ["interpolate"],
        ["arithmetic"],
        ["edit"],
        ["direction"],
        ["likelihood"],
        ["judge"],
    ],
)
def test_every_help_shows_an_example(capsys, command):
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    assert "examples:" in out and "genlab " in out.split("examples:")[1]


def test_train_sample_resume_flow(capsys, tiny_config, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(dump_config(tiny_config()))
    run_dir = tmp_path / "run"

    code, out, err = run(capsys, "train", str(config), "--out", str(run_dir), "--set", "train.steps=10")
    assert code == 0, err
    assert "trained to step 10" in out and str(run_dir) in out
    assert (run_dir / "curves.png").is_file()

    code, out, _ = run(capsys, "sample", str(run_dir), "--n", "9", "--out", str(tmp_path / "g.png"), "--seed", "1")
    assert code == 0 and "wrote 9 samples" in out
    width, height = Image.open(tmp_path / "g.png").size
    assert width == height == 8 * (3 * 8 + 4 * 2)  # 3x3 grid of 8 px images, 2 px gaps, upscaled 8x

    code, out, _ = run(capsys, "train", "--resume", str(run_dir), "--set", "train.steps=15")
    assert code == 0 and "trained to step 15" in out

    code, _, err = run(capsys, "train", str(config), "--out", str(run_dir))
    assert code == 1 and "already holds a run" in err

    code, _, err = run(capsys, "sample", str(run_dir), "--out", f"{config}/g.png")  # a file, where a folder should be
    expected = f"cannot write {config}/g.png ({config} is a file, not a folder); choose another output path (--out)"
    assert code == 1 and err == f"genlab: error: {expected}\n"


def test_a_read_only_or_full_disk_is_a_one_line_error_and_other_oserrors_keep_their_traceback(capsys, monkeypatch):
    from genlab import api

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), "/mnt/cd/grid.png")

    monkeypatch.setattr(api, "sample", read_only)
    code, _, err = run(capsys, "sample", "runs/x", "--out", "grid.png")
    assert code == 1 and err == "genlab: error: /mnt/cd/grid.png: the file system is read-only; make it writable\n"

    def bug(*args, **kwargs):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), "/nonexistent/genlab-internal.bin")

    monkeypatch.setattr(api, "sample", bug)
    with pytest.raises(FileNotFoundError):
        main(["sample", "runs/x", "--out", "grid.png"])


def test_user_errors_are_one_line_messages_without_traceback(capsys, tmp_path):
    cases = [
        (["train"], "give a CONFIG"),
        (["train", "nope.yaml"], "config file nope.yaml not found; `genlab config --list` shows the"),
        (["train", "dcgan-digits", "--set", "train.steps=0"], "train.steps: must be >= 1 (got 0)"),
        (["train", "--resume", str(tmp_path)], "is not a genlab run folder"),
        (["sample", str(tmp_path / "nothing")], "is not a genlab run folder"),
    ]
    for argv, message in cases:
        code, _, err = run(capsys, *argv)
        assert code == 1, argv
        assert message in err and "Traceback" not in err, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sample", "--n", "0"], "n must be >= 1, got 0"),
        (["sample", "--seed", "-1"], "seed must be in [0, 4294967295], got -1"),
        (["sample", "--truncation", "-1"], "truncation must be >= 0, got -1.0"),
        (["sample", "--truncation", "nan"], "truncation must be a finite number >= 0, got nan"),
        (["interpolate", "--steps", "1"], "steps must be >= 2, got 1"),
        (["interpolate", "--rows", "0"], "rows must be >= 1, got 0"),
        (["interpolate", "--points", "1"], "points must be >= 2, got 1"),
        (["arithmetic", "--a", "class=1", "--b", "class=2", "--c", "class=3", "--n", "-5"], "n must be >= 1"),
        (["edit", "--to-class", "3", "--n", "0"], "n must be >= 1, got 0"),
        (["direction", "--positive", "ink=high", "--seed", "-2"], "seed must be in [0, 4294967295], got -2"),
        (["embed", "--n", "0"], "n must be >= 1, got 0"),
        (["traverse", "--steps", "0"], "steps must be >= 2, got 0"),
        (["likelihood", "--k", "0"], "k must be >= 1, got 0"),
        (["likelihood", "--n", "-1"], "n must be >= 1, got -1"),
        (["pretrain-finetune", "--n", "10,0"], "n_per_class must be >= 1, got 0"),
        (["pretrain-finetune", "--steps", "0"], "steps must be >= 1, got 0"),
    ],
)
def test_counts_and_seeds_out_of_range_are_refused_before_the_run_is_opened(capsys, tmp_path, argv, message):
    command, *options = argv
    code, _, err = run(capsys, command, str(tmp_path / "no-run"), *options)
    assert code == 1 and message in err and "Traceback" not in err, err


def test_ae_vs_vae_refuses_a_bad_count_before_opening_either_run(capsys, tmp_path):
    code, _, err = run(capsys, "ae-vs-vae", str(tmp_path / "ae"), str(tmp_path / "vae"), "--n", "0")
    assert code == 1 and "n must be >= 1, got 0" in err


def test_sample_writes_a_picture_an_array_file_or_a_folder_by_the_name_of_out(capsys, tiny_config, tmp_path):
    genlab.fit(tiny_config("model.condition=projection", "train.steps=2"), out=tmp_path / "run")
    images = genlab.sample(tmp_path / "run", 12, seed=3, out=tmp_path / "s.npz")
    saved = load_dataset(DataConfig(name="npz", path=str(tmp_path / "s.npz"), size=8))
    assert torch.allclose(saved.images, images, atol=1e-6) and saved.labels.tolist() == [*range(10), 0, 1]
    genlab.sample(tmp_path / "run", 3, label=7, out=tmp_path / "sevens.npz")
    assert load_dataset(DataConfig(name="npz", path=str(tmp_path / "sevens.npz"), size=8)).labels.tolist() == [7] * 3
    for out in (f"{tmp_path / 'pngs'}/", tmp_path / "no-suffix"):
        genlab.sample(tmp_path / "run", 12, seed=3, out=out)
        folder = load_dataset(DataConfig(name="folder", path=str(out), size=8))
        assert torch.allclose(folder.images, ((images + 1) * 127.5).round() / 127.5 - 1, atol=1e-6)
    code, _, err = run(capsys, "sample", str(tmp_path / "run"), "--out", str(tmp_path / "s.jpg"))
    assert code == 1 and ".png file" in err and ".npz file" in err and "folder (DIR/" in err
    assert not (tmp_path / "s.jpg").exists()


def test_corrupt_checkpoint_is_reported_not_unpickled(capsys, tiny_config, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(dump_config(tiny_config("train.steps=2")))
    run(capsys, "train", str(config), "--out", str(tmp_path / "run"))
    (checkpoint,) = (tmp_path / "run" / "checkpoints").iterdir()
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    code, _, err = run(capsys, "sample", str(tmp_path / "run"))
    assert code == 1 and "corrupt" in err and str(checkpoint) in err


def test_config_lists_presets_and_prints_resolved_yaml(capsys):
    code, out, _ = run(capsys, "config", "--list")
    from genlab.config import presets

    assert code == 0 and out.split() == presets() and "dcgan-digits" in out
    code, out, _ = run(capsys, "config", "dcgan-digits", "--set", "train.steps=3")
    assert code == 0 and "  steps: 3\n" in out and "  width: 64" in out


def test_demo_reports_where_its_pictures_are(capsys, tmp_path):
    code, out, err = run(
        capsys, "demo", "--out", str(tmp_path / "demo"), "--set", "train.steps=20", "--set", "train.progress=false"
    )
    assert code == 0, err
    for line in ("samples:", "curves:"):
        path = out.split(line)[1].split()[0]
        assert Image.open(path).size[0] > 100
