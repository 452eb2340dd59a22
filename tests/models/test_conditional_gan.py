"""The conditional GAN: labels reach both networks as configured, and training makes G draw the requested class."""

import pytest
import torch
from torch import nn

import genlab
from genlab.build import build_trainer
from genlab.config import load_config
from genlab.data import DataConfig, Sampler, load_dataset
from genlab.data.toy import MIXTURES
from genlab.errors import ConfigError, GenlabError
from genlab.metrics import discriminator_features
from genlab.models.gan import GANConfig
from genlab.nets.conditional import ChannelsDiscriminator, ConditionalGenerator, ProjectionDiscriminator
from genlab.train import RunDir, read_metrics

QUICK = ["device=cpu", "train.progress=false", "train.loggers=[jsonl]", "train.sample_every=0"]


def test_generator_input_is_z_followed_by_the_one_hot_label():
    g = ConditionalGenerator(nn.Identity(), num_classes=4)
    out = g(torch.zeros(2, 3), torch.tensor([1, 3]))
    assert torch.equal(out, torch.tensor([[0, 0, 0, 0, 1, 0, 0.0], [0, 0, 0, 0, 0, 0, 1.0]]))


def test_label_channels_are_constant_maps_with_ones_in_the_labels_channel():
    seen = []
    d = ChannelsDiscriminator(nn.Identity(), num_classes=3)
    d.net.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    images = torch.randn(2, 1, 4, 4)
    d(images, torch.tensor([2, 0]))
    x = seen[0]
    assert x.shape == (2, 4, 4, 4) and torch.equal(x[:, :1], images)
    assert torch.equal(x[0, 1:], torch.zeros(3, 4, 4).index_fill_(0, torch.tensor([2]), 1.0))
    assert torch.equal(x[1, 1:], torch.zeros(3, 4, 4).index_fill_(0, torch.tensor([0]), 1.0))


def test_projection_adds_the_inner_product_of_the_class_embedding_with_the_last_layers_input():
    torch.manual_seed(0)
    cfg = GANConfig.model_validate(
        {"condition": "projection", "generator": {"arch": "mlp"}, "discriminator": {"arch": "mlp", "width": 8}}
    )
    d = cfg.build((5,), 3, torch.device("cpu")).discriminator
    assert isinstance(d, ProjectionDiscriminator)
    x, labels = torch.randn(6, 5), torch.tensor([0, 1, 2, 0, 1, 2])
    d.eval()
    assert torch.allclose(d(x, labels), d.net(x))  # the embedding starts at zero: the unconditional score
    with torch.no_grad():
        d.embed.weight.normal_()
    features = discriminator_features(d.net, x)
    by_hand = d.net(x) + (d.embed.weight[labels] * features).sum(1)
    assert torch.allclose(d(x, labels), by_hand, atol=1e-6)


@pytest.mark.parametrize("condition", ["channels", "projection"])
def test_conditional_recipes_train_and_sample_requested_classes(condition):
    data = load_dataset(DataConfig(name="digits", size=8, limit=64))
    cfg = GANConfig.model_validate(
        {"z_dim": 4, "generator": {"width": 8}, "discriminator": {"width": 8}, "condition": condition}
    )
    recipe = cfg.build(data.shape, 10, torch.device("cpu"))
    metrics = recipe.train_step(Sampler(data, 16, 0, "cpu"), 0)
    assert torch.isfinite(torch.stack(list(metrics.values()))).all()
    z = recipe.latents(3, generator=torch.Generator().manual_seed(0))
    a, b = recipe.decode(z, torch.tensor([1, 1, 1])), recipe.decode(z, torch.tensor([2, 2, 2]))
    assert not torch.allclose(a, b)  # the label changes the image
    assert recipe.sample(4, labels=torch.tensor([3, 3, 3, 3])).shape == (4, 1, 8, 8)
    with pytest.raises(GenlabError, match=r"class labels in 0\.\.9"):
        recipe.sample(2, labels=torch.tensor([3, 10]))


def test_conditioning_is_refused_where_it_cannot_work():
    with pytest.raises(ConfigError, match=r"model\.tricks\.pack > 1"):
        load_config("dcgan-digits", ["model.condition=channels", "model.tricks.pack=2"])
    with pytest.raises(ConfigError, match="needs class labels"):
        GANConfig(condition="channels").build((1, 8, 8), None, torch.device("cpu"))
    unconditional = GANConfig.model_validate({"z_dim": 4, "generator": {"width": 8}, "discriminator": {"width": 8}})
    with pytest.raises(GenlabError, match="unconditional"):
        unconditional.build((1, 8, 8), None, torch.device("cpu")).sample(2, labels=torch.tensor([0, 1]))


def near_requested_mode(recipe, n: int = 800) -> float:
    """Share of samples closer to the mode of their requested label than to any other mode of ring8."""
    labels = torch.arange(n) % 8
    points = recipe.sample(n, generator=torch.Generator().manual_seed(1), labels=labels)
    means = torch.as_tensor(MIXTURES["ring8"].means, dtype=points.dtype)
    return (torch.cdist(points, means).argmin(dim=1) == labels).float().mean().item()


@pytest.mark.parametrize("condition", ["channels", "projection"])
def test_training_makes_the_generator_follow_the_label(tmp_path, condition):
    # ring8's labels are the mode each point was drawn from: a conditional G must put label k at mode k.
    cfg = load_config("nonsaturating-ring8", [*QUICK, f"model.condition={condition}", "train.steps=500"])
    trainer = build_trainer(cfg, RunDir.create(tmp_path / "run", cfg.name))
    untrained = near_requested_mode(trainer.recipe)
    trainer.fit()
    trained = near_requested_mode(trainer.recipe)
    assert untrained < 0.3 and trained > 0.8, (untrained, trained)


def test_conditional_runs_are_evaluated_class_by_class_during_and_after_training(tmp_path, tiny_config):
    cfg = tiny_config("model.condition=channels", "eval.every=10", "eval.n=200", "eval.metrics=[fid,classwise]")
    build_trainer(cfg, RunDir.create(tmp_path / "run", cfg.name)).fit()
    logged = [r for r in read_metrics(tmp_path / "run" / "metrics.jsonl") if "eval/class_accuracy" in r]
    assert [r["step"] for r in logged] == [10, 20] and {"eval/fid_class_0", "eval/classwise_fid"} <= logged[0].keys()
    result = genlab.evaluate(tmp_path / "run", ["classwise"], n=200, device="cpu")
    assert 0 <= result.values["class_accuracy"] <= 1 and result.values["classwise_fid"] > 0
    with pytest.raises(ConfigError, match="unconditional GAN runs"):
        genlab.evaluate(tmp_path / "run", ["probe"], n=200, device="cpu")
