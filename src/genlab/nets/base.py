"""Network architectures chosen by name: each builds a generator and a discriminator for an image shape."""

from __future__ import annotations

from torch import nn

from genlab.registry import Registry
from genlab.schema import Section


class NetSpec(Section):
    """Settings of one architecture; ``arch`` picks the class registered in :data:`NETS`."""

    arch: str = "dcgan"

    def generator(self, z_dim: int, image_shape: tuple[int, int, int]) -> nn.Module:
        """A module mapping latent vectors (B, z_dim) to images (B, C, H, W) in [-1, 1]."""
        raise NotImplementedError(f"architecture '{self.arch}' has no generator")

    def discriminator(self, image_shape: tuple[int, int, int]) -> nn.Module:
        """A module mapping images (B, C, H, W) to one raw score (logit or critic value) per image, shape (B,)."""
        raise NotImplementedError(f"architecture '{self.arch}' has no discriminator")


NETS: Registry[type[NetSpec]] = Registry("architecture")
