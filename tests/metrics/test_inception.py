"""FID Inception-v3 with random weights: shapes, preprocessing, the weights-file layout, loading and its errors.

The real weights file is not shipped; its layout (names, shapes, counts) is pinned to what torchvision's and
pytorch-fid's architecture descriptions give. Inception at 299 px is slow on CPU, so forward passes use batch 2 and
one shared network.
"""

from __future__ import annotations

import hashlib

import pytest
import torch
import torch.nn.functional as F

from genlab.errors import ConfigError
from genlab.metrics.inception import WEIGHTS_URL, FIDInceptionV3, load_inception


def _randomise(net: FIDInceptionV3, seed: int) -> FIDInceptionV3:
    """Non-trivial BatchNorm statistics and fc bias, so a load that skipped them would show."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if name.endswith(("running_var", "bn.weight")):
                tensor.copy_(torch.rand(tensor.shape, generator=g) + 0.5)
            elif name.endswith(("running_mean", "bn.bias", "fc.bias")):
                tensor.copy_(torch.randn(tensor.shape, generator=g) * 0.1)
    return net.eval()


@pytest.fixture(scope="module")
def net() -> FIDInceptionV3:
    torch.manual_seed(0)
    return _randomise(FIDInceptionV3(), seed=1)


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return torch.rand(2, 3, 28, 28, generator=torch.Generator().manual_seed(2)) * 2 - 1


@pytest.fixture(scope="module")
def outputs(net, images) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        return net(images)


@pytest.fixture(scope="module")
def weights_file(net, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("inception") / "weights.pth"
    torch.save(net.state_dict(), path)
    return str(path)


# --- outputs -------------------------------------------------------------------------------------------------------


def test_output_shapes_and_features_are_not_degenerate(outputs):
    pool, logits = outputs
    assert pool.shape == (2, 2048) and logits.shape == (2, 1008)
    assert (pool >= 0).all()  # average of ReLU outputs
    assert (pool[0] - pool[1]).abs().max() > 1e-3  # different images, different features (random weights are live)


def test_features_are_deterministic_and_keep_no_graph_under_no_grad(net, images, outputs):
    with torch.no_grad():
        again = net.features(images.numpy())  # numpy input works too
    assert again.grad_fn is None and not again.requires_grad
    assert torch.equal(again, outputs[0])


def test_logits_are_the_bias_free_product_and_probabilities_their_softmax(net, images, outputs):
    pool, logits = outputs
    assert net.fc.bias.abs().max() > 0.01  # the fixture's bias is not zero, so using it would show
    torch.testing.assert_close(logits, pool @ net.fc.weight.T, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(logits, net.fc(pool), atol=1e-3)
    with torch.no_grad():
        probs = net.probabilities(images)
    assert probs.shape == (2, 1008)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(2))
    torch.testing.assert_close(probs, torch.softmax(logits.double(), dim=1).float(), rtol=1e-5, atol=1e-7)


def test_grey_images_equal_the_same_image_repeated_to_rgb(net, images):
    grey = images[:, :1]
    with torch.no_grad():
        got = net(grey)
        want = net(grey.repeat(1, 3, 1, 1))
    assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])


def test_images_are_resized_bilinearly_to_299(net, images, outputs):
    bilinear = F.interpolate(images, size=(299, 299), mode="bilinear", align_corners=False)
    nearest = F.interpolate(images, size=(299, 299), mode="nearest")
    with torch.no_grad():
        pool = net.features(torch.cat([bilinear, nearest]))
    torch.testing.assert_close(pool[:2], outputs[0], rtol=1e-5, atol=1e-6)
    assert (pool[2:] - outputs[0]).abs().max() > 1e-3  # another resize gives other features: the test can tell


def test_bad_input_raises_value_error(net):
    with pytest.raises(ValueError, match=r"\(N, 1 or 3, H, W\)"):
        net(torch.zeros(2, 4, 8, 8))
    with pytest.raises(ValueError, match=r"\(N, 1 or 3, H, W\)"):
        net(torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match="floats in"):
        net(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))


# --- the FID variants of the blocks ---------------------------------------------------------------------------------


def _pool_branch(block, x, pooled) -> torch.Tensor:
    """The block's output channels that come from the pool branch (the last ones) and what they should be."""
    with torch.no_grad():
        out = block(x)[:, -block.branch_pool.conv.out_channels :]
        return out, block.branch_pool(pooled)


