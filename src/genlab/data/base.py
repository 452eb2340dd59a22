"""The data contract: a config section, an in-memory data set, a loader registry and the one resize routine.

Loaders return images as float tensors in [0, 1] with shape (N, C, H, W); :func:`load_dataset` then applies the
steps every data set shares (channel conversion, fitting to the model size, the split limit) and maps the values
to [-1, 1], the range a tanh generator produces (seed tip: "normalise inputs between -1 and 1").

Loaders may instead return vectors (N, D), e.g. points of a 2-D toy mixture: those are taken as they are (only the
split limit applies), because their coordinates are the data: rescaling would move the modes the metrics look for.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import torch
import torch.nn.functional as F
from pydantic import ValidationInfo, field_validator, model_validator

from genlab.data.pairs import DERIVED, Pair, stack_pair
from genlab.errors import DataError
from genlab.fileio import atomic_write
from genlab.registry import Registry
from genlab.schema import Range, Section

DEFAULT_DATA_HOME = "~/.cache/genlab/data"


class DataConfig(Section):
    """Which images (or points) to train on and how to shape them."""

    name: str = "digits"
    """Data set: digits (bundled, no download), mnist (IDX files), cifar10 (the python batches), folder (PNG/JPEG),
    celeba (img_align_celeba/), npz, ring8 and grid25 (2-D Gaussian mixtures, generated; size, channels and fit do
    not apply to them)."""
    size: Annotated[int, Range(ge=4, le=1024)] = 32
    """Side length the images are resized (or padded) to; ignored by vector data sets (ring8, grid25)."""
    channels: Literal[1, 3] | None = None
    """Force grey (1) or RGB (3); by default the data set's own channel count."""
    split: Literal["train", "test", "all"] = "train"
    """The official part of the set: digits, mnist, stacked_mnist, cifar10, the 2-D mixtures and celeba (with its
    list_eval_partition.txt) have a train and a test part; folder and npz give every image for every split."""
    path: str | None = None
    """mnist: folder with the IDX files; cifar10: folder with cifar-10-batches-py/ or cifar-10-python.tar.gz;
    celeba: folder with img_align_celeba/; folder: the image folder; npz: the .npz file."""
    fit: Literal["resize", "crop", "pad"] = "resize"
    """resize: scale the shorter side to `size`, then centre-crop; crop: centre-crop the largest square, then scale
    it to `size` (the same picture, but only the kept square is resampled: cheaper on large photographs); pad:
    centre-pad or crop without scaling. Scaling down is antialiased. Default: crop for celeba, resize otherwise."""
    flip: bool = False
    """Mirror a random half of every training batch left to right (augmentation for photographs; not for digits
    or text, whose mirror images are not data). Drawn from the seed and the batch position, so resume stays exact."""
    random_crop: Annotated[float, Range(gt=0, lt=1)] | None = None
    """Cut every training image to a random square window, its side between this fraction and the whole of the
    image, at a random place, scaled back to data.size (a random resized crop, e.g. 0.85: augmentation for small
    sets of photographs). Drawn from the seed and the batch position, so resume stays exact."""
    attribute: str | None = None
    """celeba: label every image 0/1 by this column of list_attr_celeba.txt (e.g. Smiling)."""
    download: bool = False
    """mnist and cifar10: download the files when they are missing (needs network)."""
    limit: Annotated[int, Range(ge=1)] | None = None
    """Use only the first `limit` images (quick experiments)."""
    half: Literal["all", "first", "second"] = "all"
    """Keep only the first or the second half of the split (before ``limit``): two disjoint image sets from one
    data set, e.g. the two domains of an unpaired translation, so that no image appears in both."""
    style: Literal["none", "invert", "thicken"] = "none"
    """Restyle every image after resizing: invert (white background, dark strokes) or thicken (strokes grown by
    one pixel each way, a 3x3 maximum filter). Makes a second domain out of a data set."""
    pair: Pair = "none"
    """Paired translation (recipe pix2pix): stack an input image in front of every image on the channels, the image
    being the target. edges (its outline), blur (Gaussian, sigma 1 px) and mask (bottom half mid-grey) derive the
    input from the image; inputs reads it from the npz file's 'inputs' array, aligned with its 'images'."""
    loader: Literal["auto", "memory", "stream"] = "auto"
    """folder and celeba: memory decodes every image once and keeps the set on the training device; stream reads
    each batch's files from disk in worker processes (the same batches, slower); auto streams when the set would
    take more than `memory_gib` on the device. Other data sets always load into memory."""
    memory_gib: Annotated[float, Range(gt=0, le=4096)] = 2.0
    """The device memory (GiB) a folder or celeba set may take before `loader: auto` streams it, counted as it is
    stored there: float32, 4 bytes per value (images x channels x size x size x 4), known from the file count and
    headers without decoding. 2 GiB holds about 43,000 RGB images at 64 px or 11,000 at 128 px."""
    workers: Annotated[int, Range(ge=0, le=64)] | None = None
    """Worker processes that decode files for the streaming loader (0: in the training process); by default
    min(4, CPU count)."""

    @model_validator(mode="before")
    @classmethod
    def _default_fit(cls, data: Any) -> Any:
        """Aligned face crops are nearly square portraits: crop keeps the face centred, the fit photographs want."""
        if isinstance(data, dict) and "fit" not in data:
            return {**data, "fit": "crop" if data.get("name") == "celeba" else "resize"}
        return data

    @field_validator("name")
    @classmethod
    def _known_name(cls, name: str) -> str:
        if name not in DATASETS:
            raise ValueError(DATASETS.unknown_message(name))
        return name

    @field_validator("attribute")
    @classmethod
    def _attribute_of_celeba(cls, attribute: str | None, info: ValidationInfo) -> str | None:
        if attribute is not None and info.data.get("name", "celeba") != "celeba":
            raise ValueError(f"data.attribute labels CelebA images; data set '{info.data['name']}' has no attributes")
        return attribute

    @field_validator("pair")
    @classmethod
    def _inputs_of_npz(cls, pair: str, info: ValidationInfo) -> str:
        if pair == "inputs" and info.data.get("name") != "npz":
            raise ValueError(
                f"data.pair: inputs reads the 'inputs' array of an npz file; data set '{info.data.get('name')}' has "
                "none: use name: npz, or derive the inputs (edges, blur, mask)"
            )
        return pair


