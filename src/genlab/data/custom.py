"""Data of the user's: a tensor of images (or vectors) or any map-style ``torch.utils.data.Dataset``, as an
:class:`~genlab.data.ImageSet` the trainer's device-resident sampler draws from.

    images = torch.rand(5000, 3, 32, 32) * 2 - 1        # floats in [-1, 1] (or say value_range=(0, 1))
    data = as_image_set(images)
    data = as_image_set(torchvision.datasets.CIFAR10("~/data", download=True))   # PIL images and labels

The set is read into memory once (genlab keeps training data on the training device, so no step waits for a data
loader). A data set's items may be images or ``(image, label)`` pairs; images may be tensors (C, H, W), arrays or
PIL images (H, W[, C]). uint8 images are read as 0..255; float images must lie in ``value_range``, which is mapped to
genlab's [-1, 1]. Vectors (N, D) are taken as they are. A run trained on such data records ``data.name: custom``
in its config.yaml: a config cannot load the data again, so resuming happens from Python with the same data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from genlab.data.base import DATASETS, DataConfig, ImageSet, RawImages
from genlab.errors import DataError

CUSTOM = "custom"
"""``data.name`` of a run trained on data handed in from Python."""
RANGE_SLACK = 1e-4


def as_image_set(
    data: ImageSet | torch.Tensor | Dataset,
    labels: torch.Tensor | Sequence[int] | None = None,
    *,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> ImageSet:
    """``data`` as an :class:`ImageSet`: images in [-1, 1] (N, C, H, W) or vectors (N, D), with integer
    ``labels`` (given here for a tensor; a data set's ``(image, label)`` items carry their own)."""
    if isinstance(data, ImageSet):
        return data
    if isinstance(data, torch.Tensor):
        images = data.detach().cpu()
    else:
        images, found = _read_dataset(data)
        labels = found if labels is None else labels
    if images.ndim == 3:  # (N, H, W): grey images
        images = images[:, None]
    if images.ndim not in (2, 4) or len(images) == 0:
        raise DataError(
            f"data must hold images (N, C, H, W), grey images (N, H, W) or vectors (N, D); got shape "
            f"{tuple(images.shape)}"
        )
    if images.ndim == 4:
        images = _to_unit_range(images, value_range)
    label_tensor = None if labels is None else torch.as_tensor(labels, dtype=torch.long).reshape(-1).cpu()
    if label_tensor is not None and (len(label_tensor) != len(images) or label_tensor.min() < 0):
        raise DataError(f"need one non-negative integer label per sample: {len(images)} samples, labels {labels}")
    return ImageSet(images.float().contiguous(), label_tensor, CUSTOM)


def _to_unit_range(images: torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
    """uint8 images from 0..255, float ones from ``value_range``, to [-1, 1]."""
    if images.dtype == torch.uint8:
        return images.float() / 127.5 - 1
    low, high = value_range
    if not high > low:
        raise DataError(f"value_range must be (low, high) with high > low; got {value_range}")
    images = images.float()
    seen = (float(images.min()), float(images.max()))
    slack = RANGE_SLACK * (high - low)
    if seen[0] < low - slack or seen[1] > high + slack or not all(np.isfinite(seen)):
        raise DataError(
            f"image values span [{seen[0]:.4g}, {seen[1]:.4g}], outside value_range {value_range}: genlab takes "
            "float images in [-1, 1]; pass value_range=(0, 1) for images in [0, 1] (e.g. from ToTensor), or uint8"
        )
    return ((images - low) / (high - low) * 2 - 1).clamp_(-1, 1)


def _read_dataset(data: Dataset) -> tuple[torch.Tensor, torch.Tensor | None]:
    """All items of a map-style data set stacked: images and, when the items are (image, label) pairs, labels."""
    try:
        n = len(data)  # type: ignore[arg-type]
    except TypeError:
        raise DataError(
            f"a {type(data).__name__} has no length; genlab reads map-style data sets (with __len__ and __getitem__) "
            "into memory, or a tensor of images"
        ) from None
    images, labels = [], []
    for index in range(n):
        item = data[index]
        if isinstance(item, (tuple, list)):
            if len(item) < 2:
                raise DataError(
                    f"item {index} of the data set is a {type(item).__name__} of {len(item)} values; expected an "
                    "image or an (image, label) pair"
                )
            item, label = item[0], item[1]
            labels.append(int(label))
        images.append(_image_tensor(item, index))
    if labels and len(labels) != len(images):
        raise DataError("some items of the data set carry a label and others do not")
    shapes = {tuple(image.shape) for image in images}
    if len(shapes) != 1:
        raise DataError(f"the data set's images differ in shape ({sorted(shapes)[:3]} ...); resize them to one size")
    return torch.stack(images), (torch.tensor(labels) if labels else None)


def _image_tensor(item: object, index: int) -> torch.Tensor:
    """A tensor (C, H, W), or an array / PIL image (H, W[, C]) as a tensor (C, H, W)."""
    if isinstance(item, torch.Tensor):
        return item.detach().cpu()
    try:
        array = np.asarray(item)
    except Exception as exc:  # whatever the item is, say which one failed and why
        raise DataError(f"item {index} of the data set is not an image ({type(item).__name__}: {exc})") from None
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.dtype == object:
        raise DataError(f"item {index} of the data set is not an image (array of shape {array.shape})")
    return torch.from_numpy(array.copy()).permute(2, 0, 1)  # a copy: arrays of PIL images are read-only


@DATASETS.register(CUSTOM)
def _handed_in(cfg: DataConfig) -> RawImages:
    raise DataError(
        "data.name 'custom' stands for data that was handed to genlab.fit from Python, which a config cannot load: "
        "pass the data again (genlab.fit or genlab.resume with data=...), or name a data set genlab loads "
        "(digits, mnist, folder, npz, ...)"
    )
