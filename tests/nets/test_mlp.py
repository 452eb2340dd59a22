import pytest
import torch
from torch import nn

from genlab.nets.mlp import MLP


@pytest.mark.parametrize("shape", [(2,), (6,), (1, 8, 8), (3, 5, 7)])
def test_shapes_for_vectors_and_images_of_any_size(shape):
    spec = MLP(width=16, depth=2)
    G, D = spec.generator(4, shape), spec.discriminator(shape)
    samples = G(torch.randn(5, 4))
    assert samples.shape == (5, *shape)
    assert D(samples).shape == (5,)


def test_vector_outputs_are_linear_and_image_outputs_tanh():
    G = MLP(width=16).generator(4, (2,))
    assert not any(isinstance(m, nn.Tanh) for m in G.modules())
    last = [m for m in G.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last.bias.fill_(4.0)
        last.weight.zero_()
    assert torch.allclose(G(torch.randn(3, 4)), torch.full((3, 2), 4.0))  # toy data sit at coordinates like +-4

    images = MLP(width=16).generator(4, (1, 8, 8))(torch.randn(3, 4) * 100)
    assert images.abs().max() <= 1


def test_width_depth_and_defaults():
    assert (MLP().width, MLP().depth, MLP().activation, MLP().norm, MLP().spectral_norm) == (
        256,
        3,
        "relu",
        "none",
        False,
    )
    D = MLP(width=32, depth=4).discriminator((2,))
    linears = [m for m in D.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(2, 32), (32, 32), (32, 32), (32, 32), (32, 1)]
    assert sum(isinstance(m, nn.ReLU) for m in D.modules()) == 4

    linear = MLP(depth=0).discriminator((2,))
    assert [(m.in_features, m.out_features) for m in linear.modules() if isinstance(m, nn.Linear)] == [(2, 1)]


def test_leakyrelu_and_batchnorm_options():
    spec = MLP(width=16, depth=3, activation="leakyrelu", norm="batch")
    G, D = spec.generator(4, (2,)), spec.discriminator((2,))
    assert all(m.negative_slope == 0.2 for m in G.modules() if isinstance(m, nn.LeakyReLU))
    assert not any(isinstance(m, nn.ReLU) for m in G.modules())
    assert sum(isinstance(m, nn.BatchNorm1d) for m in G.modules()) == 3
    assert sum(isinstance(m, nn.BatchNorm1d) for m in D.modules()) == 2  # none on D's first layer
    assert D(G(torch.randn(8, 4))).shape == (8,)
