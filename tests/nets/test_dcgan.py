import pytest
import torch

from genlab.errors import ConfigError
from genlab.nets.dcgan import DCGAN


@pytest.mark.parametrize("size", [8, 16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_for_every_supported_size(size, channels):
    spec = DCGAN(width=8)
    G, D = spec.generator(10, (channels, size, size)), spec.discriminator((channels, size, size))
    images = G(torch.randn(5, 10))
    assert images.shape == (5, channels, size, size)
    assert images.abs().max() <= 1  # tanh output
    assert D(images).shape == (5,)


def test_64px_width_64_matches_the_reference_dcgan_layout():
    G = DCGAN(width=64).generator(100, (3, 64, 64))
    convs = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(100, 512), (512, 256), (256, 128), (128, 64), (64, 3)]
    D = DCGAN(width=64).discriminator((3, 64, 64))
    convs = [m for m in D.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(3, 64), (64, 128), (128, 256), (256, 512), (512, 1)]
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in D.modules()) == 3  # none on D's input layer


def test_weights_follow_the_dcgan_initialisation():
    torch.manual_seed(0)
    G = DCGAN(width=64).generator(100, (1, 32, 32))
    conv_weights = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)])
    assert conv_weights.mean().abs() < 1e-3 and abs(conv_weights.std().item() - 0.02) < 1e-3
    bn_scales = torch.cat([m.weight for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d)])
    assert abs(bn_scales.mean().item() - 1) < 0.01 and abs(bn_scales.std().item() - 0.02) < 0.005


@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 4, 4), (1, 512, 512), (1, 16, 32)])
def test_unsupported_image_sizes_are_config_errors(shape):
    with pytest.raises(ConfigError, match="dcgan"):
        DCGAN().generator(10, shape)


def count(net: torch.nn.Module, kind: type) -> int:
    return sum(isinstance(m, kind) for m in net.modules())


OPTIONS = [
    {},
    {"upsample": "pixelshuffle"},
    {"upsample": "nearest"},
    {"g_activation": "leakyrelu"},
    {"downsample": "avgpool"},
    {"upsample": "nearest", "g_activation": "leakyrelu", "downsample": "avgpool"},
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(o.values()) or "default")
@pytest.mark.parametrize("size", [8, 16, 32])
def test_every_option_keeps_the_shapes(options, size):
    spec = DCGAN(width=8, **options)
    G, D = spec.generator(10, (3, size, size)), spec.discriminator((3, size, size))
    images = G(torch.randn(4, 10))
    assert images.shape == (4, 3, size, size) and images.abs().max() <= 1
    assert D(images).shape == (4,)


@pytest.mark.parametrize("size", [8, 32])
def test_upsample_options_replace_the_transposed_convolutions(size):
    doublings = size.bit_length() - 3  # 4x4 -> size
    shuffled = DCGAN(width=8, upsample="pixelshuffle").generator(10, (3, size, size))
    assert count(shuffled, torch.nn.PixelShuffle) == doublings
    assert count(shuffled, torch.nn.ConvTranspose2d) == 1  # only the 1x1 -> 4x4 projection
    convs = [m for m in shuffled.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs[-1].out_channels == 4 * 3 and convs[-1].kernel_size == (3, 3)

    nearest = DCGAN(width=8, upsample="nearest").generator(10, (3, size, size))
    assert count(nearest, torch.nn.Upsample) == doublings and count(nearest, torch.nn.PixelShuffle) == 0
    assert count(nearest, torch.nn.ConvTranspose2d) == 1 and count(nearest, torch.nn.Conv2d) == doublings


def test_leakyrelu_generator_and_avgpool_discriminator():
    G = DCGAN(width=8, g_activation="leakyrelu").generator(10, (1, 16, 16))
    leaky = [m for m in G.modules() if isinstance(m, torch.nn.LeakyReLU)]
    assert len(leaky) == 2 and all(m.negative_slope == 0.2 for m in leaky) and count(G, torch.nn.ReLU) == 0

    D = DCGAN(width=8, downsample="avgpool").discriminator((1, 16, 16))
    assert count(D, torch.nn.AvgPool2d) == 2
    convs = [m for m in D.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.kernel_size, c.stride) for c in convs] == [((3, 3), (1, 1))] * 2 + [((4, 4), (1, 1))]
    assert count(DCGAN(width=8).discriminator((1, 16, 16)), torch.nn.AvgPool2d) == 0


