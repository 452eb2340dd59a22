import pytest
import torch
import torch.nn.functional as F
from torch import nn

from genlab.nets.resnet import ResNet, down_block, up_block


@pytest.mark.parametrize("size", [8, 16, 32])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_for_every_size(size, channels):
    spec = ResNet(width=8)
    G, D = spec.generator(10, (channels, size, size)), spec.discriminator((channels, size, size))
    images = G(torch.randn(4, 10))
    assert images.shape == (4, channels, size, size) and images.abs().max() <= 1
    assert D(images).shape == (4,)


@pytest.mark.parametrize("activation", ["relu", "leakyrelu"])
def test_gradient_reaches_every_parameter(activation):
    torch.manual_seed(0)
    spec = ResNet(width=8, activation=activation)
    G, D = spec.generator(10, (3, 16, 16)), spec.discriminator((3, 16, 16))
    scores = D(G(torch.randn(4, 10)))
    (scores * torch.randn(4)).sum().backward()
    for name, p in [*G.named_parameters(), *D.named_parameters()]:
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_block_counts_and_widths():
    G = ResNet(width=16).generator(10, (3, 32, 32))
    D = ResNet(width=16).discriminator((3, 32, 32))
    assert len(G.blocks) == len(D.blocks) == 3  # 4 -> 8 -> 16 -> 32 and back
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())  # gradient penalties are per sample
    assert not isinstance(D.blocks[0].residual[0], (nn.ReLU, nn.LeakyReLU))  # the image is not rectified
    assert isinstance(D.blocks[1].residual[0], nn.ReLU)
    assert ResNet().width == 64 and ResNet().activation == "relu"


def zero_last_residual_conv(block: nn.Module) -> None:
    with torch.no_grad():
        last = [m for m in block.residual if isinstance(m, nn.Conv2d)][-1]
        last.weight.zero_()
        last.bias.zero_()


def test_up_block_without_its_residual_is_an_upsampled_1x1_conv():
    torch.manual_seed(0)
    block, x = up_block(4, 6, "relu"), torch.randn(2, 4, 5, 5)
    zero_last_residual_conv(block)
    conv = block.shortcut[0]
    expected = F.interpolate(F.conv2d(x, conv.weight, conv.bias), scale_factor=2, mode="nearest")
    with torch.no_grad():
        out = block(x)
    assert out.shape == (2, 6, 10, 10)
    assert torch.allclose(out, expected, atol=1e-6) and torch.allclose(out, block.shortcut(x))


@pytest.mark.parametrize("preactivate", [True, False])
def test_down_block_without_its_residual_is_an_average_pooled_1x1_conv(preactivate):
    torch.manual_seed(0)
    block, x = down_block(4, 6, "relu", preactivate=preactivate), torch.randn(2, 4, 8, 8)
    zero_last_residual_conv(block)
    conv = block.shortcut[0]
    with torch.no_grad():
        out = block(x)
        assert out.shape == (2, 6, 4, 4)
        assert torch.allclose(out, F.avg_pool2d(F.conv2d(x, conv.weight, conv.bias), 2), atol=1e-6)


def test_residual_branch_is_not_dead_at_initialisation():
    torch.manual_seed(0)
    block, x = down_block(16, 16, "relu"), torch.randn(8, 16, 8, 8)
    with torch.no_grad():
        ratio = block.residual(x).std() / block.shortcut(x).std()
    assert 0.3 < ratio < 3  # Xavier init with ReLU gain keeps both paths at a similar scale