@pytest.mark.parametrize("name", ["Mixed_5b", "Mixed_6b", "Mixed_7b"])
def test_a_c_and_first_e_blocks_average_pool_without_counting_the_padding(net, name):
    block = getattr(net, name)
    x = torch.rand(1, block.branch1x1.conv.in_channels, 5, 5, generator=torch.Generator().manual_seed(3))
    out, tf_style = _pool_branch(block, x, F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False))
    torch.testing.assert_close(out, tf_style)
    _, torch_style = _pool_branch(block, x, F.avg_pool2d(x, 3, stride=1, padding=1))
    assert (out - torch_style).abs().max() > 1e-4


def test_last_block_max_pools_its_pool_branch(net):
    block = net.Mixed_7c
    x = torch.rand(1, 2048, 4, 4, generator=torch.Generator().manual_seed(4))
    out, max_pooled = _pool_branch(block, x, F.max_pool2d(x, 3, stride=1, padding=1))
    torch.testing.assert_close(out, max_pooled)
    _, averaged = _pool_branch(block, x, F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False))
    assert (out - averaged).abs().max() > 1e-4


# --- the weights-file layout ----------------------------------------------------------------------------------------

LAYOUT_SHA256 = "894039055def6e7008145f509b16937bea475f94ebdfdb5f16fef9682517ac06"
KNOWN_SHAPES = {  # from torchvision's Inception3 with num_classes=1008, as pytorch-fid builds it
    "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
    "Conv2d_1a_3x3.bn.running_var": (32,),
    "Conv2d_2b_3x3.conv.weight": (64, 32, 3, 3),
    "Conv2d_3b_1x1.conv.weight": (80, 64, 1, 1),
    "Conv2d_4a_3x3.conv.weight": (192, 80, 3, 3),
    "Mixed_5b.branch5x5_2.conv.weight": (64, 48, 5, 5),
    "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
    "Mixed_5d.branch3x3dbl_3.bn.bias": (96,),
    "Mixed_6a.branch3x3.conv.weight": (384, 288, 3, 3),
    "Mixed_6b.branch7x7_2.conv.weight": (128, 128, 1, 7),
    "Mixed_6c.branch7x7dbl_2.conv.weight": (160, 160, 7, 1),
    "Mixed_6d.branch7x7dbl_3.conv.weight": (160, 160, 1, 7),
    "Mixed_6e.branch7x7dbl_4.conv.weight": (192, 192, 7, 1),
    "Mixed_7a.branch3x3_2.conv.weight": (320, 192, 3, 3),
    "Mixed_7a.branch7x7x3_4.conv.weight": (192, 192, 3, 3),
    "Mixed_7a.branch7x7x3_2.conv.weight": (192, 192, 1, 7),
    "Mixed_7b.branch3x3dbl_1.conv.weight": (448, 1280, 1, 1),
    "Mixed_7b.branch3x3_2a.conv.weight": (384, 384, 1, 3),
    "Mixed_7c.branch3x3_2b.conv.weight": (384, 384, 3, 1),
    "Mixed_7c.branch_pool.bn.running_mean": (192,),
    "fc.weight": (1008, 2048),
    "fc.bias": (1008,),
}


def test_state_dict_has_the_pytorch_fid_layout(net):
    state = net.state_dict()
    for name, shape in KNOWN_SHAPES.items():
        assert tuple(state[name].shape) == shape, name
    # 94 conv+bn blocks (5 stem, 3x7 A, 4 B, 4x10 C, 6 D, 2x9 E), each conv weight + 5 BatchNorm tensors, plus fc.
    assert len(state) == 94 * 6 + 2 == 566
    assert sum(name.endswith(".conv.weight") for name in state) == 94
    assert not any(name.startswith("AuxLogits") for name in state)
    # torchvision publishes 27,161,264 parameters for its Inception-v3; without the aux head (conv0 98,560 + conv1
    # 2,459,136 + fc 769,000) and with 8 more classes (8 x 2,049) that is 23,850,960.
    assert sum(p.numel() for p in net.parameters()) == 27_161_264 - 3_326_696 + 8 * 2049 == 23_850_960
    assert {m.eps for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)} == {0.001}


