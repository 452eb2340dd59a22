"""Any folder of PNG/JPEG images; first-level sub-folders become class labels."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from genlab.data.base import DATASETS, DataConfig, RawImages, fit_images, required_path
from genlab.errors import DataError
from genlab.images import save_png, to_uint8

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


def read_image(path: Path, size: int, fit: str) -> torch.Tensor:
    """Decode one file to a (C, size, size) tensor in [0, 1], C = 1 for grey images and 3 otherwise."""
    with Image.open(path) as image:
        image = image.convert("L" if image.mode in GREY_MODES else "RGB")
        array = np.asarray(image, dtype=np.float32) / 255.0
    tensor = torch.from_numpy(array.reshape(array.shape[0], array.shape[1], -1)).permute(2, 0, 1)
    return fit_images(tensor.unsqueeze(0), size, fit)[0]


def image_files(root: Path) -> list[Path]:
    """Image files under ``root`` (sub-folders included), sorted."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS)


def save_images(images: torch.Tensor, folder: Path) -> list[Path]:
    """Write images in [-1, 1] (N, C, H, W) into ``folder`` as numbered PNGs (000000.png, 000001.png, ...), which
    :func:`load_folder` reads back in the same order.

    A folder that already holds images is refused: reading it back would mix them with these, and writing over
    them would lose the user's files.
    """
    existing = image_files(folder) if folder.is_dir() else []
    if existing:
        raise DataError(
            f"{folder} already holds {len(existing)} image file(s), which `genlab eval --fake` would mix with the "
            "samples; write them to a new or empty folder"
        )
    width = max(6, len(str(len(images) - 1)))
    return [save_png(picture, folder / f"{i:0{width}d}.png") for i, picture in enumerate(to_uint8(images))]


@DATASETS.register("folder")
def load_folder(cfg: DataConfig) -> RawImages:
    root = required_path(cfg, "the image folder", folder=True)
    files = image_files(root)
    in_subfolders = bool(files) and all(len(p.relative_to(root).parts) > 1 for p in files)
    class_names = sorted({p.relative_to(root).parts[0] for p in files}) if in_subfolders else None

    images, labels, skipped = [], [], []
    for path in files:
        try:
            images.append(read_image(path, cfg.size, cfg.fit))
        except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
            skipped.append(f"{path.name}: {exc}")
            continue
        if class_names is not None:
            labels.append(class_names.index(path.relative_to(root).parts[0]))
    if skipped:
        warnings.warn(f"skipped {len(skipped)} unreadable image file(s) in {root} (first: {skipped[0]})", stacklevel=2)
    if not images:
        raise DataError(
            f"no readable images in {root} ({len(files)} candidate files; looked for {', '.join(EXTENSIONS)}, "
            "searching sub-folders too)"
        )
    channels = max(image.shape[0] for image in images)
    stacked = torch.stack([image.expand(channels, -1, -1) for image in images])
    label_tensor = torch.tensor(labels, dtype=torch.int64) if class_names is not None else None
    return RawImages(stacked, label_tensor, tuple(class_names) if class_names else None)
