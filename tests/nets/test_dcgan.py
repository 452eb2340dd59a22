import pytest
import torch

from genlab.errors import ConfigError
from genlab.nets.dcgan import DCGAN


@pytest.mark.parametrize("size", [8, 16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_for_every_supported_size(size, channels):
    spec = DCGAN(width=8)
    G, D = spec.generator(10, (channels, size, size)), spec.discriminator((channels, size, size))
    images = G(torch.randn(5, 10))
    assert images.shape == (5, channels, size, size)
    assert images.abs().max() <= 1  # tanh output
    assert D(images).shape == (5,)


def test_64px_width_64_matches_the_reference_dcgan_layout():
    G = DCGAN(width=64).generator(100, (3, 64, 64))
    convs = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(100, 512), (512, 256), (256, 128), (128, 64), (64, 3)]
    D = DCGAN(width=64).discriminator((3, 64, 64))
    convs = [m for m in D.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(3, 64), (64, 128), (128, 256), (256, 512), (512, 1)]
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in D.modules()) == 3  # none on D's input layer


def test_weights_follow_the_dcgan_initialisation():
    torch.manual_seed(0)
    G = DCGAN(width=64).generator(100, (1, 32, 32))
    conv_weights = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)])
    assert conv_weights.mean().abs() < 1e-3 and abs(conv_weights.std().item() - 0.02) < 1e-3
    bn_scales = torch.cat([m.weight for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d)])
    assert abs(bn_scales.mean().item() - 1) < 0.01 and abs(bn_scales.std().item() - 0.02) < 0.005


@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 4, 4), (1, 512, 512), (1, 16, 32)])
def test_unsupported_image_sizes_are_config_errors(shape):
    with pytest.raises(ConfigError, match="dcgan"):
        DCGAN().generator(10, shape)
