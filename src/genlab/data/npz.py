"""Images stored as arrays in a NumPy ``.npz`` file (loaded without pickle)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from genlab.data.base import DATASETS, DataConfig, RawImages, required_path
from genlab.errors import DataError
from genlab.fileio import atomic_write

IMAGE_KEYS = ("images", "x")
LABEL_KEYS = ("labels", "y")


def to_unit_range(array: np.ndarray, path: Path) -> np.ndarray:
    """uint8 -> [0, 1]; floats already in [0, 1] are kept, floats in [-1, 1] are mapped to [0, 1]."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if not np.issubdtype(array.dtype, np.floating):
        raise DataError(f"{path}: images have dtype {array.dtype}; store them as uint8 (0-255) or float")
    low, high = float(array.min()), float(array.max())
    if low >= 0.0 and high <= 1.0:
        return array.astype(np.float32)
    if low >= -1.0 and high <= 1.0:
        return (array.astype(np.float32) + 1.0) / 2.0
    raise DataError(f"{path}: float images span [{low:g}, {high:g}]; scale them to [0, 1] or [-1, 1]")


def to_nchw(array: np.ndarray, path: Path) -> np.ndarray:
    """Accept (N, H, W), (N, H, W, C) and (N, C, H, W) with C in {1, 3}."""
    if array.ndim == 3:
        return array[:, None]
    if array.ndim == 4 and array.shape[1] in (1, 3):
        return array
    if array.ndim == 4 and array.shape[3] in (1, 3):
        return array.transpose(0, 3, 1, 2)
    raise DataError(
        f"{path}: images have shape {array.shape}; expected (N, H, W), (N, H, W, C) or (N, C, H, W), C 1 or 3"
    )


@DATASETS.register("npz")
def load_npz(cfg: DataConfig) -> RawImages:
    path = required_path(cfg, "the .npz file", folder=False)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"cannot read {path} as .npz: {exc}") from None
    image_key = next((k for k in IMAGE_KEYS if k in arrays), None)
    if image_key is None:
        raise DataError(f"{path} has no 'images' (or 'x') array; it holds: {', '.join(arrays) or 'nothing'}")
    images = to_nchw(to_unit_range(arrays[image_key], path), path)
    label_key = next((k for k in LABEL_KEYS if k in arrays), None)
    labels = None
    if label_key is not None:
        labels = torch.from_numpy(np.asarray(arrays[label_key]).astype(np.int64).reshape(-1))
        if len(labels) != len(images):
            raise DataError(f"{path}: {len(labels)} labels for {len(images)} images")
    return RawImages(torch.from_numpy(np.ascontiguousarray(images)), labels)


def save_npz(path: str | Path, images: torch.Tensor, labels: torch.Tensor | None = None) -> Path:
    """Write images in [-1, 1] (N, C, H, W) as the .npz file :func:`load_npz` reads back: float32 in [0, 1] under
    'images', (N, C, H, W), and the int64 class ``labels`` of a conditional generator's samples under 'labels'.

    Floats keep the samples' values unrounded, and [0, 1] is never mistaken for [-1, 1] by :func:`to_unit_range`
    (an image of only non-negative values in [-1, 1] would be); values outside [-1, 1] are clamped, as in a picture.
    """
    arrays = {IMAGE_KEYS[0]: ((images.detach().float().cpu().clamp(-1, 1) + 1) / 2).numpy()}
    if labels is not None:
        arrays[LABEL_KEYS[0]] = labels.detach().cpu().numpy().astype(np.int64)
    with atomic_write(path) as handle:
        np.savez_compressed(handle, **arrays)
    return Path(path)
