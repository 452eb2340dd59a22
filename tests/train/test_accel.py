"""Speed switches: channels_last layout, bf16 autocast, fused optimisers and compiled networks change speed, not
results."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from genlab.build import build_trainer
from genlab.config import load_config
from genlab.errors import ConfigError
from genlab.models.optim import OptimConfig
from genlab.schema import validate_section
from genlab.train import RunDir, Trainer
from genlab.train.accel import AccelConfig, Acceleration
from genlab.train.checkpoint import load_checkpoint

from .helpers import train


def networks_after(tiny_config, tmp_path, name: str, *overrides: str) -> dict[str, torch.Tensor]:
    cfg = tiny_config("train.steps=5", "train.sample_every=0", *overrides)
    trainer = build_trainer(cfg, RunDir.create(tmp_path / name, cfg.name))
    trainer.fit()
    return {f"{n}.{k}": v for n, net in trainer.recipe.networks.items() for k, v in net.state_dict().items()}


def test_channels_last_is_on_for_images_and_keeps_the_results(tiny_config, tmp_path):
    cfg = tiny_config()
    trainer = build_trainer(cfg, RunDir.create(tmp_path / "layout", cfg.name))
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
    with Acceleration(AccelConfig(precision="bf16"), torch.device("cpu"), images=True).step():
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


def fit_traced(cfg, folder) -> tuple[Trainer, dict[str, bool]]:
    """Train ``cfg``, recording per network whether any forward call ran while torch.compile traced it."""
    trainer = build_trainer(cfg, RunDir.create(folder, cfg.name))
    traced = {"generator": False, "discriminator": False}

    def hook(name: str):
        def record(module, args):
            traced[name] |= torch.compiler.is_compiling()

        return record

    for name in traced:
        trainer.recipe.networks[name].register_forward_pre_hook(hook(name))
    trainer.fit()
    return trainer, traced


COMPILED_CASES = {
    "batchnorm-dcgan": [],
    "spectral-norm-projection-cgan": ["model.discriminator.spectral_norm=true", "model.condition=projection"],
    "began-autoencoder-d-ema": [
        "model.objective.name=began",
        "model.discriminator.arch=autoencoder",  # another kind: starts from its defaults
        "model.discriminator.width=8",
        "model.tricks.ema.decay=0.9",
    ],
}


@pytest.mark.parametrize("case", list(COMPILED_CASES))
def test_compiled_training_traces_both_networks_and_keeps_the_results(tiny_config, tmp_path, case):
    overrides = ["train.steps=5", "train.sample_every=0", *COMPILED_CASES[case]]
    eager, eager_traced = fit_traced(tiny_config(*overrides), tmp_path / "eager")
    trainer, traced = fit_traced(tiny_config(*overrides, "accel.compile=true"), tmp_path / "compiled")
    assert traced == {"generator": True, "discriminator": True}
    assert eager_traced == {"generator": False, "discriminator": False}
    saved = load_checkpoint(trainer.run.latest_checkpoint())["recipe"]["networks"]
    for name, net in eager.recipe.networks.items():
        # The checkpoint holds the plain networks (no torch.compile wrapper names): it loads without compiling.
        assert saved[name].keys() == net.state_dict().keys()
        for key, value in net.state_dict().items():
            assert torch.allclose(value.float(), saved[name][key].float(), atol=1e-5), f"{name}.{key}"


def test_a_gradient_penalty_leaves_the_discriminator_uncompiled(tiny_config, tmp_path, capsys):
    cfg = tiny_config("train.steps=3", "train.sample_every=0", "model.objective.name=wgan-gp", "accel.compile=true")
    trainer, traced = fit_traced(cfg, tmp_path / "gp")
    assert "the discriminator trains uncompiled: its gradient penalty differentiates D twice" in capsys.readouterr().err
    assert traced == {"generator": True, "discriminator": False}
    assert all(torch.isfinite(p).all() for p in trainer.recipe.discriminator.parameters())


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"recipe": "vae", "coder": {"arch": "mlp"}}, "the VAE recipe has no compiled training step yet"),
        ({"recipe": "progressive"}, "torch.compile would recompile at every step"),
    ],
)
def test_recipes_that_cannot_compile_say_so_before_training(tmp_path, model, message):
    data = {"name": "digits", "size": 16}
    cfg = load_config({"device": "cpu", "data": data, "model": model, "accel": {"compile": True}})
    with pytest.raises(ConfigError, match=message):
        build_trainer(cfg, RunDir.create(tmp_path / "refused", cfg.name))


def test_a_compiler_failure_is_a_config_error_naming_the_switch(tiny_config, tmp_path, monkeypatch):
    import torch._functorch.config as functorch
    import torch._inductor.config as inductor

    monkeypatch.setattr(inductor.cpp, "cxx", ("/nonexistent/c++",))
    monkeypatch.setattr(inductor, "fx_graph_cache", False)  # cached kernels would need no compiler
    monkeypatch.setattr(functorch, "enable_autograd_cache", False)
    torch._dynamo.reset()
    cfg = tiny_config("train.steps=2", "accel.compile=true")
    expected = r"accel.compile: torch.compile could not compile .*No working C\+\+ compiler"
    with pytest.raises(ConfigError, match=expected):
        train(cfg, tmp_path / "broken")
    torch._dynamo.reset()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a CUDA GPU")
def test_cuda_graph_training_keeps_the_results(tiny_config, tmp_path):
    overrides = ["device=cuda", "train.steps=8", "train.sample_every=4", "train.checkpoint_every=4"]
    start = build_trainer(tiny_config(*overrides), RunDir.create(tmp_path / "start", "start")).recipe.networks
    eager = train(tiny_config(*overrides), tmp_path / "eager")
    graphs = train(tiny_config(*overrides, "accel.compile=true"), tmp_path / "graphs")
    assert graphs.accel.compile_mode == "reduce-overhead"
    # cuDNN's kernels are not bitwise reproducible, and Adam magnifies tiny gradient differences, so compare the
    # gap between the runs with how far training moved the weights.
    for name, net in start.items():
        for key, value in net.state_dict().items():
            if value.is_floating_point():
                moved = eager.recipe.networks[name].state_dict()[key] - value
                gap = graphs.recipe.networks[name].state_dict()[key] - eager.recipe.networks[name].state_dict()[key]
                assert gap.norm() <= 0.05 * moved.norm() + 1e-6, f"{name}.{key}"
