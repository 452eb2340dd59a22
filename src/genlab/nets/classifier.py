"""The domain classifier: a small CNN whose penultimate layer serves as the feature space of the metrics.

Inception-v3 features need a 100 MB download and were trained on ImageNet photographs, not digits; the course's own
route is a classifier trained on the domain itself. Three stages of two 3x3 conv + BatchNorm + ReLU blocks, halving
the resolution between stages, then global average pooling: the pooled vector (``4 * width`` numbers) is the
feature vector, a linear layer maps it to class logits. Global pooling keeps the network small (and its weights
file a few hundred kB) and makes it work at any input size from 8x8 (digits) upward.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class DomainClassifierNet(nn.Module):
    """Images (N, channels, H, W) in [-1, 1] -> class logits (N, num_classes); :meth:`features` gives (N, 4*width)."""

    def __init__(self, channels: int, num_classes: int, width: int = 32, dropout: float = 0.0):
        super().__init__()
        self.channels, self.num_classes, self.width = channels, num_classes, width
        w = width
        self.body = nn.Sequential(
            *conv_block(channels, w),
            *conv_block(w, w),
            nn.MaxPool2d(2),
            *conv_block(w, 2 * w),
            *conv_block(2 * w, 2 * w),
            nn.MaxPool2d(2),
            *conv_block(2 * w, 4 * w),
            *conv_block(4 * w, 4 * w),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(4 * w, num_classes)

    @property
    def feature_dim(self) -> int:
        return 4 * self.width

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.body(images)))
