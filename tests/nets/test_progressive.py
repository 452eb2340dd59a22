"""The progressive networks: exact fade-in at alpha = 0, the minibatch standard deviation, equalised learning rate."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from genlab.nets.progressive import EqualizedConv2d, Progressive, minibatch_stddev, pixel_norm


def test_minibatch_stddev_channel_equals_a_hand_computation():
    x = torch.randn(8, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    out = minibatch_stddev(x, group_size=4)
    assert out.shape == (8, 4, 4, 4) and torch.equal(out[:, :3], x)
    # Groups of 4 are the samples {i, i + 2, i + 4, i + 6}: population std per feature and pixel, then the mean.
    for first in (0, 1):
        members = x[first::2]
        by_hand = members.var(dim=0, unbiased=False).add(1e-8).sqrt().mean()
        for i in range(first, 8, 2):
            assert torch.allclose(out[i, 3], torch.full((4, 4), by_hand.item()), atol=1e-6)
    # A batch of 6 with groups of 4 uses groups of 3; identical samples give (almost) zero.
    assert minibatch_stddev(x[:6], 4)[:, 3].unique().numel() == 2
    same = minibatch_stddev(x[:1].repeat(4, 1, 1, 1), 4)[:, 3]
    assert same.max().item() < 1e-3


def test_pixel_norm_gives_unit_mean_square_per_pixel():
    x = torch.randn(2, 16, 3, 3) * 7
    assert torch.allclose(pixel_norm(x).square().mean(dim=1), torch.ones(2, 3, 3), atol=1e-5)


def test_equalised_conv_scales_unit_weights_by_the_he_constant():
    conv = EqualizedConv2d(8, 16, 3, padding=1)
    assert conv.weight.std().item() == pytest.approx(1.0, abs=0.1)
    x = torch.randn(4, 8, 5, 5)
    by_hand = F.conv2d(x, conv.weight * (2**0.5 / (8 * 9) ** 0.5), conv.bias, padding=1)
    assert torch.allclose(conv(x), by_hand)


def _scrambled(net: torch.nn.Module) -> torch.nn.Module:
    """Random biases too, so that exact equalities cannot come from zeros."""
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return net


@pytest.mark.parametrize("level", [1, 2, 3])
def test_at_alpha_zero_the_grown_generator_outputs_the_previous_resolution_enlarged(level):
    torch.manual_seed(0)
    g = _scrambled(Progressive(width=32).generator(16, (3, 32, 32)))
    z = torch.randn(5, 16)
    g.set_phase(level - 1, 1.0)
    smaller = g(z)
    g.set_phase(level, 0.0)
    grown = g(z)
    assert grown.shape[-1] == 2 * smaller.shape[-1] == 4 * 2**level
    assert torch.allclose(grown, F.interpolate(smaller, scale_factor=2, mode="nearest"), atol=1e-6)
    g.set_phase(level, 0.5)
    assert not torch.allclose(g(z), grown, atol=1e-3)  # the new block does take part once alpha rises


@pytest.mark.parametrize("level", [1, 2, 3])
def test_at_alpha_zero_the_grown_discriminator_scores_the_downsampled_images(level):
    torch.manual_seed(0)
    d = _scrambled(Progressive(width=32).discriminator((3, 32, 32)))
    side = 4 * 2**level
    images = torch.rand(8, 3, side, side) * 2 - 1
    d.set_phase(level, 0.0)
    grown = d(images)
    d.set_phase(level - 1, 1.0)
    assert torch.allclose(grown, d(F.avg_pool2d(images, 2)), atol=1e-5)
    d.set_phase(level, 1.0)
    assert not torch.allclose(d(images), grown, atol=1e-3)


def test_the_phase_travels_with_the_weights():
    g = Progressive(width=8).generator(4, (1, 16, 16))
    g.set_phase(1, 0.25)
    fresh = Progressive(width=8).generator(4, (1, 16, 16))
    fresh.load_state_dict(g.state_dict())
    assert (fresh.level, fresh.alpha) == (1, 0.25)
    with pytest.raises(ValueError, match=r"level must be in 0\.\.2"):
        g.set_phase(3, 1.0)


def test_spectral_norm_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="equalised learning rate"):
        Progressive(spectral_norm=True)