def test_defaults_are_the_reference_layout():
    spec = DCGAN()
    assert (spec.upsample, spec.g_activation, spec.downsample, spec.spectral_norm) == (
        "transposed",
        "relu",
        "strided",
        False,
    )


def test_vector_data_is_a_config_error_that_points_to_mlp():
    with pytest.raises(ConfigError, match=r"dcgan architecture needs image data.*mlp"):
        DCGAN().discriminator((2,))


@pytest.mark.parametrize(("norm", "per_sample"), [("batch", False), ("layer", True), ("none", True)])
def test_discriminator_norm_decides_whether_a_score_depends_on_the_rest_of_the_batch(norm, per_sample):
    torch.manual_seed(0)
    D = DCGAN(width=8, d_norm=norm).discriminator((1, 16, 16))
    x, others_a, others_b = torch.randn(1, 1, 16, 16), torch.randn(7, 1, 16, 16), 5 + torch.randn(7, 1, 16, 16)
    score_a, score_b = D(torch.cat([x, others_a]))[0], D(torch.cat([x, others_b]))[0]
    assert torch.allclose(score_a, score_b, atol=1e-6) == per_sample
    convs = [m for m in D.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(c.bias is not None for c in convs) == (norm == "none")  # a bias only where no norm follows


@pytest.mark.parametrize(("norm", "per_sample"), [("batch", False), ("none", True)])
def test_generator_norm_decides_whether_an_image_depends_on_the_rest_of_the_batch(norm, per_sample):
    torch.manual_seed(0)
    G = DCGAN(width=8, g_norm=norm).generator(6, (1, 16, 16))
    z, others_a, others_b = torch.randn(1, 6), torch.randn(7, 6), 3 + torch.randn(7, 6)
    image_a, image_b = G(torch.cat([z, others_a]))[0], G(torch.cat([z, others_b]))[0]  # training mode
    assert torch.allclose(image_a, image_b, atol=1e-6) == per_sample
    assert count(G, torch.nn.BatchNorm2d) == (2 if norm == "batch" else 0)  # after the 4x4 projection, the 8x8 up
    hidden = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)][:-1]
    assert all(c.bias is not None for c in hidden) == (norm == "none")


def test_dcgan_mnist64_has_the_parameters_of_the_pytorch_examples_dcgan():
    """The reference's Generator/Discriminator (nn.Sequential ``main``), written out by hand: same keys and shapes,
    so a reference checkpoint loads with ``main.`` renamed to ``net.`` (benchmarks/throughput.py does that)."""
    from genlab.config import load_config

    cfg = load_config("dcgan-mnist64")
    recipe = cfg.model.build((1, 64, 64), None, torch.device("cpu"))
    g_convs = {0: (100, 512), 3: (512, 256), 6: (256, 128), 9: (128, 64), 12: (64, 1)}
    d_convs = {0: (64, 1), 2: (128, 64), 5: (256, 128), 8: (512, 256), 11: (1, 512)}
    g_bns, d_bns = {1: 512, 4: 256, 7: 128, 10: 64}, {3: 128, 6: 256, 9: 512}

    def expected(convs: dict, bns: dict) -> dict[str, tuple[int, ...]]:
        shapes = {f"net.{i}.weight": (*io, 4, 4) for i, io in convs.items()}
        for i, c in bns.items():
            shapes |= {f"net.{i}.{k}": (c,) for k in ("weight", "bias", "running_mean", "running_var")}
            shapes[f"net.{i}.num_batches_tracked"] = ()
        return shapes

    for net, convs, bns in ((recipe.generator, g_convs, g_bns), (recipe.discriminator, d_convs, d_bns)):
        assert {k: tuple(v.shape) for k, v in net.state_dict().items()} == expected(convs, bns)
