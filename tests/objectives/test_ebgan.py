import pytest
import torch

from genlab.objectives import OBJECTIVES


def test_energy_losses_with_margin():
    ebgan = OBJECTIVES.get("ebgan")(margin=2.0)
    real, fake = torch.tensor([0.5, 1.5]), torch.tensor([1.0, 3.0])
    # D: mean D(x) + mean [m - D(G(z))]^+ = 1 + (1 + 0)/2
    assert ebgan.d_loss(real, fake).item() == pytest.approx(1.5)
    assert ebgan.g_loss(fake).item() == pytest.approx(2.0)
    assert ebgan.readout(fake).tolist() == [1.0, 3.0]


def test_fakes_beyond_the_margin_no_longer_push_d():
    fake = torch.tensor([0.5, 5.0], requires_grad=True)
    OBJECTIVES.get("ebgan")(margin=1.0).d_loss(torch.zeros(2), fake).backward()
    assert fake.grad.tolist() == [-0.5, 0.0]


def test_ebgan_requires_an_energy_discriminator():
    from genlab.config import load_config
    from genlab.errors import ConfigError

    with pytest.raises(ConfigError, match="needs an autoencoder discriminator"):
        load_config({}, ["model.objective=ebgan"])
    with pytest.raises(ConfigError, match="cannot use an autoencoder discriminator"):
        load_config({}, ["model.discriminator={arch: autoencoder}"])
