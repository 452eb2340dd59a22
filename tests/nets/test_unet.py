"""The pix2pix U-Net: shapes at every depth, the skips carry the input's detail, bad sizes are clear errors."""

import pytest
import torch
import torch.nn.functional as F

from genlab.data import DataConfig, load_dataset
from genlab.errors import ConfigError
from genlab.nets.unet import UNetSpec


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("skips", [True, False])
def test_every_depth_maps_an_image_to_one_of_the_same_size_in_range(depth, skips):
    net = UNetSpec(width=4, depth=depth, skips=skips).build(1, 3, 16)
    out = net(torch.randn(2, 1, 16, 16))
    assert out.shape == (2, 3, 16, 16) and out.abs().max() <= 1
    # Each decoder layer but the innermost takes its encoder level's features beside its own: twice the channels.
    first_up = next(m for m in net.ups[-1] if isinstance(m, torch.nn.ConvTranspose2d))
    assert first_up.in_channels == (8 if skips and depth > 1 else 4)


def test_dropout_is_in_the_innermost_decoder_layers_only():
    net = UNetSpec(width=4, depth=4, dropout=0.5, dropout_layers=2).build(1, 1, 16)
    has_dropout = [any(isinstance(m, torch.nn.Dropout) for m in up) for up in net.ups]
    assert has_dropout == [True, True, False, False]  # innermost first
    net.eval()
    x = torch.randn(2, 1, 16, 16)
    assert torch.equal(net(x), net(x))  # eval: no noise
    net.train()
    assert not torch.equal(net(x), net(x))  # training: dropout is the noise


def _identity_error(spec: UNetSpec, images: torch.Tensor, steps: int = 200) -> tuple[torch.nn.Module, float]:
    torch.manual_seed(0)
    net = spec.build(1, 1, 16)
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    for step in range(steps):
        batch = images[(step * 32) % 512 :][:32]
        loss = F.l1_loss(net(batch), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    net.eval()
    with torch.no_grad():
        return net, F.l1_loss(net(images[512:]), images[512:]).item()


def test_the_skips_carry_the_input_detail_an_identity_map_needs():
    images = load_dataset(DataConfig(name="digits", size=16)).images[:768]
    spec = UNetSpec(width=8, depth=4, dropout=0)
    unet, with_skips = _identity_error(spec, images)
    _, without_skips = _identity_error(spec.model_copy(update={"skips": False}), images)
    assert with_skips < 0.08  # held-out digits reproduced to within 4 % of the [-1, 1] range
    assert without_skips > 2 * with_skips  # through the 1x1 bottleneck alone they are not

    # The outermost skip is wired: zeroing only what it hands the last decoder layer (the second half of that
    # layer's input channels: the first encoder level's features) spoils the output.
    def cut_skip(module, args):
        decoded, skipped = args[0].chunk(2, dim=1)
        return (torch.cat([decoded, torch.zeros_like(skipped)], dim=1),)

    handle = unet.ups[-1].register_forward_pre_hook(cut_skip)
    with torch.no_grad():
        cut = F.l1_loss(unet(images[512:]), images[512:]).item()
    handle.remove()
    assert cut > 2 * with_skips


def test_a_side_the_depth_cannot_halve_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"depth 3 .* multiple of 8, got 12"):
        UNetSpec(depth=3).build(1, 1, 12)
