"""Any folder of PNG/JPEG images; first-level sub-folders become class labels.

Every file is decoded to values in [0, 1] that show what the file shows: 16-bit images are scaled by 65535 (not
clipped to 8 bits), and images with transparency are composited on a background (see :func:`composite`). A file
that cannot be decoded stops the load with its name, so a data set never silently shrinks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from genlab.data.base import DATASETS, DataConfig, RawImages, fit_images, kept, required_path
from genlab.errors import DataError
from genlab.images import save_png, to_uint8
from genlab.registry import Registry

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
GREY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")
ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
"""ITU-R 601 luma weights, as Pillow's "L" conversion and :func:`genlab.data.base.set_channels`."""
FIX = "re-save it as PNG or JPEG, or move it out of the folder"


def composite(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4) RGBA in [0, 1] over an opaque background, (H, W, 3).

    The background contrasts with what was drawn, so transparent strokes stay visible: white when the drawn
    pixels (the alpha-weighted mean luma of the colour) are dark, black when they are light or nothing is drawn.
    Black strokes on a transparent canvas thus load as black on white, white ones as white on black (the MNIST
    convention); fully opaque images are unchanged.
    """
    colour, alpha = rgba[..., :3], rgba[..., 3:]
    weight = float(alpha.sum())
    drawn = float((colour @ LUMA * alpha[..., 0]).sum()) / weight if weight > 0 else 1.0
    background = 1.0 if drawn < 0.5 else 0.0
    return colour * alpha + background * (1.0 - alpha)


def decode(image: Image.Image, path: Path) -> np.ndarray:
    """The pixels of an opened image as (H, W, C) float32 in [0, 1], C = 1 for grey modes and 3 otherwise."""
    grey = image.mode in GREY_MODES
    if image.mode.startswith("I"):  # 16-bit (I;16*) or 32-bit integer grey: 16-bit PNGs open as one of them
        values = np.asarray(image, dtype=np.float32)
        if values.min() < 0 or values.max() > 65535:
            raise DataError(
                f"{path} holds integer pixels in [{values.min():g}, {values.max():g}], beyond 16 bits; "
                "save it as an 8- or 16-bit image"
            )
        return values[..., None] / 65535.0
    if image.mode in ALPHA_MODES or "transparency" in image.info:
        rgb = composite(np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0)
        return rgb[..., :1] if grey else rgb
    array = np.asarray(image.convert("L" if grey else "RGB"), dtype=np.float32) / 255.0
    return array.reshape(array.shape[0], array.shape[1], -1)


@contextlib.contextmanager
def opened(path: Path) -> Iterator[Image.Image]:
    """The image file at ``path``, opened; a file Pillow cannot read (now or while decoding it) raises DataError."""
    try:
        if path.stat().st_size == 0:
            raise DataError(f"image file {path} is empty (0 bytes); {FIX}")
        with Image.open(path) as image:
            yield image
    except (OSError, ValueError, SyntaxError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise DataError(f"cannot read image file {path} ({exc}); {FIX}") from None


def file_channels(path: Path) -> int:
    """The channels :func:`decode` gives the file (1 for grey modes, 3 otherwise), read from its header alone."""
    with opened(path) as image:
        return 1 if image.mode in GREY_MODES else 3


def read_image(path: Path, size: int, fit: str) -> torch.Tensor:
    """Decode one file to a (C, size, size) tensor in [0, 1]; a file Pillow cannot decode raises DataError."""
    with opened(path) as image:
        array = decode(image, path)
    tensor = torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1)
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


def no_images_message(root: Path) -> str:
    """Why a folder gave no images, and what to do: names a file of another type when there is one."""
    others = sorted(p for p in root.rglob("*") if p.is_file())
    found = f"; it holds {len(others)} other file(s), e.g. {others[0].name}" if others else ""
    return (
        f"no image files ({', '.join(EXTENSIONS)}) in {root} or its sub-folders{found}. Put images there, "
        "or point data.path at the folder that holds them"
    )


@dataclass(frozen=True)
class ImageFiles:
    """A set of photographs before decoding: the files in loading order, their labels and class names, and the
    channels every image loads with (the widest file's: grey files among colour ones load as RGB).

    What lets a large set be streamed from disk (:mod:`genlab.data.stream`) instead of decoded into memory.
    """

    files: tuple[Path, ...]
    channels: int
    labels: torch.Tensor | None = None
    class_names: tuple[str, ...] | None = None

    def __len__(self) -> int:
        return len(self.files)

    def read(self, index: Iterable[int], size: int, fit: str) -> torch.Tensor:
        """The files at ``index`` decoded to (N, channels, size, size) in [0, 1]."""
        return torch.stack([read_image(self.files[i], size, fit).expand(self.channels, -1, -1) for i in index])

    def decoded(self, cfg: DataConfig) -> RawImages:
        """Every file decoded, as a loader returns them."""
        return RawImages(self.read(range(len(self)), cfg.size, cfg.fit), self.labels, self.class_names)

    def kept(self, cfg: DataConfig) -> ImageFiles:
        """The files that ``data.half`` and ``data.limit`` keep (what :func:`~genlab.data.base.load_dataset` keeps
        of the decoded set)."""
        part = kept(cfg, len(self))
        return replace(self, files=self.files[part], labels=None if self.labels is None else self.labels[part])


PHOTOGRAPHS: Registry[Callable[[DataConfig], ImageFiles]] = Registry("photograph set")
"""Data sets that can list their files without decoding them, and so can be streamed (data.loader)."""


def widest_channels(files: Iterable[Path]) -> int:
    """3 when any file is in colour (the first one found ends the search), else 1."""
    return 3 if any(file_channels(path) == 3 for path in files) else 1


@PHOTOGRAPHS.register("folder")
def list_folder(cfg: DataConfig) -> ImageFiles:
    root = required_path(cfg, "the image folder", folder=True)
    files = image_files(root)
    if not files:
        raise DataError(no_images_message(root))
    in_subfolders = all(len(p.relative_to(root).parts) > 1 for p in files)
    if not in_subfolders:
        return ImageFiles(tuple(files), widest_channels(files))
    class_names = sorted({p.relative_to(root).parts[0] for p in files})
    labels = torch.tensor([class_names.index(p.relative_to(root).parts[0]) for p in files], dtype=torch.int64)
    return ImageFiles(tuple(files), widest_channels(files), labels, tuple(class_names))


@DATASETS.register("folder")
def load_folder(cfg: DataConfig) -> RawImages:
    return list_folder(cfg).decoded(cfg)
