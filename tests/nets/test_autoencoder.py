import pytest
import torch
from torch import nn

from genlab.errors import ConfigError
from genlab.nets.autoencoder import AutoEncoder


@pytest.mark.parametrize("shape", [(2,), (1, 16, 16), (3, 8, 8), (3, 32, 32)])
@pytest.mark.parametrize("distance", ["mse", "l1"])
def test_energy_is_the_mean_reconstruction_error_per_sample(shape, distance):
    torch.manual_seed(0)
    D = AutoEncoder(width=8, code_dim=4, distance=distance).discriminator(shape)
    x = torch.randn(5, *shape)
    energy = D(x)
    error = D.reconstruct(x) - x
    expected = (error**2 if distance == "mse" else error.abs()).flatten(1).mean(1)
    assert energy.shape == (5,) and (energy >= 0).all()
    assert torch.allclose(energy, expected)
    assert D.reconstruct(x).shape == x.shape
    assert D.encode(x).shape == (5, 4)


def test_a_samples_energy_does_not_depend_on_its_batch():
    torch.manual_seed(0)
    D = AutoEncoder(width=8).discriminator((1, 16, 16))
    x = torch.randn(6, 1, 16, 16)
    assert torch.allclose(D(x)[:2], D(x[:2]), atol=1e-6)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())


def test_energy_can_be_trained_towards_zero():
    torch.manual_seed(0)
    D = AutoEncoder(width=32, code_dim=4).discriminator((2,))
    x = torch.randn(64, 2)
    optimizer = torch.optim.Adam(D.parameters(), lr=1e-2)
    start = D(x).mean().item()
    for _ in range(200):
        optimizer.zero_grad()
        D(x).mean().backward()
        optimizer.step()
    assert D(x).mean().item() < 0.05 * start


def test_defaults_and_the_missing_generator():
    spec = AutoEncoder()
    assert (spec.distance, spec.width, spec.code_dim) == ("mse", 64, 64)
    with pytest.raises(ConfigError, match="autoencoder architecture has no generator"):
        spec.generator(10, (1, 16, 16))


def test_unsupported_image_sizes_are_config_errors():
    with pytest.raises(ConfigError, match="autoencoder architecture needs square images"):
        AutoEncoder().discriminator((1, 28, 28))
