"""DiffAugment: each transform by hand, its gradients, its parameter streams and its place in the GAN recipe."""

import pytest
import torch

from genlab.config import load_config
from genlab.data import DataConfig, Sampler, load_dataset
from genlab.errors import ConfigError
from genlab.models.augment import (
    AugmentConfig,
    DiffAugment,
    brightness,
    contrast,
    cut_out,
    random_cutout,
    random_translation,
    saturation,
    translate,
)
from genlab.models.gan import GANConfig

# One image, two channels, two pixels: channel means per pixel 0.4 and -0.2, image mean 0.1.
X = torch.tensor([[[[0.2, -0.4]], [[0.6, 0.0]]]])
ONE = torch.ones(1)


def test_color_transforms_give_the_hand_computed_values():
    assert torch.allclose(brightness(X, 0.3 * ONE), X + 0.3)
    assert torch.allclose(saturation(X, 2 * ONE), torch.tensor([[[[0.0, -0.6]], [[0.8, 0.2]]]]))
    assert torch.allclose(contrast(X, 0.5 * ONE), torch.tensor([[[[0.15, -0.15]], [[0.35, 0.05]]]]))
    gray = X[:, :1]
    assert torch.equal(saturation(gray, 2 * ONE), gray)  # one channel: no colour to saturate


def test_translation_moves_pixels_and_pads_zeros():
    x = torch.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    expected = torch.zeros_like(x)
    expected[..., 1:, :3] = x[..., :3, 1:]  # one row down, one column left
    assert torch.equal(translate(x, torch.tensor([1]), torch.tensor([-1])), expected)
    assert torch.equal(translate(x, torch.tensor([0]), torch.tensor([0])), x)


def test_random_translation_shifts_by_at_most_an_eighth_of_the_side():
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 8, 8] = 1  # one lit pixel: where it lands is the shift
    moved = random_translation(x, torch.Generator().manual_seed(0))
    rows, cols = (moved[:, 0] == 1).nonzero()[:, 1:].T
    assert len(rows) == 64 and (moved.sum(dim=(1, 2, 3)) == 1).all()
    assert set((rows - 8).tolist()) == set((cols - 8).tolist()) == {-2, -1, 0, 1, 2}  # 16 / 8 = 2 pixels


def test_cutout_zeroes_exactly_a_square_of_half_the_side():
    x = torch.ones(2, 3, 8, 8)
    out = cut_out(x, torch.tensor([1, 4]), torch.tensor([2, 0]), 4)
    expected = torch.ones_like(x)
    expected[0, :, 1:5, 2:6] = 0
    expected[1, :, 4:8, 0:4] = 0
    assert torch.equal(out, expected)
    drawn = random_cutout(torch.ones(32, 1, 8, 8), torch.Generator().manual_seed(0))
    for image in drawn[:, 0]:
        rows, cols = (image == 0).nonzero().T
        assert len(rows) == 16 and rows.max() - rows.min() == 3 and cols.max() - cols.min() == 3


