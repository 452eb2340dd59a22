"""Reference statistics of real data, computed once and cached on disk.

Extracting features of 10,000 real images costs more than every metric computed from them, and the same reference
serves every run on that data set. The cache key hashes everything the features depend on: the data settings
(name, split, size, fit, channels, path), the number of samples, the extractor's name, weights digest and
preprocessing, and a format version. Change any of them and a new entry is computed; stale entries are never
reused. Entries hold plain tensors and load with ``weights_only=True``; a damaged one is recomputed (with a warning).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from genlab.data import DataConfig, ImageSet, StreamedSet, open_dataset
from genlab.fileio import atomic_write, load_tensors
from genlab.metrics.features import Extracted, FeatureExtractor

CACHE_FORMAT = 2
SUBSET_SEED = 0
"""The real subset is the first n of a permutation with this fixed seed, the same for every run and extractor."""


def cache_home() -> Path:
    """``$GENLAB_CACHE`` or ~/.cache/genlab: where reference statistics are kept."""
    return Path(os.environ.get("GENLAB_CACHE") or "~/.cache/genlab").expanduser()


@dataclass(frozen=True)
class Reference:
    extracted: Extracted
    labels: torch.Tensor | None
    description: str
    """Which real data, e.g. 'mnist train, 10000 of 60000 images at 32x32 (resize)'."""
    shape: tuple[int, ...]
    """One real sample's shape, (C, H, W) or (D,): what generated samples must match to be compared."""
    key: str
    cached: bool
    """Whether this came from the cache (False: computed now)."""


def real_subset(data: ImageSet | StreamedSet, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` samples of ``data`` chosen by a fixed permutation (all of them, in that order, when it has fewer); of a
    streamed set only those ``n`` files are read."""
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(SUBSET_SEED))[:n]
    return data.take(order), None if data.labels is None else data.labels[order]


def reference_key(data_cfg: DataConfig, n: int, extractor: FeatureExtractor) -> str:
    settings = data_cfg.model_dump(mode="json", exclude={"download", "limit", "loader", "memory_gib", "workers"})
    blob = json.dumps(
        {"format": CACHE_FORMAT, "data": settings, "n": n, **extractor.provenance()}, sort_keys=True
    ).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def reference_features(data_cfg: DataConfig, n: int, extractor: FeatureExtractor, *, cache: bool = True) -> Reference:
    """Features (and probabilities, labels) of ``n`` real samples of ``data_cfg``, from the cache when present."""
    key = reference_key(data_cfg, n, extractor)
    path = cache_home() / "reference" / f"{data_cfg.name}-{data_cfg.split}-{key}.pt"
    if cache and path.is_file():
        try:  # a damaged entry is computed again and overwritten, never trusted
            state = load_tensors(path, "reference cache entry", "Computing it again", ValueError, extractor.device)
            extracted = Extracted(state["features"], state["probabilities"])
            shape = tuple(state["shape"])
            return Reference(extracted, state["labels"], state["description"], shape, key, cached=True)
        except ValueError as exc:
            warnings.warn(str(exc), stacklevel=2)
        except (KeyError, TypeError) as exc:
            warnings.warn(f"reference cache entry {path} lacks {exc}. Computing it again", stacklevel=2)
    data = open_dataset(data_cfg)[0]
    images, labels = real_subset(data, n)
    size = "x".join(str(s) for s in data.shape[1:]) if len(data.shape) == 3 else f"{data.shape[0]}-d"
    description = f"{data_cfg.name} {data_cfg.split}, {len(images)} of {len(data)} samples at {size}"
    if len(data.shape) == 3:
        description += f" ({data_cfg.fit})"
    extracted = extractor(images)
    if cache:
        state = {
            "features": extracted.features.cpu(),
            "probabilities": None if extracted.probabilities is None else extracted.probabilities.cpu(),
            "labels": labels,
            "description": description,
            "shape": list(data.shape),
        }
        with atomic_write(path) as handle:
            torch.save(state, handle)
    return Reference(extracted, labels, description, data.shape, key, cached=False)
