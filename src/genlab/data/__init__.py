"""Data sets by name (digits, mnist, folder, npz; the 2-D toy mixtures ring8, grid25) as device-ready sets."""

from genlab.data.base import DATASETS, DataConfig, ImageSet, RawImages, data_home, fit_images, load_dataset
from genlab.data.sampler import Batch, Sampler
from genlab.registry import import_submodules

import_submodules(__name__, __path__)

__all__ = [
    "DATASETS",
    "Batch",
    "DataConfig",
    "ImageSet",
    "RawImages",
    "Sampler",
    "data_home",
    "fit_images",
    "load_dataset",
]