def test_every_name_and_shape_matches_pytorch_fid(net):
    """SHA-256 of the sorted "name:shape;" list of pytorch-fid 0.3.0's ``fid_inception_v3()`` network (torchvision
    0.28's Inception3(num_classes=1008, aux_logits=False) with the FIDInceptionA/C/E_1/E_2 blocks swapped in), computed
    once from that reference; any renamed, missing or reshaped tensor changes it."""
    text = "".join(f"{name}:{tuple(t.shape)};" for name, t in sorted(net.state_dict().items()))
    assert hashlib.sha256(text.encode()).hexdigest() == LAYOUT_SHA256


def test_round_trip_through_a_file_gives_identical_features(net, weights_file, images, outputs):
    loaded = load_inception(weights_file)
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    for name, tensor in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    with torch.no_grad():
        assert torch.equal(loaded.features(images), outputs[0])


def test_a_file_without_batchnorm_counters_loads(net, tmp_path):
    """Files converted straight from the TF graph hold 94 x 5 + 2 = 472 tensors, without num_batches_tracked."""
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert len(state) == 472
    torch.save(state, tmp_path / "tf.pth")
    loaded = load_inception(tmp_path / "tf.pth")
    assert torch.equal(loaded.Mixed_7c.branch_pool.bn.running_var, net.Mixed_7c.branch_pool.bn.running_var)


def test_the_environment_variable_names_the_file(net, weights_file, monkeypatch):
    monkeypatch.setenv("GENLAB_INCEPTION_WEIGHTS", weights_file)
    loaded = load_inception()
    assert torch.equal(loaded.fc.weight, net.fc.weight)


def test_no_path_and_no_variable_says_where_to_get_the_file(monkeypatch):
    monkeypatch.delenv("GENLAB_INCEPTION_WEIGHTS", raising=False)
    with pytest.raises(ConfigError) as info:
        load_inception()
    message = str(info.value)
    assert WEIGHTS_URL in message and "GENLAB_INCEPTION_WEIGHTS=/path/to/file" in message
    assert "eval.inception_weights" in message


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.pth does not exist.*Download it from https://"):
        load_inception(tmp_path / "nope.pth")


def test_a_corrupt_file_is_reported(weights_file, tmp_path):
    truncated = tmp_path / "truncated.pth"
    with open(weights_file, "rb") as handle:
        truncated.write_bytes(handle.read(100_000))
    with pytest.raises(ConfigError, match=r"cannot be loaded: it is truncated or damaged.*Download it from"):
        load_inception(truncated)
    html = tmp_path / "page.pth"
    html.write_text("<html>Not Found</html>")
    with pytest.raises(ConfigError, match="cannot be loaded: it is not a PyTorch file"):
        load_inception(html)


def test_wrong_keys_and_shapes_are_named(net, tmp_path):
    state = dict(net.state_dict())
    state["AuxLogits.fc.weight"] = torch.zeros(1008, 768)
    del state["Mixed_5b.branch1x1.conv.weight"]
    state["fc.weight"] = torch.zeros(1000, 2048)  # torchvision's 1000-class head
    torch.save(state, tmp_path / "wrong.pth")
    with pytest.raises(ConfigError) as info:
        load_inception(tmp_path / "wrong.pth")
    message = str(info.value)
    assert "missing keys (1): Mixed_5b.branch1x1.conv.weight" in message
    assert "unexpected keys (1): AuxLogits.fc.weight" in message
    assert "fc.weight (1000, 2048) (want (1008, 2048))" in message
    torch.save({"state_dict": net.state_dict()}, tmp_path / "nested.pth")
    with pytest.raises(ConfigError, match="state_dict of tensors"):
        load_inception(tmp_path / "nested.pth")
