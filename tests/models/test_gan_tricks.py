"""Each GAN trick and schedule, switched on from the config, does what it says."""

import pytest
import torch

from genlab import keys
from genlab.config import load_config
from genlab.data import DataConfig, Sampler, load_dataset
from genlab.errors import ConfigError
from genlab.models.gan import GANConfig, pack_samples


def build(size: int = 8, **model):
    data = load_dataset(DataConfig(name="digits", size=size, limit=64))
    cfg = GANConfig.model_validate({"z_dim": 4, "generator": {"width": 8}, "discriminator": {"width": 8}} | model)
    torch.manual_seed(0)
    return cfg.build(data.shape, 10, torch.device("cpu")), Sampler(data, 16, 0, "cpu")


def spy_on_discriminator(recipe):
    seen = []
    recipe.discriminator.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    return seen


def test_packing_joins_consecutive_samples_along_channels():
    x = torch.arange(4 * 1 * 2 * 2.0).reshape(4, 1, 2, 2)
    packed = pack_samples(x, 2)
    assert packed.shape == (2, 2, 2, 2)
    assert torch.equal(packed[1, 0], x[2, 0]) and torch.equal(packed[1, 1], x[3, 0])
    recipe, sampler = build(tricks={"pack": 4})
    seen = spy_on_discriminator(recipe)
    recipe.train_step(sampler, 0)
    assert {tuple(t.shape) for t in seen} == {(4, 4, 8, 8)}  # 16 samples of 1 channel -> 4 packs of 4 channels


def test_pack_must_divide_the_batch_size():
    with pytest.raises(ConfigError, match=r"train.batch_size \(30\) must be a multiple of model.tricks.pack \(4\)"):
        load_config({}, ["model.tricks.pack=4", "train.batch_size=30"])


def test_instance_noise_perturbs_what_d_sees():
    recipe, sampler = build(tricks={"instance_noise": {"std": 0.5}})
    seen = spy_on_discriminator(recipe)
    state = sampler.state_dict()
    recipe.train_step(sampler, 0)
    sampler.load_state_dict(state)
    real = sampler.next().images
    noise = seen[0] - real  # the first D input is the real batch
    assert abs(noise.std().item() - 0.5) < 0.05 and abs(noise.mean().item()) < 0.05


def test_separate_batches_keep_batchnorm_statistics_apart_and_joint_mixes_them():
    real, fake_a, fake_b = torch.randn(8, 1, 16, 16), torch.randn(8, 1, 16, 16), 3 + torch.randn(8, 1, 16, 16)
    for mode, independent in (("separate", True), ("joint", False)):
        recipe, _ = build(size=16, tricks={"d_batches": mode})  # at 16 px D has a BatchNorm layer
        real_a, _ = recipe._score(real, fake_a, None)
        real_b, _ = recipe._score(real, fake_b, None)
        assert torch.allclose(real_a, real_b) == independent, mode


def test_replay_feeds_old_fakes_to_d():
    recipe, sampler = build(tricks={"replay": {"size": 32, "fraction": 0.5}})
    recipe.train_step(sampler, 0)
    assert recipe.replay.filled == 8
    pool_before = recipe.replay.pool[:8].clone()
    seen = spy_on_discriminator(recipe)
    recipe.train_step(sampler, 1)
    shown_fakes = seen[1]
    assert sum(any(torch.equal(row, old) for old in pool_before) for row in shown_fakes) == 8


def test_ema_generator_is_checkpointed_and_used_for_sampling():
    recipe, sampler = build(tricks={"ema": {"decay": 0.5}})
    for step in range(3):
        recipe.train_step(sampler, step)
    assert "generator_ema" in recipe.state_dict()["networks"]
    z_seed = torch.Generator().manual_seed(1)
    samples = recipe.sample(4, generator=z_seed)
    z = torch.randn(4, 4, generator=torch.Generator().manual_seed(1))
    recipe.ema.net.eval()
    assert torch.equal(samples, recipe.ema.net(z))
    recipe.generator.eval()
    assert not torch.allclose(samples, recipe.generator(z))


