import pytest
import torch
from torch import nn

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
        ema.update(step)
    expected = history[0]  # step 0 < start: a plain copy
    for weight in history[1:]:
        expected = 0.9 * expected + 0.1 * weight
    assert torch.allclose(ema.net[0].weight, expected)
    assert torch.equal(ema.net[1].running_mean, net[1].running_mean)
    assert not any(p.requires_grad for p in ema.net.parameters())


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
