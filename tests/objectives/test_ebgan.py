import math

import pytest
import torch

from genlab.errors import ConfigError
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

    with pytest.raises(ConfigError, match="needs an autoencoder discriminator"):
        load_config({}, ["model.objective=ebgan"])
    with pytest.raises(ConfigError, match="cannot use an autoencoder discriminator"):
        load_config({}, ["model.discriminator={arch: autoencoder}"])


def test_pulling_away_term_by_hand():
    from genlab.objectives.ebgan import pulling_away

    s = torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 2.0, 2.0]])  # norms 1, sqrt 2, 3
    cos12, cos13, cos23 = 1 / math.sqrt(2), 1 / 3, 3 / (math.sqrt(2) * 3)
    expected = 2 * (cos12**2 + cos13**2 + cos23**2) / (3 * 2)  # each unordered pair twice, over N(N - 1)
    assert expected == pytest.approx(10 / 27)
    assert pulling_away(s).item() == pytest.approx(expected, rel=1e-6)
    assert pulling_away(5 * s).item() == pytest.approx(expected, rel=1e-6)  # directions only
    assert pulling_away(torch.tensor([[1.0, 2.0]] * 4)).item() == pytest.approx(1.0)  # a collapsed batch
    assert pulling_away(torch.eye(3)).item() == 0.0


def test_pulling_away_term_is_weighted_into_g_s_loss_on_the_encoder_s_codes():
    class Encoder:
        def encode(self, x):
            return x * 2

        def __call__(self, x):
            return x.square().sum(1)  # an "energy"

    fake = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 3.0]])  # cosines 1/√2, 0, 1/√2: f_PT = 2 (1/2 + 1/2) / 6
    ebgan = OBJECTIVES.get("ebgan")(pt_weight=0.3)
    energies = (1 + 2 + 9) / 3
    assert ebgan.generator_loss(Encoder(), fake, fake).item() == pytest.approx(energies + 0.3 / 3, rel=1e-6)
    assert OBJECTIVES.get("ebgan")().g_penalty(Encoder(), fake) is None
    with pytest.raises(ConfigError, match="needs the codes of an autoencoder discriminator"):
        ebgan.g_penalty(lambda x: x.sum(1), fake)
    with pytest.raises(ConfigError, match=r"raise model\.discriminator\.code_dim"):
        ebgan.g_penalty(Encoder(), fake[:, :1])