def test_ema_half_life_counts_the_recipe_s_training_images_and_checkpoints_the_count():
    half_life = 16  # with batches of 16 images, 0.5 ** (16 / 16): the per-step decay 0.5
    averages = []
    for ema in ({"decay": 0.5}, {"half_life_images": half_life}):
        recipe, sampler = build(tricks={"ema": ema})
        for step in range(3):
            recipe.train_step(sampler, step)
        averages.append([p.detach().clone() for p in recipe.ema.net.parameters()])
    assert all(torch.allclose(a, b, rtol=0, atol=1e-6) for a, b in zip(*averages, strict=True))
    assert recipe.ema.images_seen == 3 * 16
    resumed, _ = build(tricks={"ema": {"half_life_images": half_life}})
    resumed.load_extra_state(recipe.extra_state())
    assert resumed.ema.images_seen == 48


def test_each_network_gets_its_own_optimiser_and_learning_rate():
    recipe, _ = build(g_optim={"name": "adam", "lr": 1e-4}, d_optim={"name": "sgd", "lr": 4e-4, "momentum": 0.5})
    g, d = recipe.optimizers["generator"], recipe.optimizers["discriminator"]
    assert isinstance(g, torch.optim.Adam) and g.param_groups[0]["lr"] == 1e-4
    assert isinstance(d, torch.optim.SGD) and d.param_groups[0]["lr"] == 4e-4 and d.param_groups[0]["momentum"] == 0.5


def d_and_g_updates(recipe):
    return (
        int(recipe.optimizers["discriminator"].state_dict()["state"][0]["step"]),
        int(recipe.optimizers["generator"].state_dict()["state"][0]["step"]),
    )


def test_adaptive_schedule_trains_each_player_until_its_loss_is_low_or_capped():
    recipe, sampler = build(schedule={"name": "adaptive", "d_threshold": -1.0, "g_threshold": 100.0, "max_steps": 4})
    metrics = recipe.train_step(sampler, 0)
    assert d_and_g_updates(recipe) == (4, 1)  # D's loss never falls below -1: capped; G's is below 100 at once
    assert metrics["schedule/d_updates"].item() == 4 and metrics["schedule/g_updates"].item() == 1
    recipe, sampler = build(schedule={"name": "adaptive", "d_threshold": 100.0, "g_threshold": -1.0, "max_steps": 3})
    recipe.train_step(sampler, 0)
    assert d_and_g_updates(recipe) == (1, 3)


def test_skip_strong_d_leaves_an_overpowering_discriminator_alone():
    recipe, sampler = build(schedule={"name": "skip-strong-d", "accuracy": 0.5}, d_steps=2)
    with torch.no_grad():  # make D call everything fake: every fake is recognised, accuracy 1 > 0.5
        recipe.discriminator.net[-1].bias.fill_(-100.0)
    before = [p.clone() for p in recipe.discriminator.parameters()]
    metrics = recipe.train_step(sampler, 0)
    assert all(torch.equal(a, b) for a, b in zip(before, recipe.discriminator.parameters(), strict=True))
    assert metrics["schedule/d_updates"].item() == 0
    assert recipe.optimizers["generator"].state_dict()["state"][0]["step"] == 1
    recipe, sampler = build(schedule={"name": "skip-strong-d", "accuracy": 1.0}, d_steps=2)
    assert recipe.train_step(sampler, 0)["schedule/d_updates"].item() == 2


def test_adaptive_schedule_rejects_d_steps():
    with pytest.raises(ConfigError, match="adaptive schedule sets the number of D steps itself"):
        load_config({}, ["model.schedule=adaptive", "model.d_steps=3"])


@pytest.mark.parametrize("objective", ["ragan", "rsgan"])
def test_relativistic_objective_trains_through_the_recipe(objective):
    recipe, sampler = build(objective=objective)
    metrics = recipe.train_step(sampler, 0)
    assert torch.isfinite(torch.stack(list(metrics.values()))).all()


