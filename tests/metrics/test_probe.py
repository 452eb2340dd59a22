import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from genlab.metrics.probe import discriminator_features, linear_probe, select_per_class
from genlab.nets.dcgan import DCGAN
from genlab.nets.mlp import MLP


def batchnorms(net: torch.nn.Module) -> list[torch.nn.Module]:
    return [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]


def trained_looking(net: torch.nn.Module) -> torch.nn.Module:
    """Give BatchNorm layers non-trivial running statistics, so eval mode differs visibly from train mode."""
    torch.manual_seed(1)
    for bn in batchnorms(net):
        bn.running_mean.normal_(0, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    return net


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_dcgan_features_are_the_last_conv_input_in_eval_mode(spectral_norm):
    torch.manual_seed(0)
    net = trained_looking(DCGAN(width=8, spectral_norm=spectral_norm).discriminator((1, 16, 16)))
    images = torch.rand(10, 1, 16, 16) * 2 - 1
    net.train()
    buffers = {k: v.clone() for k, v in net.state_dict().items()}
    features = discriminator_features(net, images, batch_size=4)
    # 16x16 with width 8: two halvings, 16 channels at 4x4 enter the final 4x4 conv.
    assert features.shape == (10, 16 * 4 * 4) and features.dtype == torch.float32
    assert net.training and all(m.training for m in net.modules())
    # Eval mode throughout: no BatchNorm statistic and no spectral-norm power-iteration vector moved.
    assert all(torch.equal(v, buffers[k]) for k, v in net.state_dict().items())
    net.eval()
    with torch.no_grad():
        expected = net.net[:-1](images).flatten(1)
    torch.testing.assert_close(features, expected)
    # Train-mode features would differ (batch statistics), so the comparison above does check the mode.
    with torch.no_grad():
        assert not torch.allclose(net.train().net[:-1](images).flatten(1), expected, atol=1e-3)


def test_mixed_train_eval_flags_are_restored_exactly():
    net = DCGAN(width=8).discriminator((3, 16, 16))
    net.eval()
    batchnorms(net)[0].train()
    before = [m.training for m in net.modules()]
    discriminator_features(net, torch.zeros(3, 3, 16, 16))
    assert [m.training for m in net.modules()] == before


def test_flags_are_restored_when_the_forward_pass_fails():
    net = DCGAN(width=8).discriminator((1, 16, 16)).train()
    with pytest.raises(RuntimeError):
        discriminator_features(net, torch.zeros(2, 3, 16, 16))  # wrong channel count
    assert all(m.training for m in net.modules())
    assert not net.net[-1]._forward_pre_hooks  # the hook is removed too


def test_mlp_features_are_the_last_hidden_layer():
    torch.manual_seed(0)
    net = MLP(width=12, depth=2).discriminator((1, 8, 8))
    images = np.random.default_rng(0).uniform(-1, 1, (7, 1, 8, 8))  # numpy float64 is accepted
    features = discriminator_features(net, images)
    body = net[1]
    with torch.no_grad():
        expected = body[:-1](torch.as_tensor(images, dtype=torch.float32).flatten(1))
    assert features.shape == (7, 12)
    torch.testing.assert_close(features, expected)


def test_features_do_not_depend_on_the_batch_size():
    net = trained_looking(DCGAN(width=8).discriminator((1, 16, 16)))
    images = torch.rand(9, 1, 16, 16) * 2 - 1
    torch.testing.assert_close(discriminator_features(net, images, 2), discriminator_features(net, images, 100))


def test_networks_without_conv_or_linear_layers_are_refused():
    with pytest.raises(ValueError, match=r"no nn\.Conv2d or nn\.Linear"):
        discriminator_features(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.BatchNorm1d(4)), torch.zeros(2, 4))


def blobs(n: int, num_classes: int, dim: int, rng: np.random.Generator, spread: float) -> tuple:
    """Gaussian blobs: class k centred at a fixed random mean of norm ~ ``spread * sqrt(dim)``, unit noise."""
    means = np.random.default_rng(123).normal(0, spread, (num_classes, dim))
    labels = rng.integers(0, num_classes, n)
    return means[labels] + rng.normal(0, 1, (n, dim)), labels


