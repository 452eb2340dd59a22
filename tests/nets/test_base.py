"""Contracts every architecture keeps: output shapes, clear errors for unsupported shapes, and spectral norm."""

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from genlab.errors import ConfigError
from genlab.nets import NETS

SHAPES = [(2,), (4,), (1, 8, 8), (3, 16, 16)]
LAYERS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
PASSES = 50
"""Training passes before checking spectral norm: one power iteration each, on top of the 15 done at wrapping.

Power iteration converges at a rate set by the gap between a weight's two largest singular values; random small
weights can have close ones, so a few passes are not always enough for 5% accuracy.
"""


def small(arch: str, **options):
    """A narrow instance of an architecture, so tests run in milliseconds."""
    spec = NETS.get(arch)
    fields = {"width": 8} if "width" in spec.model_fields else {}
    return spec(**fields, **options)


def build(arch: str, role: str, shape: tuple[int, ...], **options) -> nn.Module | None:
    """The network, or None where the architecture does not support the shape (or role)."""
    spec = small(arch, **options)
    try:
        return spec.generator(6, shape) if role == "generator" else spec.discriminator(shape)
    except ConfigError:
        return None


def run(net: nn.Module, role: str, shape: tuple[int, ...], batch: int = 5) -> torch.Tensor:
    return net(torch.randn(batch, 6) if role == "generator" else torch.randn(batch, *shape))


BUILT = [arch for arch in NETS.names() if arch != "custom"]
"""The architectures genlab builds (``custom`` stands for a user's network, which genlab cannot build)."""
GENERATOR_ONLY = {"style"}
"""Architectures that build no discriminator (a ConfigError says which to use instead)."""


@pytest.mark.parametrize("arch", BUILT)
def test_every_architecture_builds_a_discriminator_with_one_score_per_sample(arch):
    built = {"discriminator": 0, "generator": 0}
    for shape in SHAPES:
        D = build(arch, "discriminator", shape)
        if D is not None:
            assert run(D, "discriminator", shape).shape == (5,)
            built["discriminator"] += 1
        G = build(arch, "generator", shape)
        if G is not None:
            assert run(G, "generator", shape).shape == (5, *shape)
            built["generator"] += 1
    role = "generator" if arch in GENERATOR_ONLY else "discriminator"
    assert built[role], f"{arch} supports none of {SHAPES}"
    assert arch not in GENERATOR_ONLY or not built["discriminator"]


def test_a_custom_network_cannot_be_rebuilt_and_the_error_says_how_to_go_on():
    for build_net in (lambda spec: spec.generator(6, (1, 8, 8)), lambda spec: spec.discriminator((1, 8, 8))):
        with pytest.raises(ConfigError, match=r"handed to genlab\.fit from Python.*pass it again"):
            build_net(NETS.get("custom")())


@pytest.mark.parametrize("arch", NETS.names())
@pytest.mark.parametrize("shape", [(2, 3), (), (0,), (1, 0, 8, 8)])
def test_shapes_that_are_neither_images_nor_vectors_are_config_errors_naming_the_architecture(arch, shape):
    with pytest.raises(ConfigError, match=f"the {arch} architecture needs .*got"):
        small(arch).discriminator(shape)


@pytest.mark.parametrize("arch", ["dcgan", "resnet"])
@pytest.mark.parametrize("shape", [(2,), (1, 28, 28), (1, 4, 4), (1, 512, 512), (1, 16, 32)])
def test_convolutional_architectures_say_which_shapes_they_support(arch, shape):
    for make in (lambda: small(arch).generator(4, shape), lambda: small(arch).discriminator(shape)):
        with pytest.raises(ConfigError, match=rf"the {arch} architecture needs (image data|square images)"):
            make()


def largest_singular_value(layer: nn.Module) -> float:
    """Exact spectral norm of the weight as used in forward, viewed as (out, -1) like spectral normalisation does."""
    weight = layer.weight  # the parametrised weight when the layer is wrapped
    if isinstance(layer, nn.ConvTranspose2d):  # stored as (in, out, kH, kW)
        weight = weight.transpose(0, 1)
    return torch.linalg.matrix_norm(weight.reshape(weight.shape[0], -1), ord=2).item()


def singular_values_after_training_passes(
    net: nn.Module, role: str, shape: tuple[int, ...], passes: int
) -> list[float]:
    net.train()
    with torch.no_grad():
        for _ in range(passes):  # each training-mode pass runs one more power iteration
            run(net, role, shape, batch=2)
    net.eval()  # reading the weights in eval mode gives exactly those of the last pass
    with torch.no_grad():
        return [largest_singular_value(m) for m in net.modules() if isinstance(m, LAYERS)]


SPECTRAL_NORM_EXCEPTIONS = {"progressive", "style"}
"""Architectures that refuse spectral_norm (their equalised learning rate rescales weights)."""
CASES = [
    (arch, role, shape)
    for arch in NETS.names()
    if arch not in SPECTRAL_NORM_EXCEPTIONS
    for role in ("generator", "discriminator")
    for shape in [(2,), (3, 8, 8)]
    if build(arch, role, shape) is not None
]


@pytest.mark.parametrize(("arch", "role", "shape"), CASES)
def test_spectral_norm_gives_every_conv_and_linear_weight_unit_spectral_norm(arch, role, shape):
    torch.manual_seed(0)
    net = build(arch, role, shape, spectral_norm=True)
    layers = [m for m in net.modules() if isinstance(m, LAYERS)]
    assert layers and all(parametrize.is_parametrized(m, "weight") for m in layers)
    sigmas = singular_values_after_training_passes(net, role, shape, passes=PASSES)
    assert sigmas == pytest.approx([1.0] * len(sigmas), abs=0.05)

    plain = build(arch, role, shape)
    assert not any(parametrize.is_parametrized(m) for m in plain.modules())
    plain_sigmas = singular_values_after_training_passes(plain, role, shape, passes=0)
    assert any(abs(s - 1) > 0.05 for s in plain_sigmas)


def test_spectral_norm_is_off_by_default_and_part_of_every_architecture():
    for arch in NETS.names():
        assert NETS.get(arch).model_fields["spectral_norm"].default is False
