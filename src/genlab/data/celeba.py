"""CelebA in its aligned-and-cropped layout: ``img_align_celeba/`` (178x218 JPEG portraits) and, optionally, the
attributes file ``list_attr_celeba.txt``.

Files are searched in ``data.path`` (or its ``celeba/`` sub-folder) or else in ``$GENLAB_DATA/celeba``. The
attributes file has the official format: the image count, the attribute names, then one line per image, its file
name and one value per attribute, 1 (has it) or -1 (has it not). ``data.attribute`` turns one column into labels
1/0, e.g. Smiling for a conditional model; without it the images are unlabelled. The images load into memory, or
stream from disk when larger than data.memory_gib (:mod:`genlab.data.stream`); data.limit gives a quick look.

With the official partition file ``list_eval_partition.txt`` beside them (one line per image: its file name and 0
for training, 1 for validation, 2 for test), ``data.split`` train takes the 162,770 training images and test the
19,962 test images; all takes every image, the validation ones included. Without the file every split is every
image, as for a plain folder.
"""

from __future__ import annotations

from pathlib import Path

import torch

from genlab.data.base import DATASETS, DataConfig, RawImages, data_home
from genlab.data.folder import PHOTOGRAPHS, ImageFiles, image_files
from genlab.errors import DataError
from genlab.registry import did_you_mean

IMAGES = "img_align_celeba"
ATTRIBUTES = "list_attr_celeba.txt"
PARTITION = "list_eval_partition.txt"
SPLIT_PARTS = {"train": "0", "test": "2"}
"""The partition file's value of each data.split (1, validation, belongs only to split all)."""


def candidate_folders(cfg: DataConfig) -> list[Path]:
    """Folders searched for ``img_align_celeba/``, in order."""
    if cfg.path:
        root = Path(cfg.path).expanduser()
        return [root, root / "celeba"]
    return [data_home() / "celeba"]


def locate(cfg: DataConfig) -> Path:
    """The folder that holds ``img_align_celeba/``; a DataError that says where genlab looked when none does."""
    folders = candidate_folders(cfg)
    for folder in folders:
        if (folder / IMAGES).is_dir():
            return folder
    searched = ", ".join(str(f) for f in folders)
    raise DataError(
        f"CelebA not found: no {IMAGES}/ folder in {searched}. Unpack img_align_celeba.zip there, or point data.path "
        "(or the GENLAB_DATA environment variable, which holds a celeba/ sub-folder) at the folder that holds it"
    )


def read_attribute(path: Path, attribute: str) -> dict[str, int]:
    """File name -> 1 or 0: the ``attribute`` column of the attributes file at ``path``, checked line by line."""
    if not path.is_file():
        raise DataError(f"data.attribute '{attribute}' needs the attributes file {path}; put {ATTRIBUTES} there")
    lines = path.read_text(errors="replace").splitlines()
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise DataError(f"{path} should start with the image count, then the attribute names: it is not {ATTRIBUTES}")
    names = lines[1].split()
    if attribute not in names:
        raise DataError(
            f"unknown attribute '{attribute}'{did_you_mean(attribute, names)} (data.attribute); {path} has: "
            f"{', '.join(names)}"
        )
    rows = [(number, line.split()) for number, line in enumerate(lines[2:], start=3) if line.strip()]
    if len(rows) != int(lines[0]):
        raise DataError(f"{path} announces {int(lines[0])} images but lists {len(rows)}: it is truncated or corrupt")
    column = names.index(attribute) + 1
    labels = {}
    for number, row in rows:
        if len(row) != len(names) + 1 or any(value not in ("1", "-1") for value in row[1:]):
            raise DataError(
                f"{path} line {number}: expected a file name and {len(names)} values of 1 or -1, got {' '.join(row)}"
            )
        labels[row[0]] = int(row[column] == "1")
    return labels


def read_partition(path: Path) -> dict[str, str]:
    """File name -> "0", "1" or "2": the official partition file at ``path``, checked line by line."""
    table = {}
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        row = line.split()
        if not row:
            continue
        if len(row) != 2 or row[1] not in ("0", "1", "2"):
            raise DataError(
                f"{path} line {number}: expected a file name and 0 (train), 1 (validation) or 2 (test), got {line!r}; "
                f"use the {PARTITION} that came with CelebA, or remove it to use every image in every split"
            )
        table[row[0]] = row[1]
    return table


def in_split(files: list[Path], table: dict[str, str], split: str, source: Path) -> list[Path]:
    """The ``files`` of ``split`` by the partition ``table``; every file must have its line in it."""
    missing = [p.name for p in files if p.name not in table]
    if missing:
        raise DataError(
            f"{len(missing)} image(s) have no line in {source}, e.g. {missing[0]}: use the partition file that came "
            "with these images, or remove it to use every image in every split"
        )
    return [p for p in files if table[p.name] == SPLIT_PARTS[split]]


def labels_for(files: list[Path], table: dict[str, int], source: Path) -> torch.Tensor:
    """The labels of ``files`` in order; every file must have its line in the attributes file."""
    missing = [p.name for p in files if p.name not in table]
    if missing:
        raise DataError(
            f"{len(missing)} image(s) have no line in {source}, e.g. {missing[0]}: use the attributes file that "
            "came with these images, or remove the images it does not list"
        )
    return torch.tensor([table[p.name] for p in files], dtype=torch.int64)


@PHOTOGRAPHS.register("celeba")
def list_celeba(cfg: DataConfig) -> ImageFiles:
    root = locate(cfg)
    files = image_files(root / IMAGES)
    if not files:
        raise DataError(f"{root / IMAGES} holds no image files; unpack img_align_celeba.zip into {root}")
    if cfg.split != "all" and (root / PARTITION).is_file():
        files = in_split(files, read_partition(root / PARTITION), cfg.split, root / PARTITION)
    labels = None
    if cfg.attribute is not None:
        labels = labels_for(files, read_attribute(root / ATTRIBUTES, cfg.attribute), root / ATTRIBUTES)
    if labels is None:
        return ImageFiles(tuple(files), 3)
    return ImageFiles(tuple(files), 3, labels, (f"not {cfg.attribute}", cfg.attribute))


@DATASETS.register("celeba")
def load_celeba(cfg: DataConfig) -> RawImages:
    return list_celeba(cfg).decoded(cfg)
