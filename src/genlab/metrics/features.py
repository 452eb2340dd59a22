"""Feature extractors: the spaces in which FID, KID, precision/recall and the Inception Score are measured.

Two kinds, one interface. The *domain classifiers* (``digits``, ``mnist``) are genlab's own small CNNs, trained by
``genlab classifier train`` and shipped inside the package, so every metric works offline; their penultimate layer
gives the features and their softmax the class probabilities. *Inception-v3* gives the standard 2048-d pool
features of the FID paper, from a weights file the user names. Every extractor carries what a result's provenance
needs: its name, the digest of its weights and a description of its preprocessing.

All extractors take images in [-1, 1] (the range genlab's generators and data sets use) and run in batches on
their device with gradients off; an extractor never sees a Python loop over single images.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from genlab.data.base import fit_images, set_channels
from genlab.errors import CheckpointError, ConfigError, one_line
from genlab.fileio import atomic_write, load_tensors
from genlab.nets.classifier import DomainClassifierNet

WEIGHTS_DIR = Path(__file__).parent / "weights"
CLASSIFIER_FORMAT = "genlab-classifier-1"
BATCH = 500


def file_sha256(path: Path) -> str:
    """Hex digest of a file's bytes: names the exact weights a metric was computed with."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Extracted:
    features: torch.Tensor
    """(N, F) feature vectors, float32, on the extractor's device."""
    probabilities: torch.Tensor | None
    """(N, K) class probabilities, or None when the extractor has no classes (raw pixels)."""


