import math

import pytest
import torch
from torch import nn

from genlab.config import load_config
from genlab.errors import ConfigError
from genlab.models.tricks import EMA, EMAConfig, InstanceNoiseConfig, ReplayBuffer, ReplayConfig


def test_ema_follows_the_exponential_recursion_and_copies_buffers():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    ema = EMA(net, EMAConfig(decay=0.9, start=1))
    history = []
    for step in range(4):
        with torch.no_grad():
            net[0].weight.add_(1.0)
            net[1].running_mean.add_(2.0)
        history.append(net[0].weight.clone())
        ema.update(step, batch_size=4)
    expected = history[0]  # step 0 < start: a plain copy
    for weight in history[1:]:
        expected = 0.9 * expected + 0.1 * weight
    assert torch.allclose(ema.net[0].weight, expected)
    assert torch.equal(ema.net[1].running_mean, net[1].running_mean)
    assert not any(p.requires_grad for p in ema.net.parameters())


def averaged_weights(cfg: EMAConfig, batch_size: int, steps: int) -> torch.Tensor:
    torch.manual_seed(0)
    net = nn.Linear(3, 2)
    ema = EMA(net, cfg)
    for step in range(steps):
        with torch.no_grad():
            net.weight.add_(torch.randn_like(net.weight))
        ema.update(step, batch_size)
    return ema.net.weight


def test_half_life_in_images_matching_the_batch_gives_the_per_step_decay():
    batch, decay = 32, 0.9
    half_life = batch * math.log(0.5) / math.log(decay)  # 0.5 ** (32 / half_life) = decay
    counted = EMAConfig(half_life_images=half_life)
    assert counted.decay is None and counted.beta(10**6, batch) == pytest.approx(decay, rel=1e-12)
    per_step = averaged_weights(EMAConfig(decay=decay), batch, 6)
    assert torch.allclose(averaged_weights(counted, batch, 6), per_step, rtol=0, atol=1e-6)
    # The same half-life with another batch size decays per image, not per step: 0.5 ** (64 / half_life) = decay².
    assert counted.beta(0, 2 * batch) == pytest.approx(decay**2, rel=1e-12)


def test_ema_rampup_caps_the_half_life_at_a_share_of_the_images_seen():
    cfg = EMAConfig(half_life_images=1000, rampup=0.05)
    # After n images the half-life is min(1000, 0.05 n): 0 (a copy), 0.5 images, 1 image, ... then 1000.
    assert cfg.beta(0, 10) == 0.0
    assert cfg.beta(10, 10) == pytest.approx(2.0**-20)
    assert cfg.beta(20, 10) == pytest.approx(1 / 1024)
    assert cfg.beta(10_000, 10) == pytest.approx(math.exp(-10 * math.log(2) / 500))
    assert cfg.beta(20_000, 10) == cfg.beta(10**9, 10) == pytest.approx(math.exp(-10 * math.log(2) / 1000))
    assert EMAConfig(half_life_images=1000).beta(0, 10) == pytest.approx(math.exp(-10 * math.log(2) / 1000))
    ema = EMA(nn.Linear(2, 2), cfg)
    ema.update(0, 10)
    ema.update(1, 6)
    assert ema.state_dict() == {"images_seen": 16}


def test_ema_default_is_the_per_step_decay_and_the_two_forms_exclude_each_other():
    assert EMAConfig().decay == 0.999 and load_config({}, ["model.tricks.ema.start=5"]).model.tricks.ema.decay == 0.999
    with pytest.raises(ConfigError, match=r"model.tricks.ema: decay and half_life_images both set .*decay: null"):
        load_config({}, ["model.tricks.ema={decay: 0.99, half_life_images: 10000}"])
    with pytest.raises(ConfigError, match="rampup caps half_life_images, which is not set"):
        load_config({}, ["model.tricks.ema={decay: 0.99, rampup: 0.05}"])


def test_instance_noise_anneals_linearly_to_zero():
    noise = InstanceNoiseConfig(std=0.2, anneal_steps=100)
    assert [noise.std_at(s) for s in (0, 50, 100, 500)] == pytest.approx([0.2, 0.1, 0.0, 0.0])
    assert InstanceNoiseConfig(std=0.2).std_at(10**6) == 0.2


def test_replay_buffer_stores_old_fakes_and_mixes_them_back():
    torch.manual_seed(0)
    buffer = ReplayBuffer(ReplayConfig(size=8, fraction=0.5), (3,), torch.device("cpu"))
    first = torch.arange(12.0).reshape(4, 3)
    assert torch.equal(buffer.mix(first), first)  # empty pool: nothing to borrow
    assert buffer.filled == 2 and torch.equal(buffer.pool[:2], first[:2])
    second = -torch.ones(4, 3)
    mixed = buffer.mix(second)
    assert torch.equal(mixed[:2], second[:2])  # half new ...
    assert all(any(torch.equal(row, old) for old in first[:2]) for row in mixed[2:])  # ... half from the pool
    for _ in range(10):
        buffer.mix(torch.randn(4, 3))
    assert buffer.filled == 8
    state = buffer.state_dict()
    other = ReplayBuffer(ReplayConfig(size=8, fraction=0.5), (3,), torch.device("cpu"))
    other.load_state_dict(state)
    assert torch.equal(other.pool, buffer.pool) and other.filled == 8
