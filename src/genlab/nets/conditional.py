"""Class conditioning for any architecture (conditional GAN, Mirza & Osindero 2014).

The generator gets the one-hot label concatenated to z, so an architecture built for ``z_dim + K`` inputs needs no
change. The discriminator gets the label in one of two ways:

* ``channels``: K constant maps appended to the image (one of them all ones), or K features appended to a vector,
  as the seed describes; the architecture is built for the wider input;
* ``projection`` (Miyato & Koyama 2018): the score becomes ψ(φ(x)) + ⟨e_y, φ(x)⟩, where φ(x) is the input of the
  network's last layer and e_y a learned embedding of the class; the unconditional score is its first term.

Both wrappers take ``(inputs, labels)``; the recipe binds the labels when objectives call D with inputs alone
(gradient penalties).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from genlab.nets.base import NetSpec, Shape, is_image, last_layer

Condition = Literal["none", "channels", "projection"]


def one_hot(labels: torch.Tensor, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    return F.one_hot(labels, num_classes).to(dtype=like.dtype, device=like.device)


class ConditionalGenerator(nn.Module):
    """``net`` (built for ``z_dim + num_classes`` inputs) fed with [z, one_hot(label)]."""

    def __init__(self, net: nn.Module, num_classes: int):
        super().__init__()
        self.net = net
        self.num_classes = num_classes

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, one_hot(labels, self.num_classes, z)], dim=1))


class ChannelsDiscriminator(nn.Module):
    """``net`` (built for C + K channels, or D + K features) fed with the input and its label's one-hot maps."""

    def __init__(self, net: nn.Module, num_classes: int):
        super().__init__()
        self.net = net
        self.num_classes = num_classes

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        code = one_hot(labels, self.num_classes, x)
        if x.ndim == 4:
            code = code[:, :, None, None].expand(-1, -1, *x.shape[2:])
        return self.net(torch.cat([x, code], dim=1))


class ProjectionDiscriminator(nn.Module):
    """``net``'s score plus the inner product of a class embedding with the input of ``net``'s last layer."""

    def __init__(self, net: nn.Module, num_classes: int, shape: Shape):
        super().__init__()
        self.net = net
        self._features: torch.Tensor | None = None
        last_layer(net).register_forward_pre_hook(self._keep_features)
        self.embed = nn.Embedding(num_classes, self._feature_size(shape))
        nn.init.zeros_(self.embed.weight)  # training starts from the unconditional score

    def _keep_features(self, _module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        self._features = args[0].flatten(1)

    @torch.no_grad()
    def _feature_size(self, shape: Shape) -> int:
        """Width of φ(x), from one forward pass in eval mode (no BatchNorm or spectral-norm buffer changes)."""
        modes = {module: module.training for module in self.net.modules()}
        try:
            self.net.eval()
            self.net(torch.zeros(2, *shape, device=next(self.net.parameters()).device))
            return self._take_features().shape[1]
        finally:
            for module, training in modes.items():
                module.train(training)

    def _take_features(self) -> torch.Tensor:
        features, self._features = self._features, None
        if features is None:
            raise RuntimeError("the discriminator's last layer did not run")
        return features

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        score = self.net(x)
        return score + (self.embed(labels) * self._take_features()).sum(dim=1)


def conditional_generator(spec: NetSpec, z_dim: int, shape: Shape, num_classes: int) -> nn.Module:
    return ConditionalGenerator(spec.generator(z_dim + num_classes, shape), num_classes)


def conditional_discriminator(spec: NetSpec, shape: Shape, num_classes: int, condition: Condition) -> nn.Module:
    if condition == "projection":
        return ProjectionDiscriminator(spec.discriminator(shape), num_classes, shape)
    wider = (shape[0] + num_classes, *shape[1:]) if is_image(shape) else (shape[0] + num_classes,)
    return ChannelsDiscriminator(spec.discriminator(wider), num_classes)
