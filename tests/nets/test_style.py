"""The style-based generator: AdaIN and demodulation by hand, style mixing seen by forward hooks, noise inputs that
change only fine detail, the running mean of w and truncation in w through the sample API and CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import genlab
from genlab.cli import main
from genlab.errors import ConfigError, GenlabError
from genlab.generators import load_generator
from genlab.nets.base import own_truncation
from genlab.nets.style import Style, StyleGenerator, adain, demodulated, modulated_conv

TINY_STYLE = [
    "device=cpu",
    "data.size=16",
    "model.z_dim=16",
    "model.generator.w_dim=16",
    "model.generator.mapping_width=16",
    "model.generator.width=8",
    "model.generator.max_width=32",
    "model.discriminator.width=16",
    "train.batch_size=16",
    "train.sample_every=0",
    "train.checkpoint_every=0",
    "train.progress=false",
    "train.report=false",
    "train.loggers=[jsonl]",
]


@pytest.fixture(scope="module")
def style_run(tmp_path_factory):
    """style-digits shrunk (8-32 channels, 16 px) and trained for a few seconds."""
    out = tmp_path_factory.mktemp("style") / "run"
    genlab.fit("style-digits", [*TINY_STYLE, "train.steps=60"], out=out)
    return out


def tiny_generator(**settings) -> StyleGenerator:
    torch.manual_seed(0)
    return Style(w_dim=8, mapping_width=8, width=4, max_width=8, **settings).generator(8, (1, 16, 16))


def test_adain_gives_each_channel_the_mean_and_std_that_the_style_asks_for():
    # One channel holding 1, 2, 3, 4: mean 2.5, population std sqrt(1.25); style scale 3, bias -1.
    x = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 1, 2, 2)
    out = adain(x, torch.tensor([[3.0]]), torch.tensor([[-1.0]]), eps=0.0)
    by_hand = [3 * (v - 2.5) / math.sqrt(1.25) - 1 for v in (1, 2, 3, 4)]
    assert torch.allclose(out.flatten(), torch.tensor(by_hand))
    # Any input: every sample's channel comes out with exactly the asked mean and standard deviation.
    x = torch.randn(3, 5, 6, 6) * 4 + 7
    scale, bias = torch.rand(3, 5) * 2 + 0.5, torch.randn(3, 5)
    out = adain(x, scale, bias, eps=0.0)
    assert torch.allclose(out.mean(dim=(2, 3)), bias, atol=1e-5)
    assert torch.allclose(out.std(dim=(2, 3), unbiased=False), scale, atol=1e-5)


def test_demodulated_weights_have_unit_norm_per_output_channel():
    # Weights (3, 4) into one output channel: style (1, 1) gives (0.6, 0.8); style (2, 1) gives (6, 4) / sqrt(52).
    weight = torch.tensor([3.0, 4.0]).view(1, 2, 1, 1)
    out = demodulated(weight, torch.tensor([[1.0, 1.0], [2.0, 1.0]]), eps=0.0)
    assert torch.allclose(out[0].flatten(), torch.tensor([0.6, 0.8]))
    assert torch.allclose(out[1].flatten(), torch.tensor([6.0, 4.0]) / math.sqrt(52))
    weight, style = torch.randn(6, 4, 3, 3), torch.rand(5, 4) + 0.1
    norms = demodulated(weight, style).square().sum(dim=(2, 3, 4)).sqrt()
    assert torch.allclose(norms, torch.ones(5, 6), atol=1e-5)
    # The grouped convolution is each sample convolved with its own weights.
    x = torch.randn(5, 4, 7, 7)
    out = modulated_conv(x, weight, style)
    for i in range(5):
        expected = F.conv2d(x[i : i + 1], demodulated(weight, style[i : i + 1])[0], padding=1)
        assert torch.allclose(out[i : i + 1], expected, atol=1e-5)


def received_styles(net: StyleGenerator) -> list[torch.Tensor]:
    """Hooks on every styled layer that record the w it was given, in layer order."""
    seen: list[torch.Tensor] = []
    for layer in net.layers:
        layer.register_forward_hook(lambda _module, args, _out: seen.append(args[1].detach().clone()))
    return seen


@pytest.mark.parametrize("styles", ["adain", "modulation"])
def test_with_style_mixing_the_layers_below_the_crossover_get_w1_and_the_rest_w2(styles):
    net = tiny_generator(styles=styles, mixing=1.0).train()
    seen = received_styles(net)
    z = torch.randn(6, 8)
    w1 = net.mapping(z).detach()
    w2 = w1.roll(1, dims=0)
    layers, crossovers = len(net.layers), set()
    for _ in range(40):
        seen.clear()
        net(z)
        crossover = next(i for i, w in enumerate(seen) if not torch.equal(w, w1))
        assert all(torch.equal(w, w1) for w in seen[:crossover])
        assert all(torch.equal(w, w2) for w in seen[crossover:]), crossover
        crossovers.add(crossover)
    assert crossovers == set(range(1, layers)), crossovers  # every crossover 1..L-1 occurs; 0 (all w2) never
    # No mixing at probability 0, nor in eval mode even at probability 1.
    for mixing, training in ((0.0, True), (1.0, False)):
        net.mixing = mixing
        net.train(training)
        seen.clear()
        net(z)
        assert len(seen) == layers and all(torch.equal(w, w1) for w in seen)


def test_training_passes_track_the_running_mean_of_w_and_eval_passes_leave_it():
    net = tiny_generator(w_mean_decay=0.9).train()
    z1, z2 = torch.randn(4, 8), torch.randn(4, 8)
    net(z1)
    first = net.mapping(z1).mean(dim=0).detach()
    assert torch.allclose(net.w_mean, first)  # the first batch's mean, not 0.9 x a zero start
    net(z2)
    expected = 0.9 * first + 0.1 * net.mapping(z2).mean(dim=0).detach()
    assert torch.allclose(net.w_mean, expected, atol=1e-6)
    net.eval()
    net(torch.randn(4, 8))
    assert torch.allclose(net.w_mean, expected, atol=1e-6) and int(net.w_mean_updates) == 2
    assert {"w_mean", "w_mean_updates"} <= set(net.state_dict())


def test_truncation_moves_w_towards_its_mean_and_only_in_its_block():
    net = tiny_generator().train()
    net(torch.randn(16, 8))
    net.eval()
    seen = received_styles(net)
    z = torch.randn(3, 8)
    w = net.mapping(z).detach()
    with own_truncation([net], 0.25) as in_own_space:
        net(z)
    assert in_own_space and torch.allclose(seen[0], net.w_mean + 0.25 * (w - net.w_mean), atol=1e-6)
    seen.clear()
    net(z)
    assert torch.equal(seen[0], w) and net.psi is None


def test_noise_inputs_change_only_fine_detail(style_run):
    net = load_generator(style_run).net
    z, other = torch.randn(64, 16, generator=torch.Generator().manual_seed(1)).chunk(2)
    with torch.no_grad():
        images = net(z)
        assert torch.equal(images, net(z))  # eval-mode noise is the stored constant maps: sampling is repeatable
        from_z = (net(other) - images).abs().mean().item()
        net.resample_noise(torch.Generator().manual_seed(2))
        from_noise = (net(z) - images).abs().mean().item()
    assert 0 < from_noise < 0.2 * from_z, (from_noise, from_z)
    # Untrained, the zero-initialised noise scales leave images unchanged: training made the noise count.
    untrained = tiny_generator()
    assert all(torch.equal(layer.noise_scale, torch.zeros_like(layer.noise_scale)) for layer in untrained.layers)
    assert any(layer.noise_scale.abs().max() > 0 for layer in net.layers)


def test_truncation_at_zero_gives_the_image_of_the_mean_w_for_every_z(style_run, tmp_path, capsys):
    images = genlab.sample(style_run, 8, seed=3, truncation=0.0, device="cpu")
    net = load_generator(style_run).net
    with torch.no_grad():
        mean_image = net.synthesis([net.w_mean[None]] * len(net.layers))
    assert torch.allclose(images, mean_image.expand_as(images), atol=1e-5)
    free = genlab.sample(style_run, 8, seed=3, device="cpu")
    assert torch.allclose(genlab.sample(style_run, 8, seed=3, truncation=1.0, device="cpu"), free, atol=1e-5)
    half = genlab.sample(style_run, 8, seed=3, truncation=0.5, device="cpu")
    assert (half - mean_image).abs().mean() < (free - mean_image).abs().mean()
    main(["sample", str(style_run), "--n", "4", "--truncation", "0", "--out", str(tmp_path / "mean.npz")])
    assert "wrote" in capsys.readouterr().out
    with np.load(tmp_path / "mean.npz") as archive:  # images in [0, 1]
        assert np.allclose(archive["images"], (mean_image.expand(4, -1, -1, -1).numpy() + 1) / 2, atol=1e-5)
    # An exported generator keeps the mean of w (a buffer) and truncates the same way.
    genlab.export_generator(style_run, tmp_path / "export", formats=["safetensors", "onnx"])  # ONNX: any batch
    exported = genlab.sample(tmp_path / "export", 8, seed=3, truncation=0.0, device="cpu")
    assert torch.allclose(exported, images, atol=1e-5)


def test_z_truncation_at_zero_is_refused_for_other_generators(tiny_config, tmp_path):
    genlab.fit(tiny_config("train.steps=1", "train.report=false"), out=tmp_path / "run")
    with pytest.raises(GenlabError, match="this generator truncates z, which needs a threshold > 0"):
        genlab.sample(tmp_path / "run", 4, truncation=0.0, device="cpu")
    clamped = genlab.sample(tmp_path / "run", 4, truncation=0.5, truncation_mode="clamp", device="cpu")
    assert clamped.shape == (4, 1, 8, 8)


def test_ema_copy_keeps_the_mean_of_w_and_any_objective_trains(tiny_config, tmp_path):
    cfg = tiny_config(
        "model.generator.arch=style",
        "model.generator.styles=modulation",
        "model.discriminator.d_norm=layer",
        "model.objective=wgan-gp",
        "model.tricks.ema.decay=0.9",
        "train.steps=3",
        "train.report=false",
    )
    genlab.fit(cfg, out=tmp_path / "run")
    recipe = genlab.load_run(tmp_path / "run", device="cpu")
    live, ema = recipe.networks["generator"], recipe.networks["generator_ema"]
    assert int(live.w_mean_updates) > 0 and torch.equal(live.w_mean, ema.w_mean)


def test_bad_settings_are_refused_by_name():
    with pytest.raises(ConfigError, match="style architecture has no discriminator"):
        Style().discriminator((1, 16, 16))
    with pytest.raises(ValueError, match="mixing"):
        Style(mixing=1.5)
    with pytest.raises(ValueError, match="spectral_norm is not available for the style architecture"):
        Style(spectral_norm=True)  # it would miss the equalised layers
    with pytest.raises(ConfigError, match="power of two"):
        Style().generator(8, (1, 12, 12))


def test_a_conditional_style_generator_truncates_in_w_through_its_wrapper(tiny_config, tmp_path):
    cfg = tiny_config("model.generator.arch=style", "model.condition=channels", "train.steps=2", "train.report=false")
    genlab.fit(cfg, out=tmp_path / "run")
    free = genlab.sample(tmp_path / "run", 10, truncation=1.0, device="cpu")
    assert not torch.allclose(free[0], free[1])
    # The wrapper's inner generator is found; its w̄ is the mean over all classes, so ψ = 0 forgets the class too.
    mean = genlab.sample(tmp_path / "run", 10, truncation=0.0, device="cpu")
    assert torch.allclose(mean, mean[:1].expand_as(mean), atol=1e-5)
