"""Latent priors and the truncation trick."""

import pytest
import torch
from scipy import stats

from genlab.models.prior import draw_latents


def test_resampled_truncation_is_the_truncated_normal():
    z = draw_latents(200_000, 1, generator=torch.Generator().manual_seed(0), truncation=1.0).flatten()
    assert z.abs().max() <= 1.0
    assert z.std().item() == pytest.approx(stats.truncnorm(-1, 1).std(), abs=0.005)  # 0.538, not N(0,1)'s 1
    # Resampling keeps the shape inside [-psi, psi]: a quarter of the mass lies beyond +-0.55 as for truncnorm.
    assert (z.abs() > 0.55).float().mean().item() == pytest.approx(2 * stats.truncnorm(-1, 1).sf(0.55), abs=0.005)


def test_clamping_piles_the_tails_onto_the_threshold():
    z = draw_latents(100_000, 1, generator=torch.Generator().manual_seed(0), truncation=0.5, mode="clamp").flatten()
    at_bound = (z.abs() == 0.5).float().mean().item()
    assert at_bound == pytest.approx(2 * stats.norm.sf(0.5), abs=0.01)  # 0.617 of N(0,1) lies beyond +-0.5


def test_uniform_prior_and_its_truncation():
    z = draw_latents(50_000, 2, "uniform", generator=torch.Generator().manual_seed(0))
    assert z.min() >= -1 and z.max() <= 1 and z.std().item() == pytest.approx(3**-0.5, abs=0.01)
    cut = draw_latents(50_000, 2, "uniform", generator=torch.Generator().manual_seed(0), truncation=0.5)
    assert cut.abs().max() <= 0.5 and cut.std().item() == pytest.approx(0.5 * 3**-0.5, abs=0.01)


def test_draws_are_seeded_and_bad_thresholds_are_refused():
    a = draw_latents(4, 8, generator=torch.Generator().manual_seed(3), truncation=0.7)
    assert torch.equal(a, draw_latents(4, 8, generator=torch.Generator().manual_seed(3), truncation=0.7))
    untruncated = draw_latents(4, 8, generator=torch.Generator().manual_seed(3))
    assert torch.equal(untruncated, torch.randn(4, 8, generator=torch.Generator().manual_seed(3)))
    with pytest.raises(ValueError, match="truncation must be positive"):
        draw_latents(2, 2, truncation=0.0)
    with pytest.raises(ValueError, match="'resample' or 'clamp'"):
        draw_latents(2, 2, truncation=1.0, mode="cut")
