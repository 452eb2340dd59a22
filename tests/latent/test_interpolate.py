"""Linear and spherical interpolation: end points, the norm profile, paths through several points."""

import math

import pytest
import torch

from genlab.errors import GenlabError
from genlab.latent.explore import interpolate_images
from genlab.latent.interpolate import interpolate, latent_path, lerp, slerp
from genlab.models import Recipe
from genlab.models.gan import GANConfig


def test_slerp_hits_both_end_points_exactly():
    a, b = torch.randn(2, 100, generator=torch.Generator().manual_seed(0))
    path = interpolate(a, b, 7, "slerp")
    assert path.shape == (7, 100) and torch.equal(path[0], a) and torch.equal(path[-1], b)


def test_slerp_keeps_the_norm_of_gaussian_samples_where_lerp_dips():
    a, b = torch.randn(2, 200, 128, generator=torch.Generator().manual_seed(0))
    t = torch.tensor([0.0, 0.5, 1.0])
    end = a.norm(dim=-1)
    slerp_mid = slerp(a, b, t)[1].norm(dim=-1) / end
    lerp_mid = lerp(a, b, t)[1].norm(dim=-1) / end
    assert slerp_mid.mean().item() == pytest.approx(1.0, abs=0.02) and slerp_mid.min() > 0.85
    assert lerp_mid.mean().item() == pytest.approx(1 / math.sqrt(2), abs=0.03)  # near-orthogonal: sqrt(1/2)


def test_slerp_moves_along_the_great_circle_at_constant_angular_speed():
    a, b = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 2.0])
    path = interpolate(a, b, 5, "slerp")
    angles = torch.atan2(path[:, 1], path[:, 0])
    assert torch.allclose(angles, torch.linspace(0, math.pi / 2, 5), atol=1e-6)
    assert torch.allclose(path.norm(dim=1), torch.full((5,), 2.0))


def test_parallel_end_points_fall_back_to_a_straight_line():
    a = torch.tensor([1.0, 1.0])
    path = interpolate(a, 3 * a, 3, "slerp")
    assert torch.allclose(path, torch.stack([a, 2 * a, 3 * a]))


def test_a_path_through_several_points_visits_each_once():
    points = torch.randn(3, 16, generator=torch.Generator().manual_seed(1))
    path = latent_path(points, 4, "lerp")
    assert path.shape == (7, 16)
    assert (
        torch.allclose(path[0], points[0]) and torch.allclose(path[3], points[1]) and torch.allclose(path[6], points[2])
    )
    with pytest.raises(ValueError, match="at least 2"):
        interpolate(points[0], points[1], 1)


class LinearAutoencoder(Recipe):
    """Codes are the first two pixels; decoding writes a code back into those pixels of a blank image."""

    device = torch.device("cpu")

    def encode(self, images):
        return images.flatten(1)[:, :2]

    def decode(self, z, labels=None):
        images = -torch.ones(len(z), 1, 2, 2)
        images.view(len(z), -1)[:, :2] = z
        return images


def test_real_images_are_encoded_walked_and_decoded():
    a, b = torch.tensor([[[0.5, 0.0], [0.0, 0.0]]]), torch.tensor([[[0.0, 0.5], [0.0, 0.0]]])
    walk = interpolate_images(LinearAutoencoder(), a, b, steps=3, mode="slerp")
    assert walk.shape == (3, 1, 2, 2)
    assert torch.equal(walk[0, 0, 0], a[0, 0]) and torch.equal(walk[-1, 0, 0], b[0, 0])
    assert torch.allclose(walk[1, 0, 0], torch.tensor([0.5, 0.5]) / 2**0.5)  # on the circle of radius 0.5


def test_gans_have_no_encoder_to_interpolate_real_images():
    gan = GANConfig.model_validate({"z_dim": 4, "generator": {"width": 8}, "discriminator": {"width": 8}})
    with pytest.raises(GenlabError, match="no encoder"):
        interpolate_images(gan.build((1, 8, 8), None, torch.device("cpu")), torch.zeros(1, 8, 8), torch.zeros(1, 8, 8))