class FeatureExtractor:
    """Base class: subclasses set the descriptive attributes and implement :meth:`forward_batch`."""

    name: str
    digest: str
    """sha256 of the weights file ('' when there are no weights)."""
    preprocessing: str
    device: torch.device

    def forward_batch(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Features and (optionally) class probabilities of one batch of images in [-1, 1] on :attr:`device`."""
        raise NotImplementedError

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, batch_size: int = BATCH) -> Extracted:
        features, probabilities = [], []
        for batch in images.split(batch_size):
            f, p = self.forward_batch(batch.to(self.device, torch.float32))
            features.append(f.float())
            if p is not None:
                probabilities.append(p.float())
        return Extracted(torch.cat(features), torch.cat(probabilities) if probabilities else None)

    def provenance(self) -> dict[str, str]:
        return {"features": self.name, "weights_sha256": self.digest, "preprocessing": self.preprocessing}


class RawFeatures(FeatureExtractor):
    """The samples themselves, flattened: for 2-D toy points, or pixel-space checks without any network."""

    def __init__(self, device: torch.device | str = "cpu"):
        self.name, self.digest, self.preprocessing = "raw", "", "none (flattened samples)"
        self.device = torch.device(device)

    def forward_batch(self, images: torch.Tensor) -> tuple[torch.Tensor, None]:
        return images.reshape(len(images), -1), None


class DomainClassifier(FeatureExtractor):
    """A genlab classifier: penultimate-layer features and softmax probabilities at the size it was trained on."""

    def __init__(self, net: DomainClassifierNet, size: int, name: str, digest: str, info: dict | None = None):
        # channels_last: the convolutions run about 1.4-2x faster in this layout on CPU (measured, 10,000 MNIST images).
        self.net = net.eval().requires_grad_(False).to(memory_format=torch.channels_last)
        self.size = size
        self.name, self.digest = name, digest
        self.info = info or {}
        channels = "grey" if net.channels == 1 else "RGB"
        self.preprocessing = f"{channels}, bilinear resize to {size}x{size} (antialiased when shrinking)"
        self.device = next(net.parameters()).device

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """Match the classifier's channels and size; the same steps apply to real and generated images."""
        unit = (images.clamp(-1, 1) + 1) / 2
        if unit.shape[1] != self.net.channels:
            unit = set_channels(unit, self.net.channels)
        return (fit_images(unit, self.size, "resize") * 2 - 1).contiguous(memory_format=torch.channels_last)

    def forward_batch(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.net.features(self.prepare(images))
        return features, self.net.head(features).softmax(dim=1)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Class logits of images in [-1, 1], differentiable with respect to the images (for guided edits)."""
        return self.net(self.prepare(images.to(self.device)))

    def predict(self, images: torch.Tensor, batch_size: int = BATCH) -> torch.Tensor:
        """Most likely class of each image, (N,) on the extractor's device."""
        return self(images, batch_size).probabilities.argmax(dim=1)


def shipped_classifiers() -> list[str]:
    """Data sets with a classifier inside the package."""
    return sorted(p.stem.removeprefix("classifier-") for p in WEIGHTS_DIR.glob("classifier-*.pt"))


def save_classifier(path: str | Path, net: DomainClassifierNet, size: int, info: dict) -> None:
    """Write a classifier weights file (plain tensors and numbers only, so it loads with ``weights_only=True``)."""
    state = {
        "format": CLASSIFIER_FORMAT,
        "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
        "arch": {"channels": net.channels, "num_classes": net.num_classes, "width": net.width, "size": size},
        "info": info,
    }
    with atomic_write(Path(path)) as handle:
        torch.save(state, handle)


def load_classifier(source: str | Path, device: torch.device | str = "cpu") -> DomainClassifier:
    """A shipped classifier by data-set name (``digits``, ``mnist``) or one trained by the user, by file path."""
    path = Path(source).expanduser()
    if not path.suffix and not path.exists():
        path = WEIGHTS_DIR / f"classifier-{source}.pt"
        if not path.is_file():
            raise ConfigError(
                f"genlab ships no classifier for '{source}' (it has: {', '.join(shipped_classifiers())}). Train one "
                f"with `genlab classifier train --data {source} --out clf.pt` and pass the file, or use inception"
            )
    if not path.is_file():
        raise ConfigError(f"classifier weights file {path} does not exist")
    retrain = "Train it again with `genlab classifier train`, or pass a shipped classifier's name"
    state = load_tensors(path, "classifier weights file", retrain, CheckpointError)
    try:
        if state.get("format") != CLASSIFIER_FORMAT:
            raise ValueError(f"format {state.get('format')!r}, expected {CLASSIFIER_FORMAT!r}")
        arch, info = state["arch"], state["info"]
        with torch.random.fork_rng(devices=[]):  # initial weights are overwritten: leave training's RNG alone
            net = DomainClassifierNet(arch["channels"], arch["num_classes"], arch["width"])
        net.load_state_dict(state["state_dict"])
        size, name = int(arch["size"]), f"classifier-{info.get('data', path.stem)}"
    except (AttributeError, KeyError, TypeError, ValueError, RuntimeError) as exc:  # foreign contents, wrong shapes
        raise CheckpointError(f"{path} is not a genlab classifier file ({one_line(exc)}). {retrain}") from None
    return DomainClassifier(net.to(device), size, name, file_sha256(path), info)


class InceptionFeatures(FeatureExtractor):
    """Inception-v3 pool features (2048-d) and its 1008-way softmax, as in the standard FID implementation."""

    def __init__(self, weights: str | Path | None = None, device: torch.device | str = "cpu"):
        from genlab.metrics.inception import load_inception

        path = weights or os.environ.get("GENLAB_INCEPTION_WEIGHTS")
        self.net = load_inception(path).to(device)
        self.name = "inception-v3-fid"
        self.digest = file_sha256(Path(path).expanduser())
        self.preprocessing = "grey repeated to RGB, bilinear resize to 299x299"
        self.device = torch.device(device)

    def forward_batch(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pool, logits = self.net(images)
        return pool, logits.softmax(dim=1)


def suite_classifier(kind: str, data_name: str) -> str | None:
    """The classifier (a shipped one's name or a weights file) behind ``eval.features: kind`` on ``data_name``;
    None where the suite uses no classifier (raw points, inception, or no shipped classifier for the data)."""
    from genlab.data.toy import MIXTURES

    if kind in ("raw", "inception"):
        return None
    if kind != "auto":
        return kind
    base = "mnist" if data_name == "stacked-mnist" else data_name
    return base if data_name not in MIXTURES and base in shipped_classifiers() else None


def make_extractor(
    kind: str,
    data_name: str,
    *,
    inception_weights: str | None = None,
    device: torch.device | str = "cpu",
    data_path: str | None = None,
) -> FeatureExtractor:
    """The extractor a config names: ``auto`` (the shipped classifier of the data set, raw points for 2-D toy
    data), ``inception``, ``raw``, a shipped classifier's name or a classifier weights file. ``data_path`` (the
    data set's ``data.path``) only completes the command the error message suggests."""
    from genlab.data.toy import MIXTURES

    if kind == "raw" or (kind == "auto" and data_name in MIXTURES):
        return RawFeatures(device)
    if kind == "inception":
        return InceptionFeatures(inception_weights, device)
    classifier = suite_classifier(kind, data_name)
    if classifier is None:
        raise ConfigError(no_extractor_message(data_name, data_path))
    return load_classifier(classifier, device)


def no_extractor_message(data_name: str, data_path: str | None) -> str:
    """Why ``eval.features: auto`` has nothing for ``data_name``, with the three ways forward as commands."""
    path = f" --set data.path={data_path}" if data_path else ""
    return (
        f"no shipped feature extractor fits data set '{data_name}' (genlab ships classifiers for "
        f"{', '.join(shipped_classifiers())}). Choose one with --features (eval.features): raw (pixels; needs no "
        "download), inception (set GENLAB_INCEPTION_WEIGHTS or eval.inception_weights to the Inception-v3 FID "
        "weights file pt_inception-2015-12-05-6726825d.pth), or a classifier of your own, trained on labelled "
        f"images with `genlab classifier train --data {data_name}{path} --out clf.pt`, then --features clf.pt"
    )