def class_count(labels: torch.Tensor | None, class_names: tuple[str, ...] | None) -> int | None:
    """How many classes a labelled set has: its named classes, else the largest label + 1."""
    if class_names is not None:
        return len(class_names)
    return None if labels is None else int(labels.max()) + 1


@dataclass(frozen=True)
class ImageSet:
    """Samples with optional integer labels and the class names when known.

    Usually images in [-1, 1] with shape (N, C, H, W); vector data sets hold (N, D) points in their own units.
    """

    images: torch.Tensor
    labels: torch.Tensor | None
    name: str
    class_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.images.ndim not in (2, 4):
            raise ValueError(f"images must have shape (N, C, H, W) or (N, D), got {tuple(self.images.shape)}")
        if self.labels is not None and len(self.labels) != len(self.images):
            raise ValueError(f"{len(self.labels)} labels for {len(self.images)} images")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one sample: (channels, height, width) of an image, (D,) of a vector."""
        return tuple(int(d) for d in self.images.shape[1:])

    @property
    def num_classes(self) -> int | None:
        return class_count(self.labels, self.class_names)

    def take(self, index: torch.Tensor) -> torch.Tensor:
        """The samples at ``index`` (what a streamed set decodes from disk instead)."""
        return self.images[index]

    def to(self, device: torch.device | str, memory_format: torch.memory_format = torch.contiguous_format) -> ImageSet:
        """The set on ``device``; images (not vectors) in ``memory_format``."""
        labels = None if self.labels is None else self.labels.to(device)
        images = self.images.to(device)
        if images.ndim == 4:
            images = images.contiguous(memory_format=memory_format)
        return ImageSet(images, labels, self.name, self.class_names)


@dataclass(frozen=True)
class RawImages:
    """What a loader returns: images in [0, 1] (N, C, H, W) or vectors (N, D), labels, class names."""

    images: torch.Tensor
    labels: torch.Tensor | None = None
    class_names: tuple[str, ...] | None = None
    inputs: torch.Tensor | None = None
    """``data.pair: inputs``: the input image of each image, in [0, 1] (N, C, H', W') like ``images``."""


Loader = Callable[[DataConfig], RawImages]
DATASETS: Registry[Loader] = Registry("data set")


def data_home() -> Path:
    """Folder that holds one sub-folder per downloadable data set: ``$GENLAB_DATA`` or ~/.cache/genlab/data."""
    return Path(os.environ.get("GENLAB_DATA") or DEFAULT_DATA_HOME).expanduser()


def download(url: str, target: Path, by_hand: str) -> None:
    """Fetch ``url`` into ``target`` atomically (an interrupted download leaves no partial file to be mistaken for
    data); ``by_hand`` completes the error message with how to get the file without network."""
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"downloading {url} -> {target}")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, atomic_write(target) as handle:
            shutil.copyfileobj(response, handle)
    except (urllib.error.URLError, OSError) as exc:
        raise DataError(f"could not download {url}: {exc}. Without network, {by_hand}") from None


def required_path(cfg: DataConfig, what: str, *, folder: bool) -> Path:
    """``data.path`` for a loader that cannot work without it, checked to be an existing folder or file."""
    if not cfg.path:
        raise DataError(f"data set '{cfg.name}' needs data.path: {what}")
    path = Path(cfg.path).expanduser()
    if not (path.is_dir() if folder else path.is_file()):
        raise DataError(f"{what} {path} does not exist (data.path)")
    return path


def set_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """Convert (N, C, H, W) images in [0, 1] between grey and RGB (ITU-R 601 luma, as Pillow's "L" mode)."""
    have = images.shape[1]
    if have == channels:
        return images
    if have == 1 and channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    if have == 3 and channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=images.dtype).view(1, 3, 1, 1)
        return (images * weights).sum(dim=1, keepdim=True)
    raise DataError(f"cannot convert images with {have} channels to {channels}")