def test_probe_on_separable_features_is_nearly_perfect():
    rng = np.random.default_rng(0)
    train_x, train_y = blobs(500, 5, 20, rng, spread=3.0)
    test_x, test_y = blobs(1000, 5, 20, rng, spread=3.0)
    # Class means ~ 3 * sqrt(2 * 20) = 19 apart against unit noise: a linear rule makes essentially no error.
    assert linear_probe(train_x, train_y, test_x, test_y, per_class=10) >= 0.99


def test_probe_on_random_labels_is_at_chance():
    rng = np.random.default_rng(1)
    train_x, test_x = rng.normal(size=(400, 10)), rng.normal(size=(4000, 10))
    train_y, test_y = rng.integers(0, 4, 400), rng.integers(0, 4, 4000)
    # Test labels independent of everything: the number correct is Binomial(4000, 1/4) whatever the model predicts,
    # std sqrt(0.25 * 0.75 / 4000) = 0.007, so +-0.035 is 5 standard deviations.
    assert linear_probe(train_x, train_y, test_x, test_y, per_class=20) == pytest.approx(0.25, abs=0.035)


def test_probe_equals_a_direct_scikit_learn_fit_on_the_selected_examples():
    rng = np.random.default_rng(2)
    train_x, train_y = blobs(300, 3, 6, rng, spread=0.7)
    test_x, test_y = blobs(300, 3, 6, rng, spread=0.7)
    chosen = select_per_class(train_y, 8, seed=5)
    x = train_x[chosen]
    mean, std = x.mean(axis=0), x.std(axis=0)
    model = LogisticRegression(max_iter=10_000).fit((x - mean) / std, train_y[chosen])
    expected = (model.predict((test_x - mean) / std) == test_y).mean()
    got = linear_probe(torch.as_tensor(train_x), torch.as_tensor(train_y), test_x, test_y, per_class=8, seed=5)
    assert got == pytest.approx(expected, abs=1e-12)
    assert 0.4 < got < 0.98  # overlapping blobs: a case where the exact selection matters


def test_per_class_selection_is_exact_seeded_and_random():
    labels = np.random.default_rng(3).integers(0, 7, 1000)
    chosen = select_per_class(labels, 12, seed=0)
    assert len(chosen) == 7 * 12 and len(np.unique(chosen)) == 7 * 12
    assert np.bincount(labels[chosen], minlength=7).tolist() == [12] * 7
    assert np.array_equal(chosen, select_per_class(labels, 12, seed=0))
    other = select_per_class(labels, 12, seed=1)
    assert np.bincount(labels[other]).tolist() == [12] * 7 and not np.array_equal(chosen, other)
    # Not simply the first examples of each class.
    first = np.concatenate([np.flatnonzero(labels == c)[:12] for c in range(7)])
    assert not np.array_equal(np.sort(chosen), np.sort(first))
    # All examples of a class when per_class equals its size.
    smallest = np.bincount(labels).min()
    assert np.bincount(labels[select_per_class(labels, smallest)]).tolist() == [smallest] * 7


def test_too_few_examples_of_a_class_is_a_clear_error():
    labels = np.array([0] * 10 + [1] * 3 + [2] * 10)
    with pytest.raises(ValueError, match=r"per_class=5 .*class 1: 3.*lower per_class"):
        linear_probe(np.zeros((23, 2)), labels, np.zeros((4, 2)), np.zeros(4), per_class=5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.zeros((10, 2)), np.zeros(10), np.zeros((4, 3)), np.zeros(4)), "same D"),
        ((np.zeros((10, 2)), np.zeros(9), np.zeros((4, 2)), np.zeros(4)), r"train_labels must have shape \(10,\)"),
        ((np.zeros((10, 2)), np.full(10, 0.5), np.zeros((4, 2)), np.zeros(4)), "integer class labels"),
        ((np.zeros((10, 2)), np.zeros(10), np.zeros((4, 2)), np.zeros(4)), "single class"),
    ],
)
def test_bad_probe_inputs_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        linear_probe(*args, per_class=2)