def grad_of(transform, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    (transform(x) * weights).sum().backward()
    return x.grad


def test_gradients_flow_through_every_transform_and_match_the_hand_derived_ones():
    x, w = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    f = torch.tensor([0.7, 1.3])
    assert torch.equal(grad_of(lambda v: brightness(v, f), x, w), w)  # d(x + b)/dx = 1
    # contrast: y = f (x - m) + m with m the image mean, so dL/dx_k = f w_k + (1 - f) mean(w)
    hand = f.view(-1, 1, 1, 1) * w + (1 - f.view(-1, 1, 1, 1)) * w.mean(dim=(1, 2, 3), keepdim=True)
    assert torch.allclose(grad_of(lambda v: contrast(v, f), x, w), hand)
    assert grad_of(lambda v: saturation(v, f), x, w).abs().sum() > 0
    down, right = torch.tensor([1, -2]), torch.tensor([0, 1])
    # the adjoint of a zero-padded shift is the opposite shift
    assert torch.equal(grad_of(lambda v: translate(v, down, right), x, w), translate(w, -down, -right))
    top, left = torch.tensor([0, 1]), torch.tensor([2, 0])
    assert torch.equal(grad_of(lambda v: cut_out(v, top, left, 2), x, w), cut_out(w, top, left, 2))
    augment = DiffAugment(AugmentConfig(), torch.device("cpu"), seed=0)
    augment.reseed(0)
    assert grad_of(augment, x, w).abs().sum() > 0


def test_each_batch_draws_its_own_parameters_and_a_step_always_draws_the_same():
    augment = DiffAugment(AugmentConfig(), torch.device("cpu"), seed=3)
    x = torch.randn(8, 3, 8, 8)
    augment.reseed(5)
    first, second = augment(x), augment(x)
    assert not torch.equal(first, second)  # real and fake batches: independent draws
    augment.reseed(5)
    assert torch.equal(augment(x), first)
    augment.reseed(6)
    assert not torch.equal(augment(x), first)
    augment.reseed(5, rank=1)
    assert not torch.equal(augment(x), first)


def test_shared_policies_give_every_batch_of_a_step_the_same_parameters_and_only_those():
    real, fake = torch.randn(16, 1, 8, 8), torch.randn(16, 1, 8, 8)
    marker = torch.zeros(16, 1, 8, 8)
    marker[:, :, 3:5, 3:5] = 1.0  # a block whose shift and cut-out can be read off

    def two_batches(shared: tuple[str, ...], policy: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        augment = DiffAugment(AugmentConfig(policy=policy, shared=shared, p=0.5), torch.device("cpu"), seed=1)
        augment.reseed(4)
        return augment(marker), augment(marker)

    first, second = two_batches(("translation",), ("translation",))
    assert torch.equal(first, second)
    first, second = two_batches((), ("translation",))
    assert not torch.equal(first, second)
    # translation shared, cutout apart: the shift is the same for image i of both batches, the square is not
    both = ("translation", "cutout")
    first, second = two_batches(("translation",), both)
    assert not torch.equal(first, second)
    shifted = two_batches(("translation",), ("translation",))[0]
    kept_by_both = (first != 0) & (second != 0)
    assert torch.equal(first[kept_by_both], shifted[kept_by_both])
    assert torch.equal(*two_batches(both, both))
    # the shared draws depend on the step, and the apart ones still differ between real and fake content
    augment = DiffAugment(AugmentConfig(shared=("translation",)), torch.device("cpu"), seed=1)
    augment.reseed(4)
    at_4 = augment(real)
    augment.reseed(5)
    assert not torch.equal(augment(real), at_4)
    augment.reseed(4)
    assert torch.equal(augment(real), at_4) and not torch.equal(augment(fake), at_4)


def test_p_is_the_share_of_images_each_policy_transforms():
    x = torch.ones(2000, 1, 8, 8)
    for p in (0.0, 0.3, 1.0):
        augment = DiffAugment(AugmentConfig(policy=("cutout",), p=p), torch.device("cpu"), seed=0)
        augment.reseed(0)
        share = (augment(x) == 0).any(dim=(1, 2, 3)).float().mean().item()
        assert abs(share - p) < 0.04, p


def build(size: int = 8, **model):
    data = load_dataset(DataConfig(name="digits", size=size, limit=64))
    cfg = GANConfig.model_validate({"z_dim": 4, "generator": {"width": 8}, "discriminator": {"width": 8}} | model)
    torch.manual_seed(0)
    return cfg.build(data.shape, 10, torch.device("cpu")), Sampler(data, 16, 0, "cpu")


def test_d_sees_augmented_real_and_fake_batches_and_g_trains_through_the_augmentation():
    recipe, sampler = build(augment={"policy": ["color", "translation", "cutout"]})
    seen, fakes = [], []
    recipe.discriminator.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    recipe.generator.register_forward_hook(lambda module, args, out: fakes.append(out))
    state = sampler.state_dict()
    recipe.train_step(sampler, 7)
    sampler.load_state_dict(state)
    real = sampler.next().images

    twin = DiffAugment(recipe.cfg.augment, torch.device("cpu"), torch.initial_seed())
    twin.reseed(7)
    with torch.no_grad():
        expected = [twin(real), twin(fakes[0].detach()), twin(fakes[0])]
    # D's step: real, then fake, each with its own draw; G's step (fixed schedule: the same fakes) the next draw.
    assert len(seen) == 3
    for got, want in zip(seen, expected, strict=True):
        assert torch.equal(got.detach(), want)
    assert seen[2].requires_grad and not seen[1].requires_grad
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in recipe.generator.parameters())


def test_p_zero_trains_bit_for_bit_like_no_augmentation():
    def trained(**model):
        recipe, sampler = build(**model)
        for step in range(3):
            recipe.train_step(sampler, step)
        return recipe.generator.state_dict() | {f"d.{k}": v for k, v in recipe.discriminator.state_dict().items()}

    plain, off = trained(), trained(augment={"p": 0})
    assert all(torch.equal(plain[k], off[k]) for k in plain)
    on = trained(augment={"p": 1})
    assert not all(torch.equal(plain[k], on[k]) for k in plain)


def test_augment_config_is_validated():
    with pytest.raises(ConfigError, match=r"at most once.*model.augment: null"):
        load_config({}, ["model.augment.policy=[color, color]"])
    with pytest.raises(ConfigError, match=r"policy\.0: Input should be 'color', 'translation' or 'cutout'"):
        load_config({}, ["model.augment.policy=[rotate]"])
    with pytest.raises(ConfigError, match=r"model\.augment\.p: must be in \[0, 1\] \(got 1\.5\)"):
        load_config({}, ["model.augment.p=1.5"])
    with pytest.raises(ConfigError, match=r"shared names \['cutout'\], which model.augment.policy \['color'\]"):
        load_config({}, ["model.augment.policy=[color]", "model.augment.shared=[cutout]"])
    cfg = GANConfig.model_validate({"augment": {}, "generator": {"arch": "mlp"}, "discriminator": {"arch": "mlp"}})
    with pytest.raises(ConfigError, match=r"vectors of shape \(2,\); set model.augment: null"):
        cfg.build((2,), None, torch.device("cpu"))
