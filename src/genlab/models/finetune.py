"""Pre-training for few labels (as for CT scans, where images are many and labels few): an autoencoder learns an
encoder from all the images without labels; a classifier built from that encoder plus a linear head is then
fine-tuned on N labelled images per class, and compared with the same classifier trained from scratch on the same N
labels.

Both classifiers see exactly the same labelled images, steps, optimiser and seed; only the encoder's starting
weights differ, so the gap in test accuracy is what pre-training bought.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genlab.data import DataConfig, load_dataset
from genlab.errors import GenlabError
from genlab.models.autoencoder import AutoEncoder


@dataclass
class FewLabelResult:
    n_per_class: int
    seed: int
    pretrained_accuracy: float
    scratch_accuracy: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def labelled_subset(labels: torch.Tensor, n_per_class: int, seed: int) -> torch.Tensor:
    """Indices of ``n_per_class`` images of every class, drawn with ``seed``."""
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    chosen = [order[labels[order] == k][:n_per_class] for k in labels.unique()]
    if any(len(c) < n_per_class for c in chosen):
        raise GenlabError(f"some class has fewer than {n_per_class} labelled images")
    return torch.cat(chosen)


def fit_classifier(
    encoder: nn.Module, code_dim: int, classes: int, images: torch.Tensor, labels: torch.Tensor, steps: int, seed: int
) -> nn.Module:
    """Encoder + linear head trained jointly with Adam (1e-3) on the labelled images, in batches of up to 128."""
    torch.manual_seed(seed)
    model = nn.Sequential(encoder, nn.Linear(code_dim, classes)).to(images.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch = min(128, len(images))
    for _ in range(steps):
        pick = torch.randint(len(images), (batch,), device=images.device)
        loss = F.cross_entropy(model(images[pick]), labels[pick])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    predicted = torch.cat([model(part).argmax(1) for part in images.split(1000)])
    return (predicted == labels).float().mean().item()


def pretrain_finetune(
    autoencoder: AutoEncoder, data: DataConfig, n_per_class: int, seed: int, steps: int = 300
) -> FewLabelResult:
    """Test accuracy of a classifier from ``autoencoder``'s encoder and of one from scratch, both trained on
    ``n_per_class`` labelled training images per class of ``data``."""
    device = autoencoder.device
    train = load_dataset(data.model_copy(update={"split": "train"}))
    test = load_dataset(data.model_copy(update={"split": "test"}))
    if train.labels is None or train.num_classes is None:
        raise GenlabError(f"data set '{data.name}' has no labels to fine-tune on")
    chosen = labelled_subset(train.labels, n_per_class, seed)
    images, labels = train.images[chosen].to(device), train.labels[chosen].to(device)
    code_dim = autoencoder.cfg.code_dim
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        fresh = autoencoder.cfg.coder.build(tuple(train.shape), code_dim, code_dim)[0]
        scores = {}
        for name, encoder in (("pretrained", copy.deepcopy(autoencoder.encoder)), ("scratch", fresh)):
            model = fit_classifier(encoder, code_dim, train.num_classes, images, labels, steps, seed)
            scores[name] = accuracy(model, test.images.to(device), test.labels.to(device))
    return FewLabelResult(n_per_class, seed, scores["pretrained"], scores["scratch"])
