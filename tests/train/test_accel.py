"""Speed switches: channels_last layout, bf16 autocast and fused optimisers change speed, not results."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from genlab.models.optim import OptimConfig
from genlab.schema import validate_section
from genlab.train import RunDir, Trainer
from genlab.train.accel import AccelConfig, Acceleration


def networks_after(tiny_config, tmp_path, name: str, *overrides: str) -> dict[str, torch.Tensor]:
    cfg = tiny_config("train.steps=5", "train.sample_every=0", *overrides)
    trainer = Trainer(cfg, RunDir.create(tmp_path / name, cfg.name))
    trainer.fit()
    return {f"{n}.{k}": v for n, net in trainer.recipe.networks.items() for k, v in net.state_dict().items()}


def test_channels_last_is_on_for_images_and_keeps_the_results(tiny_config, tmp_path):
    cfg = tiny_config()
    trainer = Trainer(cfg, RunDir.create(tmp_path / "layout", cfg.name))
    conv = next(m for m in trainer.recipe.generator.modules() if isinstance(m, nn.ConvTranspose2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) and not conv.weight.is_contiguous()
    assert trainer.sampler().images.is_contiguous(memory_format=torch.channels_last)
    fast = networks_after(tiny_config, tmp_path, "on", "accel.channels_last=on")
    plain = networks_after(tiny_config, tmp_path, "off", "accel.channels_last=off")
    assert fast.keys() == plain.keys()
    for key in fast:
        assert torch.allclose(fast[key].float(), plain[key].float(), atol=1e-5), key


def test_channels_last_does_not_apply_to_vector_data():
    accel = Acceleration(AccelConfig(), torch.device("cpu"), images=False)
    assert not accel.channels_last and accel.memory_format == torch.contiguous_format


def test_bf16_autocast_runs_convolutions_in_bf16_and_keeps_float32_weights(tiny_config, tmp_path):
    conv = nn.Conv2d(1, 2, 3)
    x = torch.randn(2, 1, 5, 5)
    assert conv(x).dtype == torch.float32
    with Acceleration(AccelConfig(precision="bf16"), torch.device("cpu"), images=True).autocast():
        assert conv(x).dtype == torch.bfloat16
    weights = networks_after(tiny_config, tmp_path, "bf16", "accel.precision=bf16")
    assert all(w.dtype in (torch.float32, torch.int64) and torch.isfinite(w.float()).all() for w in weights.values())


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_fused_optimisers_make_the_same_update(name):
    torch.manual_seed(0)
    params = [nn.Parameter(torch.randn(5, 3)), nn.Parameter(torch.randn(3))]
    grads = [torch.randn_like(p) for p in params]
    results = []
    for fused in (True, False):
        copies = [nn.Parameter(p.detach().clone()) for p in params]
        opt = OptimConfig(name=name, lr=0.1, momentum=0.9 if name == "sgd" else 0.0, fused=fused).build(
            copies, torch.device("cpu")
        )
        assert bool(opt.defaults["fused"]) == fused
        for _ in range(3):
            for p, g in zip(copies, grads, strict=True):
                p.grad = g.clone()
            opt.step()
        results.append(copies)
    for a, b in zip(*results, strict=True):
        assert torch.allclose(a, b, atol=1e-6)
        assert not torch.allclose(a, params[0] if a.shape == params[0].shape else params[1])


def test_fused_auto_is_off_on_the_cpu_and_refused_where_unavailable():
    opt = OptimConfig().build([nn.Parameter(torch.zeros(2))], torch.device("cpu"))
    assert not opt.defaults["fused"]
    with pytest.raises(Exception, match="fused: true is available for the adam and sgd optimisers only"):
        validate_section(OptimConfig, {"name": "rmsprop", "fused": "on"})  # YAML's on, as --set reads it
