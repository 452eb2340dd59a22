"""scikit-learn's bundled 8x8 handwritten digits: 1,797 images, 10 classes, no download ever."""

from __future__ import annotations

import numpy as np
import torch

from genlab.data.base import DATASETS, DataConfig, RawImages

TEST_SIZE = 360
"""Images held out for the test split (20%), chosen by a fixed permutation so the split never changes."""


def digits_split_indices(split: str) -> np.ndarray:
    """Indices of the digits images in ``split``; ``RandomState(0)``'s stream is frozen by NumPy, so stable."""
    order = np.random.RandomState(0).permutation(1797)
    return {"train": np.sort(order[TEST_SIZE:]), "test": np.sort(order[:TEST_SIZE]), "all": np.arange(1797)}[split]


@DATASETS.register("digits")
def load_digits(cfg: DataConfig) -> RawImages:
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    index = digits_split_indices(cfg.split)
    images = torch.from_numpy(bunch.images[index].astype(np.float32) / 16.0).unsqueeze(1)
    labels = torch.from_numpy(bunch.target[index].astype(np.int64))
    return RawImages(images, labels, tuple(str(d) for d in range(10)))
