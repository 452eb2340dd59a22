"""pix2pix: the loss terms by hand, paired training that learns the translation, sample grids, exact resume, the
translate command, and clear errors."""

from __future__ import annotations

import json
import math

import onnxruntime
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

import genlab
from genlab.cli import main
from genlab.config import load_config
from genlab.data import Batch, DataConfig, load_dataset
from genlab.data.folder import save_images
from genlab.data.pairs import split_pair
from genlab.errors import ConfigError, GenlabError
from genlab.export import export_generator
from genlab.generators import CONFIG_NAME, load_export
from genlab.images import make_grid, save_png

from ..train.helpers import assert_same, straight_and_resumed, train

CPU = torch.device("cpu")
PAIRS = {"name": "digits", "size": 16, "pair": "edges"}
PIX2PIX_DIGITS = {
    "name": "pix2pix-digits",
    "device": "cpu",
    "seed": 0,
    "data": PAIRS,
    "model": {
        "recipe": "pix2pix",
        "generator": {"width": 8, "depth": 4},
        "discriminator": {"width": 8, "layers": 2},
    },
    "train": {"steps": 300, "batch_size": 16, "log_every": 50, "sample_every": 300, "progress": False},
}


def config(*overrides: str):
    return load_config(PIX2PIX_DIGITS, list(overrides))


def softplus(v: float) -> float:
    return math.log1p(math.exp(v))


def test_the_losses_by_hand_on_a_two_pixel_case():
    """D sees (x, y) as real and (x, G(x)) as fake; G pays the adversarial loss plus lambda x L1."""
    recipe = config("model.l1_weight=10", "model.adversarial_weight=0.5").model.build((2, 16, 16), None, CPU)
    critic = nn.Conv2d(2, 1, 1)  # D(x, y) = x - 2y per pixel: scores easy to follow by hand
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([1.0, -2.0]).view(1, 2, 1, 1))
        critic.bias.zero_()
    recipe.discriminator = critic
    x = torch.tensor([[[[0.5, -0.5]]]])
    y = torch.tensor([[[[1.0, 0.0]]]])
    fake = torch.tensor([[[[0.0, 0.5]]]])
    pairs = torch.cat([x, y], dim=1)
    # real scores x - 2y = (-1.5, -0.5); fake scores x - 2G(x) = (0.5, -1.5)
    real, fake_scores = (-1.5, -0.5), (0.5, -1.5)
    terms = recipe.generator_terms(pairs, fake)
    assert terms["l1"].item() == pytest.approx((1.0 + 0.5) / 2)
    assert terms["adversarial"].item() == pytest.approx(sum(softplus(-s) for s in fake_scores) / 2)  # -log D(x, G(x))
    total = 0.5 * terms["adversarial"].item() + 10 * terms["l1"].item()
    assert recipe.generator_loss(terms).item() == pytest.approx(total)
    d_loss = 0.5 * (sum(softplus(-s) for s in real) / 2 + sum(softplus(s) for s in fake_scores) / 2)
    assert recipe.critic_loss(pairs, fake, step=0).item() == pytest.approx(d_loss)


def test_one_step_updates_d_then_g_and_logs_the_terms():
    recipe = config("model.generator.dropout=0").model.build((2, 16, 16), None, CPU)
    pairs = load_dataset(DataConfig(**PAIRS)).images[:8]
    d_before = [p.clone() for p in recipe.discriminator.parameters()]
    with torch.no_grad():
        fake = recipe.generator(split_pair(pairs)[0])
    expected_d = recipe.critic_loss(pairs, fake, 0).item()
    logs = recipe.train_step(lambda: Batch(pairs, None), 0)
    assert logs["loss/d"].item() == pytest.approx(expected_d, rel=1e-5)
    assert set(logs) == {"loss/d", "loss/g", "loss/l1", "loss/adversarial"}
    assert logs["loss/g"].item() == pytest.approx((logs["loss/adversarial"] + 100 * logs["loss/l1"]).item(), rel=1e-5)
    assert any(not torch.equal(a, b) for a, b in zip(d_before, recipe.discriminator.parameters(), strict=True))


def test_the_l1_only_baseline_has_no_discriminator():
    recipe = config("model.adversarial_weight=0").model.build((2, 16, 16), None, CPU)
    assert recipe.discriminator is None and set(recipe.networks) == {"generator"}
    pairs = load_dataset(DataConfig(**PAIRS)).images[:8]
    logs = recipe.train_step(lambda: Batch(pairs, None), 0)
    assert set(logs) == {"loss/g", "loss/l1"} and logs["loss/g"].item() == pytest.approx(100 * logs["loss/l1"].item())


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train(config(), tmp_path_factory.mktemp("pix2pix") / "run")