def test_uniform_latent_prior_is_bounded_and_sampling_is_seeded():
    recipe, _ = build(latent="uniform")
    z = recipe.latents(4000)
    assert z.abs().max() <= 1 and abs(z.std().item() - 3**-0.5) < 0.02  # U[-1, 1] has std 1/sqrt(3)
    normal, _ = build()
    assert normal.latents(4000).abs().max() > 2
    a = recipe.sample(5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, recipe.sample(5, generator=torch.Generator().manual_seed(3)))


def parameters(recipe) -> list[torch.Tensor]:
    return [p.detach().clone() for net in (recipe.generator, recipe.discriminator) for p in net.parameters()]


def test_lazy_regularisation_every_step_is_the_eager_penalty_bit_for_bit(monkeypatch):
    from genlab.objectives.base import Objective
    from genlab.objectives.penalties import gradient_penalty, interpolate

    def trained(**objective) -> list[torch.Tensor]:
        recipe, sampler = build(objective={"name": "wgan-gp", **objective}, d_steps=2)
        for step in range(3):
            recipe.train_step(sampler, step)
        return parameters(recipe)

    lazy_every_step = trained(penalty_every=1)
    # The penalty as it was before penalty_every: λ·GP on every D step.
    eager = lambda self, D, real, fake, d_step: self.gp_weight * gradient_penalty(D, interpolate(real, fake), 1.0)  # noqa: E731
    monkeypatch.setattr(Objective, "penalty", eager)
    before = trained()
    assert all(torch.equal(a, b) for a, b in zip(lazy_every_step, before, strict=True))


def test_lazy_r1_is_taken_on_even_d_steps_with_twice_the_weight_and_resumes_its_count():
    import copy

    from genlab.objectives.penalties import gradient_penalty

    lazy_r1 = {"name": "nonsaturating", "gp_weight": 100, "gp_target": 0, "gp_points": "real", "penalty_every": 2}
    recipe, sampler = build(objective=lazy_r1)
    recipe._next_batch = sampler

    def penalty_of_next_d_step(recipe) -> tuple[float, float]:
        """D's loss minus its objective loss on the next D step, and the R1 of D as it was before that step."""
        before = copy.deepcopy(recipe.discriminator)
        result = recipe.d_step(keep_graph=False)
        r1 = gradient_penalty(before, result.real, 0.0).item()
        return (result.loss - recipe.objective.d_loss(result.real_out, result.fake_out)).item(), r1

    taken = [penalty_of_next_d_step(recipe) for _ in range(5)]
    for step, (penalty, r1) in enumerate(taken):
        assert r1 > 0 and penalty == (pytest.approx(2 * 100 * r1, rel=1e-4) if step % 2 == 0 else 0.0), step
    resumed, _ = build(objective=lazy_r1)
    resumed.load_extra_state(recipe.extra_state())  # 5 D steps done: the next one (5) has no penalty
    resumed._next_batch = sampler
    assert penalty_of_next_d_step(resumed)[0] == 0.0 and penalty_of_next_d_step(resumed)[0] > 0


@pytest.mark.parametrize("pt_weight", [0.0, 0.5])
def test_ebgan_g_loss_adds_the_weighted_pulling_away_term_of_the_fakes_codes(pt_weight):
    from genlab.objectives.ebgan import pulling_away

    ebgan = {"name": "ebgan", "pt_weight": pt_weight}
    recipe, sampler = build(objective=ebgan, discriminator={"arch": "autoencoder", "width": 8, "code_dim": 8})
    energies, codes = [], []
    recipe.discriminator.register_forward_hook(lambda module, args, out: energies.append(out.detach()))
    recipe.discriminator.encoder.register_forward_hook(lambda module, args, out: codes.append(out.detach()))
    g_loss = recipe.train_step(sampler, 0)[keys.G_LOSS]
    # D's step scores reals and fakes (2 passes), G's step its fakes (1 pass), plus one encoding for the term.
    assert (len(energies), len(codes)) == (3, 3 if pt_weight == 0 else 4)
    expected = energies[-1].mean() + (pt_weight * pulling_away(codes[-1]) if pt_weight else 0)
    assert g_loss.item() == pytest.approx(expected.item(), rel=1e-6)
    if pt_weight:
        assert torch.equal(codes[-1], codes[-2])  # the term's codes are those of the fakes G's step scored
