"""MNIST from the standard IDX files (optionally gzipped), with an opt-in download.

Files are searched in ``data.path`` (or its ``mnist/`` sub-folder) or else in ``$GENLAB_DATA/mnist``. Every file is
checked as it is parsed (magic number, dimensions, length), so a damaged file is named instead of producing
garbage images.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np
import torch

from genlab.data.base import DATASETS, DataConfig, RawImages, data_home, download
from genlab.errors import DataError

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
DEFAULT_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
"""Where ``download: true`` fetches the gzipped files; ``GENLAB_MNIST_MIRROR`` overrides it."""

_UBYTE = 0x08
REFETCH = "Delete it and run again with data.download=true to fetch it (or copy an intact file there)."


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Parse an IDX file of unsigned bytes with ``ndim`` dimensions; gzip is detected from the content."""
    try:
        with path.open("rb") as handle:
            gzipped = handle.read(2) == b"\x1f\x8b"
        data = gzip.decompress(path.read_bytes()) if gzipped else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read {path}: {exc}. The file is damaged. {REFETCH}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != _UBYTE or data[3] != ndim:
        raise DataError(
            f"{path} is not an IDX file of {ndim}-d unsigned bytes (bad magic number {data[:4].hex() or 'none'}, "
            f"expected 000008{ndim:02x}): it is corrupt or not an MNIST file. {REFETCH}"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path} is truncated: its header is incomplete. {REFETCH}")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "longer than its header says"
        raise DataError(
            f"{path} is {problem}: header gives shape {shape} ({expected} bytes) but the file holds {len(data)} bytes. "
            f"{REFETCH}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def candidate_folders(cfg: DataConfig) -> list[Path]:
    """Folders searched for the IDX files, in order."""
    if cfg.path:
        root = Path(cfg.path).expanduser()
        return [root, root / "mnist"]
    return [data_home() / "mnist"]


def find_file(folders: list[Path], stem: str) -> Path | None:
    for folder in folders:
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def download_mnist(folder: Path, mirror: str | None = None) -> None:
    """Download the four gzipped IDX files into ``folder`` (atomically, one file at a time)."""
    mirror = mirror or os.environ.get("GENLAB_MNIST_MIRROR") or DEFAULT_MIRROR
    for stem in (name for pair in FILES.values() for name in pair):
        target = folder / f"{stem}.gz"
        if not target.exists():
            download(mirror.rstrip("/") + f"/{stem}.gz", target, f"copy the MNIST IDX files into {folder} by hand.")


def load_split(folders: list[Path], split: str) -> tuple[np.ndarray, np.ndarray]:
    image_stem, label_stem = FILES[split]
    image_file, label_file = find_file(folders, image_stem), find_file(folders, label_stem)
    if image_file is None or label_file is None:
        missing = [stem for stem, found in ((image_stem, image_file), (label_stem, label_file)) if found is None]
        raise DataError(
            "MNIST files not found. Searched: "
            + ", ".join(str(f) for f in folders)
            + ". Expected: "
            + ", ".join(f"{stem} or {stem}.gz" for stem in missing)
            + ". Put the files there, point data.path (or the GENLAB_DATA environment variable, which holds an "
            "mnist/ sub-folder) at them, or set data.download=true on a machine with network."
        )
    images, labels = read_idx(image_file, 3), read_idx(label_file, 1)
    if len(images) != len(labels):
        raise DataError(
            f"{image_file} holds {len(images)} images but {label_file} holds {len(labels)} labels: one of them "
            f"belongs to another split or data set. Delete both and run again with data.download=true"
        )
    if labels.size and labels.max() > 9:
        raise DataError(f"{label_file} holds label {labels.max()}; MNIST labels are 0-9, so it is corrupt. {REFETCH}")
    return images, labels


def read_mnist(cfg: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) of ``cfg.split`` (``all``: train then test), downloading on request."""
    folders = candidate_folders(cfg)
    splits = ["train", "test"] if cfg.split == "all" else [cfg.split]
    if cfg.download and any(find_file(folders, stem) is None for s in splits for stem in FILES[s]):
        download_mnist(folders[0])
    parts = [load_split(folders, split) for split in splits]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


@DATASETS.register("mnist")
def load_mnist(cfg: DataConfig) -> RawImages:
    images, labels = read_mnist(cfg)
    tensor = torch.from_numpy(images).unsqueeze(1).float().div_(255.0)
    return RawImages(tensor, torch.from_numpy(labels.astype(np.int64)), tuple(str(d) for d in range(10)))
