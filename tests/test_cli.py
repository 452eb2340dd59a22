"""The genlab command line, run in-process through cli.main."""

import errno
import os

import pytest
from PIL import Image

from genlab.cli import main
from genlab.config import dump_config


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

    code, _, err = run(capsys, "sample", str(run_dir), "--out", str(tmp_path))  # a folder, where a file should go
    assert code == 1 and err == f"genlab: error: {tmp_path}: Is a directory; check the paths you gave\n"


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
