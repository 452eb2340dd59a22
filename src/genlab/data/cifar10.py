"""CIFAR-10 from the "python version" of the data set, as extracted or as the downloaded archive.

Files are searched in ``data.path`` (or its ``cifar10/`` sub-folder) or else in ``$GENLAB_DATA/cifar10``; each
folder may hold the batches themselves, the ``cifar-10-batches-py/`` folder the archive unpacks to, or the archive
``cifar-10-python.tar.gz`` as downloaded (read in memory, never unpacked to disk).

Each batch is a pickle of a dict with ``b'data'`` (a uint8 numpy array of N x 3072: the red, then green, then blue
plane of a row-major 32x32 image) and ``b'labels'``. Unpickling can run any code a file names, and genlab never reads
a file that can run code, so batches go through :class:`ArrayUnpickler`: it resolves only the three globals a pickled
numpy array needs and refuses every other, so a tampered or foreign file is an error, not an execution.
"""

from __future__ import annotations

import io
import os
import pickle
import tarfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genlab.data.base import DATASETS, DataConfig, RawImages, data_home, download
from genlab.errors import DataError, one_line

BATCHES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
FOLDER = "cifar-10-batches-py"
ARCHIVE = "cifar-10-python.tar.gz"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
DEFAULT_MIRROR = "https://www.cs.toronto.edu/~kriz/"
"""Where ``download: true`` fetches the archive; ``GENLAB_CIFAR10_MIRROR`` overrides it."""

SIDE = 32
REFETCH = f"Delete it and run again with data.download=true to fetch {ARCHIVE} (or copy an intact file there)."

_RECONSTRUCT = np.zeros(0).__reduce__()[0]  # numpy's array-rebuilding function, wherever this numpy version keeps it
ARRAY_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,  # the name in the official (numpy 1) files
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,  # the name numpy 2 writes
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}
"""The only globals a batch may name. Together they can only make arrays: ``_reconstruct`` makes an empty array of a
class that must itself be one of these globals (so ndarray), ``dtype`` parses a type description, and the array's
``__setstate__`` copies bytes (or, for object arrays, objects already unpickled, which can only be plain data) into
it. None of them imports, calls or evaluates anything a file names."""


class RefusedGlobal(pickle.UnpicklingError):
    """A pickle named a global outside :data:`ARRAY_GLOBALS`."""


class ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain data and numpy arrays; any other global (a class, ``os.system``) raises :class:`RefusedGlobal`
    when the pickle names it, before anything could call it."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ARRAY_GLOBALS[(module, name)]
        except KeyError:
            raise RefusedGlobal(f"{module}.{name}") from None


