"""``arch: custom``: a network handed to genlab from Python (``genlab.fit(generator=G, discriminator=D)``).

A run's config.yaml records every setting, so it records that such a run trained a network of the user's. That
network's code lives in the user's program, not in genlab, so it cannot be rebuilt from the config: commands that
rebuild a run's model from its folder (``genlab sample``, ``genlab eval``, ``genlab train --resume``) say so and how
to go on instead.
"""

from __future__ import annotations

from torch import nn

from genlab.errors import ConfigError
from genlab.nets.base import NETS, NetSpec, Shape
from genlab.schema import register_section

CUSTOM_HINT = (
    "arch 'custom' stands for a network that was handed to genlab.fit from Python, which cannot be rebuilt from a "
    "config: build it in Python and pass it again (genlab.fit or genlab.resume with generator=..., "
    "discriminator=...), or choose a genlab architecture (dcgan, mlp, resnet, ...)"
)


@register_section(NETS, key="arch")
class Custom(NetSpec):
    arch: str = "custom"

    def build_generator(self, z_dim: int, shape: Shape) -> nn.Module:
        raise ConfigError(f"model.generator: {CUSTOM_HINT}")

    def build_discriminator(self, shape: Shape) -> nn.Module:
        raise ConfigError(f"model.discriminator: {CUSTOM_HINT}")