def fit_images(images: torch.Tensor, size: int, fit: str) -> torch.Tensor:
    """Bring (N, C, H, W) images in [0, 1] to (N, C, size, size).

    ``resize`` scales the shorter side to ``size`` (bilinear, antialiased when shrinking, so fine patterns average
    out instead of aliasing) and centre-crops the longer one; ``crop`` first centre-crops the largest square, then
    resizes it; ``pad`` centre-pads with black or centre-crops, leaving pixel values untouched.
    """
    h, w = images.shape[-2:]
    if (h, w) == (size, size):
        return images
    if fit == "crop":
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        return fit_images(images[..., top : top + side, left : left + side], size, "resize")
    if fit == "resize":
        scale = size / min(h, w)
        new_h, new_w = max(size, round(h * scale)), max(size, round(w * scale))
        images = F.interpolate(images, size=(new_h, new_w), mode="bilinear", antialias=scale < 1, align_corners=False)
        images = images.clamp_(0, 1)  # in place: the resized set is new, and a second copy doubles peak memory
        h, w = new_h, new_w
    top, left = (h - size) // 2, (w - size) // 2
    if top >= 0 and left >= 0:
        return images[..., top : top + size, left : left + size].contiguous()
    pad_h, pad_w = max(0, size - h), max(0, size - w)
    images = F.pad(images, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2), value=0.0)
    return fit_images(images, size, "pad")


def kept(cfg: DataConfig, count: int) -> slice:
    """Which of a loader's ``count`` samples ``data.half`` and then ``data.limit`` keep."""
    start, stop = 0, count
    if cfg.half != "all":
        start, stop = (0, count // 2) if cfg.half == "first" else (count // 2, count)
    if cfg.limit is not None:
        stop = min(stop, start + cfg.limit)
    return slice(start, stop)


def finish_images(images: torch.Tensor, cfg: DataConfig, inputs: torch.Tensor | None = None) -> torch.Tensor:
    """Images in [0, 1] (N, C, H, W) as training takes them: channels, size and style of ``cfg``, values in [-1, 1];
    with ``data.pair``, each stacked behind its input (derived from it, or ``inputs`` finished alike).

    One routine for the whole set in memory and for each streamed batch, so both give the same values."""
    images = _shaped(images, cfg)
    if cfg.pair != "none":
        images = stack_pair(_shaped(inputs, cfg) if inputs is not None else DERIVED[cfg.pair](images), images)
    return images.mul(2).sub_(1)


def _shaped(images: torch.Tensor, cfg: DataConfig) -> torch.Tensor:
    if cfg.channels is not None:
        images = set_channels(images, cfg.channels)
    return restyle(fit_images(images.float(), cfg.size, cfg.fit), cfg.style)


def load_dataset(cfg: DataConfig) -> ImageSet:
    """Load the data set named in ``cfg`` as an :class:`ImageSet`: images in [-1, 1] at ``cfg.size``, vectors as-is."""
    return finish_raw(DATASETS.get(cfg.name)(cfg), cfg)


def finish_raw(raw: RawImages, cfg: DataConfig) -> ImageSet:
    """A loader's output as the :class:`ImageSet` ``cfg`` describes (half, limit, then :func:`finish_images`)."""
    if len(raw.images) == 0:
        raise DataError(f"data set '{cfg.name}' has no images for split '{cfg.split}'")
    part = kept(cfg, len(raw.images))
    images, labels = raw.images[part], None if raw.labels is None else raw.labels[part]
    if images.ndim == 2:
        if (
            cfg.channels is not None
            or cfg.style != "none"
            or cfg.flip
            or cfg.random_crop is not None
            or cfg.pair != "none"
        ):
            raise DataError(
                f"data set '{cfg.name}' holds vectors, not images: data.channels, data.flip, data.random_crop, "
                "data.pair and data.style do not apply"
            )
        return ImageSet(images.float(), labels, cfg.name, raw.class_names)
    inputs = None if raw.inputs is None else raw.inputs[part]
    return ImageSet(finish_images(images, cfg, inputs), labels, cfg.name, raw.class_names)


def restyle(images: torch.Tensor, style: str) -> torch.Tensor:
    """``data.style`` applied to images in [0, 1]."""
    if style == "invert":
        return 1 - images
    if style == "thicken":
        return F.max_pool2d(images, 3, stride=1, padding=1)
    return images