def parse_batch(data: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and labels (N,) of one pickled batch; ``where`` names it in errors."""
    try:
        batch = ArrayUnpickler(io.BytesIO(data), encoding="bytes").load()  # the official files come from Python 2
    except RefusedGlobal as exc:
        raise DataError(
            f"{where} is not a CIFAR-10 batch: its pickle asks to load {exc}, and genlab never runs code from a "
            f"data file, so it refused. {REFETCH}"
        ) from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise DataError(f"{where} is truncated or not a CIFAR-10 batch ({one_line(exc)}). {REFETCH}") from None
    images = batch.get(b"data") if isinstance(batch, dict) else None
    labels = batch.get(b"labels") if isinstance(batch, dict) else None
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != 3072:
        raise DataError(f"{where} holds no uint8 N x 3072 array under b'data': it is not a CIFAR-10 batch. {REFETCH}")
    if not isinstance(labels, list) or len(labels) != len(images) or not all(type(v) is int for v in labels):
        raise DataError(f"{where} lacks a list of {len(images)} integer labels under b'labels'. {REFETCH}")
    labels_array = np.asarray(labels, dtype=np.int64)
    if labels_array.size and (labels_array.min() < 0 or labels_array.max() > 9):
        raise DataError(f"{where} holds labels outside 0-9: it is corrupt or not CIFAR-10. {REFETCH}")
    return images.reshape(-1, 3, SIDE, SIDE), labels_array


def candidate_folders(cfg: DataConfig) -> list[Path]:
    """Folders searched for the batches, their folder or the archive, in order."""
    if cfg.path:
        root = Path(cfg.path).expanduser()
        return [root, root / "cifar10"]
    return [data_home() / "cifar10"]


def locate(folders: list[Path]) -> Path | None:
    """The first folder holding any batch file, or else the first archive; None when there is neither."""
    names = [name for split in BATCHES.values() for name in split]
    for folder in folders:
        for batches in (folder, folder / FOLDER):
            if any((batches / name).is_file() for name in names):
                return batches
        if (folder / ARCHIVE).is_file():
            return folder / ARCHIVE
    return None


def read_folder(folder: Path, names: list[str]) -> dict[str, tuple[bytes, str]]:
    """Each batch's bytes and its path, for the errors; a missing batch is named, with the set's full list."""
    blobs = {}
    for name in names:
        path = folder / name
        if not path.is_file():
            raise DataError(
                f"{path} is missing: the CIFAR-10 python version has data_batch_1 ... data_batch_5 and test_batch "
                f"side by side. Copy the whole {FOLDER} folder there, or delete it and drop {ARCHIVE} in its place."
            )
        try:
            blobs[name] = (path.read_bytes(), str(path))
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc}. {REFETCH}") from None
    return blobs


def read_archive(archive: Path, names: list[str]) -> dict[str, tuple[bytes, str]]:
    """The batches ``names`` from the archive, read in one pass over its members without unpacking to disk."""
    wanted = {f"{FOLDER}/{name}": name for name in names}
    blobs = {}
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                handle = tar.extractfile(member) if member.name in wanted else None
                if handle is not None:
                    blobs[wanted[member.name]] = (handle.read(), f"{member.name} in {archive}")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read {archive}: {one_line(exc)}; it is truncated or damaged. {REFETCH}") from None
    missing = [member for member, name in wanted.items() if name not in blobs]
    if missing:
        raise DataError(f"{archive} lacks {', '.join(missing)}: it is not the CIFAR-10 python archive. {REFETCH}")
    return blobs


def not_found(folders: list[Path]) -> DataError:
    searched = ", ".join(str(f) for f in folders)
    return DataError(
        f"CIFAR-10 files not found. Searched: {searched}. Expected: {ARCHIVE} (as downloaded), or its {FOLDER}/ "
        "folder (data_batch_1 ... data_batch_5, test_batch). Put them there, point data.path (or the GENLAB_DATA "
        "environment variable, which holds a cifar10/ sub-folder) at them, or set data.download=true on a machine "
        "with network."
    )


def read_cifar10(cfg: DataConfig) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and labels (N,) of ``cfg.split`` (``all``: train then test), downloading on
    request; train is the five training batches in order."""
    folders = candidate_folders(cfg)
    source = locate(folders)
    if source is None and cfg.download:
        mirror = os.environ.get("GENLAB_CIFAR10_MIRROR") or DEFAULT_MIRROR
        source = folders[0] / ARCHIVE
        download(mirror.rstrip("/") + f"/{ARCHIVE}", source, f"copy {ARCHIVE} into {folders[0]} by hand.")
    if source is None:
        raise not_found(folders)
    names = [name for split in (["train", "test"] if cfg.split == "all" else [cfg.split]) for name in BATCHES[split]]
    blobs = read_archive(source, names) if source.is_file() else read_folder(source, names)
    parts = [parse_batch(*blobs[name]) for name in names]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


@DATASETS.register("cifar10")
def load_cifar10(cfg: DataConfig) -> RawImages:
    images, labels = read_cifar10(cfg)
    return RawImages(torch.from_numpy(images).float().div_(255.0), torch.from_numpy(labels), CLASSES)
