"""The image pyramids of the Laplacian-pyramid GAN: d(·) and u(·) on hand-computed cases, and decomposition and
reconstruction that are exact on real images."""

from __future__ import annotations

import pytest
import torch

from genlab.data import DataConfig, load_dataset
from genlab.errors import ConfigError
from genlab.nets.pyramid import down, gaussian_pyramid, laplacian_pyramid, reconstruct, up


def test_down_blurs_with_the_binomial_kernel_and_keeps_every_second_pixel():
    delta = torch.zeros(1, 1, 8, 8)
    delta[0, 0, 4, 4] = 1.0
    small = down(delta)[0, 0]
    assert small.shape == (4, 4)
    # Output (i, j) is the blur centred on input (2i, 2j): weights k[a] k[b] with k = [1, 4, 6, 4, 1] / 16.
    assert small[2, 2] == pytest.approx(36 / 256)
    assert small[1, 2] == pytest.approx(6 / 256) and small[2, 1] == pytest.approx(6 / 256)
    assert small[1, 1] == pytest.approx(1 / 256) and small[0, 2] == 0
    assert small.sum() == pytest.approx(64 / 256)  # (1 + 6 + 1) / 16 per axis: the taps at even offsets
    # A constant stays the same constant, edges included (replicated), in every channel.
    assert torch.allclose(down(torch.full((2, 3, 8, 8), 0.3)), torch.full((2, 3, 4, 4), 0.3))


def test_up_is_bilinear_enlargement():
    row = up(torch.tensor([[[[0.0, 1.0], [0.0, 1.0]]]]))[0, 0]
    assert torch.allclose(row, torch.tensor([0.0, 0.25, 0.75, 1.0]).expand(4, 4))
    assert torch.allclose(up(torch.full((1, 2, 3, 3), -0.5)), torch.full((1, 2, 6, 6), -0.5))


def test_decomposition_and_reconstruction_are_exact_on_real_images():
    images = load_dataset(DataConfig(name="digits", size=16)).images[:256]
    gaussian = gaussian_pyramid(images, 3)
    assert [g.shape[-1] for g in gaussian] == [4, 8, 16] and torch.equal(gaussian[-1], images)
    assert torch.allclose(gaussian[0], down(down(images)))
    pyramid = laplacian_pyramid(images, 3)
    assert [p.shape for p in pyramid] == [g.shape for g in gaussian]
    assert torch.equal(pyramid[0], gaussian[0])
    for k in (1, 2):  # h_k = I_k - u(I_{k+1}): real detail, and what it adds back is the finer image
        assert pyramid[k].abs().mean() > 0.02
        assert (up(gaussian[k - 1]) + pyramid[k] - gaussian[k]).abs().max() < 1e-6
    assert (reconstruct(pyramid) - images).abs().max() < 1e-6
    # Every level of a Gaussian pyramid of images in [-1, 1] stays in [-1, 1] (the blur averages).
    assert all(g.min() >= -1 and g.max() <= 1 for g in gaussian)


def test_a_side_that_the_halvings_do_not_divide_is_refused():
    with pytest.raises(ConfigError, match="multiple of 8; got 12"):
        gaussian_pyramid(torch.zeros(1, 1, 12, 12), 4)
