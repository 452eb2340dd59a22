"""Converting image tensors to pictures: uint8 at the edges, [-1, 1] floats inside genlab."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from genlab.fileio import atomic_write


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) floats in [-1, 1] -> (N, H, W, C) uint8 in [0, 255]."""
    scaled = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round()
    return scaled.to(torch.uint8).permute(0, 2, 3, 1).numpy()


def make_grid(images: torch.Tensor, nrow: int | None = None, padding: int = 2) -> np.ndarray:
    """Tile (N, C, H, W) images in [-1, 1] into one (H', W', C) uint8 picture, ``nrow`` images per row.

    By default the grid is as square as possible; the gaps between images are black.
    """
    pixels = to_uint8(images)
    n, h, w, c = pixels.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    grid = np.zeros((rows * (h + padding) + padding, nrow * (w + padding) + padding, c), dtype=np.uint8)
    for i, image in enumerate(pixels):
        top, left = padding + (i // nrow) * (h + padding), padding + (i % nrow) * (w + padding)
        grid[top : top + h, left : left + w] = image
    return grid


def enlarged_grid(images: torch.Tensor, nrow: int | None = None) -> np.ndarray:
    """:func:`make_grid` enlarged by ``64 // width`` (nearest neighbour), so that tiny images stay visible."""
    grid = make_grid(images, nrow)
    scale = max(1, 64 // images.shape[-1])
    return grid.repeat(scale, axis=0).repeat(scale, axis=1)


def png_bytes(picture: np.ndarray) -> bytes:
    """An (H, W, C) uint8 picture encoded as PNG (grey when C is 1)."""
    buffer = io.BytesIO()
    Image.fromarray(picture[..., 0] if picture.shape[2] == 1 else picture).save(buffer, format="PNG")
    return buffer.getvalue()


def save_png(picture: np.ndarray, path: str | Path) -> Path:
    """Write an (H, W, C) uint8 picture (e.g. from :func:`enlarged_grid`) to a PNG file atomically."""
    with atomic_write(path) as handle:
        handle.write(png_bytes(picture))
    return Path(path)
