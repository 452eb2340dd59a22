import torch

from genlab.data import DataConfig, Sampler, load_dataset
from genlab.models.gan import GANConfig


def build(d_steps: int = 1):
    data = load_dataset(DataConfig(name="digits", size=8, limit=64))
    cfg = GANConfig.model_validate(
        {"z_dim": 4, "generator": {"width": 8}, "discriminator": {"width": 8}, "d_steps": d_steps}
    )
    torch.manual_seed(0)
    return cfg.build(data.shape, 10, torch.device("cpu")), Sampler(data, 16, 0, "cpu")


def test_train_step_updates_both_networks_and_reports_device_tensors():
    recipe, sampler = build()
    before = {k: [p.clone() for p in net.parameters()] for k, net in recipe.networks.items()}
    metrics = recipe.train_step(sampler, 0)
    assert set(metrics) == {"loss/d", "loss/g", "D(x)", "D(G(z))", "grad/d", "grad/g"}
    assert all(isinstance(v, torch.Tensor) and v.ndim == 0 and not v.requires_grad for v in metrics.values())
    for name, net in recipe.networks.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[name], net.parameters(), strict=True)), name
    assert all(p.requires_grad for p in recipe.discriminator.parameters())
    # The logged norms are those of the gradients each network's last update applied (still in .grad).
    for key, net in (("grad/d", recipe.discriminator), ("grad/g", recipe.generator)):
        by_hand = torch.cat([p.grad.flatten() for p in net.parameters()]).norm()
        assert torch.allclose(metrics[key], by_hand, rtol=1e-5) and by_hand > 0


def test_k_discriminator_steps_draw_k_fresh_batches():
    recipe, sampler = build(d_steps=3)
    recipe.train_step(sampler, 0)
    assert sampler.batches_drawn == 3
    assert recipe.optimizers["discriminator"].state_dict()["state"][0]["step"] == 3
    assert recipe.optimizers["generator"].state_dict()["state"][0]["step"] == 1


def test_sampling_is_seeded_and_leaves_training_state_alone():
    recipe, sampler = build()
    recipe.train_step(sampler, 0)
    bn_state = {k: v.clone() for k, v in recipe.generator.state_dict().items()}
    rng = torch.get_rng_state()
    a = recipe.sample(10, generator=torch.Generator().manual_seed(5))
    b = recipe.sample(10, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and a.shape == (10, 1, 8, 8)
    assert torch.equal(rng, torch.get_rng_state())
    assert all(torch.equal(v, recipe.generator.state_dict()[k]) for k, v in bn_state.items())
    assert recipe.generator.training
