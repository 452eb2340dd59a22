"""CycleGAN: the loss terms by hand, unpaired training that learns the true mapping, exact resume, the translate
command, and clear errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from genlab.config import load_config
from genlab.data import Batch, DataConfig, load_dataset
from genlab.errors import ConfigError

from ..train.helpers import assert_same, straight_and_resumed, train

CPU = torch.device("cpu")
CYCLE_DIGITS = {
    "name": "cyclegan-digits",
    "device": "cpu",
    "seed": 0,
    "data": {"name": "digits", "size": 16, "half": "first"},
    "model": {
        "recipe": "cyclegan",
        "domain_b": {"name": "digits", "size": 16, "half": "second", "style": "invert"},
        "generator": {"width": 16, "blocks": 2},
        "discriminator": {"width": 16, "layers": 2},
    },
    "train": {"steps": 300, "batch_size": 16, "log_every": 50, "sample_every": 0, "progress": False},
}


def config(*overrides: str):
    return load_config(CYCLE_DIGITS, list(overrides))


def test_the_generator_loss_is_adversarial_plus_weighted_cycle_and_identity():
    recipe = config("model.identity_weight=0.5").model.build((1, 16, 16), None, CPU)
    a = load_dataset(DataConfig(name="digits", size=16, half="first")).images[:8]
    b = load_dataset(DataConfig(name="digits", size=16, half="second", style="invert")).images[:8]
    G, F_, D_a, D_b = recipe.g_ab, recipe.g_ba, recipe.d_a, recipe.d_b
    with torch.no_grad():
        lsgan_g = lambda scores: 0.5 * ((scores - 1) ** 2).mean()  # noqa: E731
        adversarial = lsgan_g(D_b(G(a))) + lsgan_g(D_a(F_(b)))
        cycle = (F_(G(a)) - a).abs().mean() + (G(F_(b)) - b).abs().mean()
        identity = (G(b) - b).abs().mean() + (F_(a) - a).abs().mean()
        terms, _, _ = recipe.generator_losses(a, b)
    assert terms["adversarial"].item() == pytest.approx(adversarial.item(), rel=1e-5)
    assert terms["cycle"].item() == pytest.approx(cycle.item(), rel=1e-5)
    assert terms["identity"].item() == pytest.approx(identity.item(), rel=1e-5)
    total = recipe.generator_loss(terms).item()
    assert total == pytest.approx((adversarial + 10 * cycle + 0.5 * identity).item(), rel=1e-5)
    # One training step logs the same total (B's batch comes from the global RNG: replay its draw).
    torch.manual_seed(1)
    drawn = recipe.domain_b.images[torch.randint(len(recipe.domain_b), (8,))]
    with torch.no_grad():
        expected = recipe.generator_loss(recipe.generator_losses(a, drawn)[0]).item()
    torch.manual_seed(1)
    assert recipe.train_step(lambda: Batch(a, None), 0)["loss/g"].item() == pytest.approx(expected, rel=1e-5)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train(config(), tmp_path_factory.mktemp("cyclegan") / "run")


def test_unpaired_training_learns_the_true_translation(trained):
    """Domain B is the other half of the digits, inverted: no pair was ever shown, yet G must learn x -> -x."""
    test = load_dataset(DataConfig(name="digits", size=16, split="test")).images
    untrained = config().model.build((1, 16, 16), None, CPU)

    def errors(recipe) -> tuple[float, float]:
        translation = F.l1_loss(recipe.translate(test), -test).item()  # the inverted digit is the right answer
        return translation, F.l1_loss(recipe.reconstruct(test), test).item()

    (before, cycle_before), (after, cycle_after) = errors(untrained), errors(trained.recipe)
    assert after < 0.75 * before
    assert cycle_after < 0.5 * cycle_before
    assert (trained.run.samples_dir / "translations-00000300.png").is_file()


def test_the_translate_command_writes_one_png_per_input_image(trained, tmp_path):
    from genlab.cli import main
    from genlab.images import make_grid, save_png

    images = load_dataset(DataConfig(name="digits", size=16, split="test")).images[:3]
    for i, image in enumerate(images):
        save_png(make_grid(image[None], padding=0), tmp_path / "in" / "sub" / f"d{i}.png")
    main(["translate", str(trained.run.path), "--input", str(tmp_path / "in"), "--out", str(tmp_path / "out")])
    written = sorted((tmp_path / "out" / "sub").glob("*.png"))
    assert [p.name for p in written] == ["d0.png", "d1.png", "d2.png"]
    read = lambda folder: load_dataset(DataConfig(name="folder", path=str(tmp_path / folder), size=16)).images  # noqa: E731
    # The written PNGs are the translations of the (8-bit) input files, up to their own 8-bit rounding.
    assert torch.allclose(read("out"), trained.recipe.translate(read("in")), atol=1.01 / 127.5)


def test_resume_continues_exactly(tmp_path):
    full, resumed = straight_and_resumed(config, 12, 6, tmp_path, "train.log_every=5", "model.pool.size=8")
    resumed.fit()
    assert_same(full.recipe.state_dict(), resumed.recipe.state_dict(), "recipe")


def test_settings_are_checked():
    with pytest.raises(ConfigError, match=r"model\.domain_b is required"):
        load_config({"model": {"recipe": "cyclegan"}})
    with pytest.raises(ConfigError, match="same size"):
        config("model.domain_b.size=32").model.build((1, 16, 16), None, CPU)
    with pytest.raises(ConfigError, match="leaves no patch"):
        config("model.discriminator.layers=4").model.build((1, 16, 16), None, CPU)