def test_paired_training_learns_to_fill_in_the_outlines(trained):
    pairs = load_dataset(DataConfig(**PAIRS, split="test")).images
    inputs, targets = split_pair(pairs)
    untrained = config().model.build((2, 16, 16), None, CPU)
    before = F.l1_loss(untrained.translate(inputs), targets).item()
    after = F.l1_loss(trained.recipe.translate(inputs), targets).item()
    assert after < 0.4 * before
    # The sample grid shows input | output | target for 16 fixed pairs, 4 groups of 3 per row: 12 x 4 tiles.
    grid = Image.open(trained.run.samples_dir / "translations-00000300.png")
    assert grid.width / grid.height == pytest.approx(3, rel=0.05)


def test_the_translate_command_writes_the_translations(trained, tmp_path, capsys):
    inputs = split_pair(load_dataset(DataConfig(**PAIRS, split="test")).images[:3])[0]
    for i, image in enumerate(inputs):
        save_png(make_grid(image[None], padding=0), tmp_path / "in" / f"o{i}.png")
    main(["translate", str(trained.run.path), "--input", str(tmp_path / "in"), "--out", str(tmp_path / "out")])
    assert "translated 3 image(s) (a2b)" in capsys.readouterr().out
    read = lambda folder: load_dataset(DataConfig(name="folder", path=str(tmp_path / folder), size=16)).images  # noqa: E731
    assert torch.allclose(read("out"), trained.recipe.translate(read("in")), atol=1.01 / 127.5)
    with pytest.raises(GenlabError, match="translates one way"):
        genlab.translate(trained.run.path, tmp_path / "in", tmp_path / "back", direction="b2a")


def test_an_export_translates_as_the_run(trained, tmp_path):
    folder = export_generator(trained.run.path, tmp_path / "export").folder
    config = json.loads((folder / CONFIG_NAME).read_text())
    assert config["kind"] == "paired"
    assert config["parts"] == {"generator": {"inputs": {"images": [1, 16, 16]}, "outputs": {"translated": [1, 16, 16]}}}
    inputs = split_pair(load_dataset(DataConfig(**PAIRS, split="test", limit=4)).images)[0]
    save_images(inputs, tmp_path / "in")
    ours = genlab.translate(folder, tmp_path / "in", tmp_path / "from-export")
    theirs = genlab.translate(trained.run.path, tmp_path / "in", tmp_path / "from-run")
    assert [p.read_bytes() for p in ours] == [p.read_bytes() for p in theirs] and len(ours) == 4
    translated = genlab.load_run(trained.run.path, "cpu").translate(inputs)
    with torch.no_grad():
        assert torch.equal(load_export(folder).parts["generator"](inputs), translated)
    session = onnxruntime.InferenceSession(str(folder / "generator.onnx"), providers=["CPUExecutionProvider"])
    (onnx_translated,) = session.run(None, {"images": inputs.numpy()})
    assert abs(onnx_translated - translated.numpy()).max() < 1e-5


def test_resume_continues_exactly(tmp_path):
    full, resumed = straight_and_resumed(config, 12, 6, tmp_path, "train.log_every=5", "train.sample_every=0")
    resumed.fit()
    assert_same(full.recipe.state_dict(), resumed.recipe.state_dict(), "recipe")


def test_settings_are_checked():
    with pytest.raises(ConfigError, match=r"needs paired data: set data\.pair"):
        load_config({"data": {"name": "digits"}, "model": {"recipe": "pix2pix"}})
    with pytest.raises(ConfigError, match=r"model\.recipe gan trains on single images: use recipe: pix2pix"):
        load_config({"data": PAIRS})
    with pytest.raises(ConfigError, match=r"both 0"):
        config("model.l1_weight=0", "model.adversarial_weight=0")
    with pytest.raises(ConfigError, match=r"needs an autoencoder discriminator"):
        config("model.objective={name: ebgan}")
    with pytest.raises(ConfigError, match=r"stacked on the channels"):
        config().model.build((1, 16, 16), None, CPU)
    with pytest.raises(ConfigError, match=r"multiple of 16, got 12"):
        config("data.size=12").model.build((2, 12, 12), None, CPU)
