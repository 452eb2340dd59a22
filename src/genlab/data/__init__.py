"""Data sets by name (digits, mnist, folder, npz; the 2-D toy mixtures ring8, grid25) as device-ready sets, and
large photograph folders streamed from disk."""

from genlab.data.base import DATASETS, DataConfig, ImageSet, RawImages, data_home, fit_images, load_dataset
from genlab.data.order import Batch
from genlab.data.sampler import Sampler
from genlab.data.stream import LoaderChoice, StreamedSet, TrainingSet, open_dataset
from genlab.registry import import_submodules

import_submodules(__name__, __path__)

__all__ = [
    "DATASETS",
    "Batch",
    "DataConfig",
    "ImageSet",
    "LoaderChoice",
    "RawImages",
    "Sampler",
    "StreamedSet",
    "TrainingSet",
    "data_home",
    "fit_images",
    "load_dataset",
    "open_dataset",
]
