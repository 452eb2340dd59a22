"""Images stored as arrays in a NumPy ``.npz`` file (loaded without pickle).

Both arrays are checked before anything is built from them: images must be finite numbers in a known range and
layout, labels one finite non-negative integer per image numbering the classes 0..K-1 (K at most
:data:`MAX_CLASSES`), so that a stray ID array or a NaN cannot become a model with a class per image.
"""

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
INPUT_KEY = "inputs"
"""``data.pair: inputs``: the array of input images, one per image of the images array (its target)."""
MAX_CLASSES = 1000
"""The most classes labels may name (ImageNet's count): a conditional model grows with it."""


def to_unit_range(array: np.ndarray, where: str) -> np.ndarray:
    """uint8 -> [0, 1]; floats already in [0, 1] are kept, floats in [-1, 1] are mapped to [0, 1]."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if not np.issubdtype(array.dtype, np.floating):
        raise DataError(f"{where} has dtype {array.dtype}; store the images as uint8 (0-255) or float")
    finite = np.isfinite(array)
    if not finite.all():
        raise DataError(f"{where} holds {array.size - int(finite.sum())} NaN or inf value(s); remove or fix them")
    low, high = float(array.min()), float(array.max())
    if low >= 0.0 and high <= 1.0:
        return array.astype(np.float32)
    if low >= -1.0 and high <= 1.0:
        return (array.astype(np.float32) + 1.0) / 2.0
    raise DataError(f"{where}: float values span [{low:g}, {high:g}]; scale the images to [0, 1] or [-1, 1]")


def to_nchw(array: np.ndarray, where: str) -> np.ndarray:
    """Accept (N, H, W), (N, H, W, C) and (N, C, H, W) with C in {1, 3}."""
    if array.ndim == 3:
        return array[:, None]
    if array.ndim == 4 and array.shape[1] in (1, 3):
        return array
    if array.ndim == 4 and array.shape[3] in (1, 3):
        return array.transpose(0, 3, 1, 2)
    raise DataError(f"{where} has shape {array.shape}; expected (N, H, W), (N, H, W, C) or (N, C, H, W) with C 1 or 3")


def check_labels(array: np.ndarray, count: int, where: str) -> torch.Tensor:
    """One class index per image, (N,) int64: finite integers >= 0 below MAX_CLASSES. A class may be absent (the
    samples of one class of a conditional generator are a valid set)."""
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise DataError(
            f"{where} has shape {array.shape}; store one class index per image, shape (N,) "
            "(one-hot labels: store labels.argmax(axis=1))"
        )
    if len(array) != count:
        raise DataError(f"{where}: {len(array)} labels for {count} images; store one label per image")
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise DataError(f"{where} has dtype {array.dtype}; store the labels as integers 0..K-1")
    invalid = ~np.isfinite(array) | (array != np.round(array)) | (array < 0)
    if invalid.any():
        raise DataError(
            f"{where} holds {int(invalid.sum())} label(s) that are not whole numbers >= 0 (the first: "
            f"{array[invalid][0]}); labels must be class indices 0..K-1"
        )
    highest = array.max()
    if highest >= MAX_CLASSES:
        raise DataError(
            f"{where} runs up to {highest:g} with {len(np.unique(array))} distinct value(s); labels must number the "
            f"classes 0..K-1 with K at most {MAX_CLASSES} (a class index sizes the conditional model's label "
            "embedding). Renumber them (np.unique(labels, return_inverse=True)[1]), or leave them out for an "
            "unconditional data set"
        )
    return torch.from_numpy(array.astype(np.int64))


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
    images = image_array(arrays, image_key, path)
    label_key = next((k for k in LABEL_KEYS if k in arrays), None)
    labels = None
    if label_key is not None:
        labels = check_labels(arrays[label_key], len(images), f"{path}: array '{label_key}'")
    inputs = paired_inputs(arrays, images, image_key, path) if cfg.pair == "inputs" else None
    return RawImages(images, labels, inputs=inputs)


def image_array(arrays: dict[str, np.ndarray], key: str, path: Path) -> torch.Tensor:
    """The array ``key`` as images in [0, 1] (N, C, H, W), checked."""
    where = f"{path}: array '{key}'"
    if arrays[key].size == 0:
        raise DataError(f"{where} is empty (shape {arrays[key].shape}); store at least one image")
    return torch.from_numpy(np.ascontiguousarray(to_nchw(to_unit_range(arrays[key], where), where)))


def paired_inputs(arrays: dict[str, np.ndarray], targets: torch.Tensor, target_key: str, path: Path) -> torch.Tensor:
    """The 'inputs' array, checked to align with the targets image by image: as many, of the same height and width
    (the channels may differ: a grey half is shown beside a colour one in colour)."""
    if INPUT_KEY not in arrays:
        raise DataError(
            f"data.pair: inputs needs an '{INPUT_KEY}' array in {path} beside '{target_key}' (the targets), one input "
            f"image per target; it holds: {', '.join(arrays)}"
        )
    inputs = image_array(arrays, INPUT_KEY, path)
    if len(inputs) != len(targets):
        raise DataError(
            f"{path}: {len(inputs)} '{INPUT_KEY}' for {len(targets)} '{target_key}'; a paired set holds one input "
            "per target, in the same order"
        )
    if inputs.shape[-2:] != targets.shape[-2:]:
        raise DataError(
            f"{path}: the '{INPUT_KEY}' are {tuple(inputs.shape[-2:])} (H, W) and the '{target_key}' "
            f"{tuple(targets.shape[-2:])}; the two images of a pair must be aligned pixel by pixel, at the same size"
        )
    return inputs


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
