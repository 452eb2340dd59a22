"""Broken data through the real command line: damaged MNIST files, unreadable or missing folder images, invalid
.npz arrays, and ``genlab eval`` on mismatched or mistyped image sets. Each is one ``genlab: error:`` line naming
the file and the fix (or, where genlab can do the right thing, a run that does it and says so)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .conftest import assert_clean_error


def idx_bytes(shape: tuple[int, ...], payload: bytes) -> bytes:
    """An IDX file of unsigned bytes: magic 0x000008NN, the dimensions, then ``payload``."""
    header = bytes([0, 0, 8, len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape)
    return header + payload


def save_images(folder: Path, arrays: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, array in enumerate(arrays):
        Image.fromarray(array).save(folder / f"{i:02d}.png")
    return folder


@pytest.mark.parametrize(
    ("images_file", "content", "problem"),
    [
        # 10 images of 28x28 announced, 100 bytes present, gzipped intact
        ("train-images-idx3-ubyte.gz", gzip.compress(idx_bytes((10, 28, 28), bytes(100))), "is truncated"),
        ("train-images-idx3-ubyte", b"PK\x03\x04" + bytes(64), "bad magic number 504b0304"),  # a zip, renamed
    ],
    ids=["truncated", "wrong-magic"],
)
def test_damaged_mnist_file_is_named_with_the_fix(cli, tiny_yaml, tmp_path, images_file, content, problem):
    mnist = tmp_path / "data" / "mnist"
    mnist.mkdir(parents=True)
    (mnist / images_file).write_bytes(content)
    (mnist / "train-labels-idx1-ubyte").write_bytes(idx_bytes((10,), bytes(10)))
    done = cli("train", tiny_yaml("data.name=mnist"), env={"GENLAB_DATA": str(tmp_path / "data")})
    assert_clean_error(done, str(mnist / images_file), problem, "data.download=true")


def _truncated_png(folder: Path) -> str:
    noise = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(noise).save(folder / "zz.png")
    (folder / "zz.png").write_bytes((folder / "zz.png").read_bytes()[:200])  # cut inside the pixel data
    return "zz.png"


def _no_images(folder: Path) -> str:
    for image in folder.iterdir():
        image.rename(image.with_suffix(".tif"))  # not an image extension genlab reads
    return "00.tif"


@pytest.mark.parametrize(
    ("damage", "needle"),
    [(_truncated_png, "re-save it as PNG or JPEG"), (_no_images, "Put images there")],
    ids=["truncated-png", "no-images"],
)
def test_unreadable_or_missing_folder_images_stop_training_naming_the_file(cli, tiny_yaml, tmp_path, damage, needle):
    folder = save_images(tmp_path / "images", [np.full((12, 12), 255, np.uint8)] * 3)
    named = damage(folder)
    done = cli("train", tiny_yaml("data.name=folder", f"data.path={folder}"))
    assert_clean_error(done, str(folder), named, needle)


def test_npz_with_nan_labels_is_refused_before_a_model_is_built(cli, tiny_yaml, tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, images=np.zeros((4, 8, 8), np.uint8), labels=np.array([0.0, 1.0, np.nan, 1.0]))
    done = cli("train", tiny_yaml("data.name=npz", f"data.path={path}", "model.condition=projection"))
    assert_clean_error(done, f"{path}: array 'labels'", "the first: nan", "class indices 0..K-1")


def test_eval_converts_grey_fakes_to_the_real_sets_channels_and_writes_strict_json(cli, tmp_path):
    rng = np.random.default_rng(0)
    real = save_images(tmp_path / "rgb", [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(6)])
    fake = save_images(tmp_path / "grey", [rng.integers(0, 256, (16, 16), dtype=np.uint8) for _ in range(6)])
    args = ("eval", "--real", real, "--fake", fake, "--features", "raw", "--size", "16", "--out", "e.json")
    done = cli(*args, env={"GENLAB_CACHE": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr
    assert "converted from 1 to the real set's 3 channels" in done.stdout
    saved = json.loads((tmp_path / "e.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert saved["metrics"]["kid_std"] is None  # 6 of 6 images in every KID subset: no error bar
    assert "no error bar" in saved["provenance"]["note"]


def test_eval_with_a_mistyped_data_set_suggests_the_name(cli, tmp_path):
    np.savez(tmp_path / "x.npz", images=np.zeros((4, 8, 8), np.uint8))
    assert_clean_error(cli("eval", "--real", "mnsit", "--fake", "x.npz"), "mnsit", "did you mean 'mnist'?")


def test_a_run_on_mixed_folder_images_trains_and_eval_names_the_ways_to_features(cli, tiny_yaml, tmp_path):
    rng = np.random.default_rng(1)
    mixed = [rng.integers(0, 256, (20, 30, 3), dtype=np.uint8), rng.integers(0, 256, (12, 12), dtype=np.uint8)]
    mixed += [np.full((10, 10), 40_000, np.uint16), np.zeros((16, 16, 4), np.uint8)]  # 16-bit; RGBA transparent
    folder = save_images(tmp_path / "mixed", mixed * 4)
    config = tiny_yaml("data.name=folder", f"data.path={folder}", "train.report=false", "train.steps=2")
    done = cli("train", config, "--out", "run")
    assert done.returncode == 0, done.stderr
    assert_clean_error(
        cli("eval", "run"),
        "data set 'folder'",
        "--features",
        "raw (pixels; needs no download)",
        "GENLAB_INCEPTION_WEIGHTS",
        f"`genlab classifier train --data folder --set data.path={folder} --out clf.pt`",
    )
