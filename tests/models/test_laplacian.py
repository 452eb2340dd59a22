"""The Laplacian-pyramid GAN recipe: every level's generator sees the coarser image, samples of every level land in
the run folder, training beats the untrained pyramid, levels train jointly or one by one, any objective composes,
and runs resume exactly and work with `genlab sample` and `genlab eval`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from genlab.cli import main
from genlab.config import load_config
from genlab.data import Batch, DataConfig
from genlab.errors import ConfigError
from genlab.metrics import EvalConfig, Evaluator
from genlab.nets.pyramid import up

from ..train.helpers import assert_same, straight_and_resumed, train

TINY = [  # the ready config laplacian-digits (16x16, levels 8 and 16), with tiny networks and a short run
    "device=cpu",
    "model.z_dim=16",
    "model.coarse.width=16",
    "model.residual={width: 16, depth: 2}",
    "model.discriminator.width=16",
    "train.steps=200",
    "train.batch_size=32",
    "train.log_every=20",
    "train.sample_every=100",
    "train.progress=false",
    "train.loggers=[jsonl]",
]
SHAPE = (1, 16, 16)


def config(*overrides: str):
    return load_config("laplacian-digits", [*TINY, *overrides])


def build(*overrides: str):
    return config(*overrides).model.build(SHAPE, None, torch.device("cpu"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train(config(), tmp_path_factory.mktemp("laplacian") / "run")


def test_the_latent_holds_the_coarse_z_and_every_finer_levels_noise_planes():
    recipe = build("model.levels=2", "model.residual.noise_channels=2")
    assert recipe.z_dim == 16 + 2 * 16 * 16
    coarse, (noise,) = recipe.generator.split(torch.arange(2.0 * recipe.z_dim).view(2, -1))
    assert coarse.shape == (2, 16) and noise.shape == (2, 2, 16, 16) and noise[1, 0, 0, 0] == recipe.z_dim + 16
    # D_0 judges coarse images, D_1 pairs (enlarged coarse image, band) of two channels at 16x16.
    assert recipe.discriminators[0].net[0].in_channels == 1 and recipe.discriminators[1].net[0].in_channels == 2
    assert recipe.sample(3).shape == (3, *SHAPE)


def test_each_levels_generator_draws_the_band_given_the_enlarged_coarser_image(trained):
    recipe = trained.recipe
    coarse_g, fine_g = recipe.generator.levels
    seen = {}
    hooks = [
        coarse_g.register_forward_hook(lambda _m, _a, out: seen.update(coarse=out)),
        fine_g.register_forward_hook(lambda _m, args, out: seen.update(condition=args[0], band=out)),
    ]
    try:
        images = recipe.sample(8, generator=torch.Generator().manual_seed(0))
    finally:
        for hook in hooks:
            hook.remove()
    assert torch.allclose(seen["condition"], up(seen["coarse"]))
    assert torch.allclose(images, (seen["condition"] + seen["band"]).clamp(-1, 1))
    # The band depends on the coarse image, not only on the noise: another coarse image, the same noise.
    fine_g.eval()
    condition = seen["condition"].clone().requires_grad_(True)
    noise = torch.randn(8, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    band = fine_g(condition, noise)
    (gradient,) = torch.autograd.grad(band.square().sum(), condition)
    assert gradient.abs().mean() > 1e-4
    assert (fine_g(condition.roll(1, dims=0), noise) - band).abs().mean() > 1e-3
    fine_g.train()
    # Untrained, a level adds nothing (its output conv starts at zero): the enlarged coarse image is the sample.
    untrained = build().generator.levels[1]
    assert torch.equal(untrained(condition, noise), torch.zeros_like(band))


def test_samples_of_every_level_are_written_to_the_run_folder(trained):
    samples = trained.run.samples_dir
    for step in (100, 200):
        assert (samples / f"step-{step:08d}.png").is_file()  # the usual full-resolution grid
        assert (samples / f"level-0-8x8-{step:08d}.png").is_file()
        assert (samples / f"level-1-16x16-{step:08d}.png").is_file()
    coarse, fine = (samples / f"level-{name}-00000200.png" for name in ("0-8x8", "1-16x16"))
    assert coarse.read_bytes() != fine.read_bytes()
    assert {"loss/d_level0", "loss/g_level0", "loss/d_level1", "loss/g_level1"} <= trained.last_record.keys()


def test_training_beats_the_untrained_pyramid(trained):
    evaluator = Evaluator(EvalConfig(n=1000, metrics=("fid",)), DataConfig(name="digits", size=16))
    fids = [
        evaluator.evaluate(recipe.sample(1000, generator=torch.Generator().manual_seed(0))).values["fid"]
        for recipe in (trained.recipe, build())
    ]
    assert fids[0] < 0.5 * fids[1]  # measured: about 34 against 125


def test_genlab_sample_and_eval_use_the_full_resolution(trained, tmp_path, capsys):
    run = str(trained.run.path)
    assert main(["sample", run, "--n", "9", "--out", str(tmp_path / "samples.npz"), "--device", "cpu"]) in (0, None)
    with np.load(tmp_path / "samples.npz") as saved:
        assert saved["images"].shape == (9, *SHAPE)
    out = tmp_path / "eval.json"
    assert main(["eval", run, "--metrics", "fid", "--n", "100", "--device", "cpu", "--out", str(out)]) in (0, None)
    assert json.loads(out.read_text())["metrics"]["fid"] > 0
    capsys.readouterr()


def test_resume_continues_exactly(tmp_path):
    full, resumed = straight_and_resumed(config, 8, 3, tmp_path, "train.log_every=1", "train.sample_every=0")
    resumed.fit()
    assert_same(full.recipe.state_dict(), resumed.recipe.state_dict(), "recipe")


def parameters(recipe) -> dict[str, torch.Tensor]:
    return {
        f"{name}.{p}": t.detach().clone() for name, net in recipe.networks.items() for p, t in net.state_dict().items()
    }


def changed(before: dict[str, torch.Tensor], recipe) -> set[str]:
    return {name for name, t in parameters(recipe).items() if not torch.equal(t, before[name])}


def test_sequential_training_updates_one_level_at_a_time_and_ends_a_stage_per_level():
    recipe = build("model.training=sequential", "model.level_steps=3")
    assert [recipe.trained_levels(step) for step in (0, 2, 3, 10)] == [[0], [0], [1], [1]]
    assert [recipe.stage_end(n) for n in (2, 3, 6)] == [None, "end-of-level-0-8x8", None]  # the finest level never ends
    images = torch.rand(8, *SHAPE) * 2 - 1
    for step, level, other in ((0, 0, 1), (3, 1, 0)):
        before = parameters(recipe)
        logs = recipe.train_step(lambda: Batch(images, None), step)
        moved = changed(before, recipe)
        assert any(name.startswith(f"generator.levels.{level}.") for name in moved)
        assert f"discriminator_{level}.net.0.weight" in moved
        assert not any(name.startswith((f"generator.levels.{other}.", f"discriminator_{other}.")) for name in moved)
        assert logs["level"] == level and set(logs) == {"loss/d", "loss/g", "level"}


@pytest.mark.parametrize(
    "objective",
    [
        "{name: wgan-gp, gp_weight: 10}",
        "{name: ragan}",
        "{name: hinge, gp_weight: 1, gp_points: real, penalty_every: 2}",
    ],
)
def test_any_objective_trains_every_level(objective):
    recipe = build(f"model.objective={objective}")
    images = torch.rand(8, *SHAPE) * 2 - 1
    before = parameters(recipe)
    logs = recipe.train_step(lambda: Batch(images, None), 0)
    assert all(torch.isfinite(v) for v in logs.values())
    moved = changed(before, recipe)
    for k in (0, 1):
        assert any(name.startswith(f"generator.levels.{k}.") for name in moved)
        assert any(name.startswith(f"discriminator_{k}.") for name in moved)


def test_each_level_plays_its_own_game_of_a_stateful_objective():
    recipe = build("model.objective={name: began}", "model.discriminator={arch: autoencoder}")
    assert recipe.objectives[0] is not recipe.objectives[1]
    images = torch.rand(8, *SHAPE) * 2 - 1
    logs = recipe.train_step(lambda: Batch(images, None), 0)
    assert logs["level0/began/k"] != logs["level1/began/k"]  # each k follows its own level's energies
    assert [o.state_dict()["k"] for o in recipe.objectives] == [logs["level0/began/k"], logs["level1/began/k"]]


def test_settings_are_checked():
    with pytest.raises(ConfigError, match="needs an autoencoder discriminator"):
        config("model.objective=began")
    with pytest.raises(ConfigError, match="multiple of 4; got 14"):
        config("model.levels=3").model.build((1, 14, 14), None, torch.device("cpu"))
    with pytest.raises(ConfigError, match="generates images"):
        config().model.build((2,), None, torch.device("cpu"))
    with pytest.raises(ConfigError, match="levels"):
        config("model.levels=1")
