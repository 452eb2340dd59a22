"""The study file's checks, the search space's draws and the trial ids (no training)."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from genlab.errors import ConfigError
from genlab.study.space import model_rng, settings
from genlab.study.spec import STUDIES_DIR, Dimension, load_study
from genlab.study.trials import TrialSpec
from tests.conftest import TINY


@pytest.fixture
def write_study(tmp_path):
    """Write a study over the tiny config (``tiny.yaml`` beside it); keyword changes replace its keys."""
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY))

    def write(**changes):
        study = {"base": "tiny.yaml", "models": {"ns": {"model.objective": "nonsaturating"}}} | changes
        path = tmp_path / "study.yaml"
        path.write_text(yaml.safe_dump(study))
        return path

    return write


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"space": {"model.d_optim.lrr": {"uniform": [0.1, 0.2]}}}, "space.model.d_optim.lrr: 'lrr' is not a key"),
        ({"space": {"model.d_optim.lr": {"loguniform": [0, 1]}}}, "space.model.d_optim.lr: "),
        ({"space": {"model.d_optim.lr": {"uniform": [0.2, 0.1]}}}, "low must be below high"),
        ({"space": {"model.d_steps": {"int": [1.5, 3]}}}, "two integers"),
        ({"space": {"model.d_steps": {"between": [1, 3]}}}, "must be one of {choice"),
        ({"spaces": {"wgan": {}}}, "spaces.wgan: no such model"),
        ({"models": {"ns": {"model.objectiv": "hinge"}}}, "models.ns.model.objectiv: 'objectiv' is not a key of model"),
        ({"models": {"ns": {"train.steps": 0}}}, "train.steps: must be >= 1"),
        ({"overrides": {"train.step": 5}}, "overrides.train.step: 'step' is not a key of train (did you mean 'steps'"),
        ({"metric": "fdi"}, "metric: unknown metric 'fdi' (did you mean 'fid'?)"),
        ({"metric": "modes"}, "metric modes: eval.metrics: 'modes' counts modes"),
        ({"metric": "nll"}, "metric nll is a VAE's likelihood; model ns is a gan"),
        ({"samples": 0}, "samples: must be >= 1"),
        ({"rerun": {"seed": 3}}, "rerun: unknown key 'seed' (did you mean 'seeds'?)"),
        ({"base": "no-such-config"}, "base: config file no-such-config not found"),
        ({"scheduler": {"name": "hyperband"}}, "scheduler.name: "),
        ({"scheduler": {"name": "asha", "grace": 0}}, "scheduler.grace: must be >= 1"),
        ({"scheduler": {"name": "asha", "reduction": 1}}, "scheduler.reduction: must be > 1"),
    ],
)
def test_mistakes_name_the_field(write_study, changes, named):
    with pytest.raises(ConfigError) as caught:
        load_study(write_study(**changes))
    assert named in str(caught.value)


def test_a_kind_parameter_is_a_key_under_its_kind(write_study):
    """model.objective.gamma exists for BEGAN, not for the non-saturating loss; spaces.MODEL replaces the shared
    entry of the same key."""
    space = {"model.d_optim.lr": {"choice": [1e-3]}}
    with pytest.raises(ConfigError, match=r"space\.model\.objective\.gamma: 'gamma' is not a key"):
        load_study(write_study(space={"model.objective.gamma": {"uniform": [0.1, 1]}}))
    study = load_study(
        write_study(
            models={"ns": {}, "gp": {"model.objective": "began", "model.discriminator.arch": "autoencoder"}},
            space=space,
            spaces={"gp": {"model.objective.gamma": {"uniform": [0.1, 1]}, "model.d_optim.lr": {"choice": [2e-3]}}},
        )
    )
    gp, ns = sorted(study.models, key=lambda m: m.name)
    assert ns.space["model.d_optim.lr"].values == (1e-3,)
    assert gp.space["model.d_optim.lr"].values == (2e-3,) and "model.objective.gamma" in gp.space
    assert gp.config["eval"]["metrics"] == ["fid", "kid", "pr"] and gp.config["train"]["progress"] is False


def test_the_ready_studies_load():
    names = sorted(p.stem for p in STUDIES_DIR.glob("*.yaml"))
    assert {"mnist-lucic", "modes-2d"} <= set(names)
    lucic = load_study("mnist-lucic")
    assert {m.name for m in lucic.models} == {"mm", "ns", "lsgan", "wgan", "wgan-gp", "dragan", "began", "vae"}
    assert "model.objective.gp_weight" in next(m for m in lucic.models if m.name == "dragan").space
    assert lucic.spec.rerun.seeds == 5 and lucic.spec.samples == 10
    modes = load_study("modes-2d")
    assert len(modes.models) == 28 and modes.spec.value == "modes" and modes.spec.mode == "max"
    assert all(m.config["eval"]["metrics"] == ["modes"] for m in modes.models)
    stacked = load_study("stacked-mnist")
    packs = {m.name: m.config["model"].get("tricks", {}).get("pack", 1) for m in stacked.models}
    assert packs == {"dcgan": 1, "pacdcgan2": 2, "pacdcgan4": 4, "dcgan-ema": 1} and stacked.spec.seeds == 3
    assert all(m.config["data"]["name"] == "stacked-mnist" and m.config["eval"]["n"] == 26000 for m in stacked.models)
    for name in names:
        assert load_study(name).models, name


def test_the_readme_study_loads(tmp_path):
    text = (Path(__file__).parents[2] / "README.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", text[text.index("## Studies") :], re.S).group(1)
    (tmp_path / "study.yaml").write_text(example)
    study = load_study(tmp_path / "study.yaml")
    assert [m.name for m in study.models] == ["ns", "wgan-gp"] and study.spec.rerun.seeds == 5
    assert set(study.models[1].space) == {"model.d_optim.lr", "model.d_steps", "model.objective.gp_weight"}
    assert study.models[0].config["eval"]["every"] == 500


def dim(**kind) -> Dimension:
    return Dimension.model_validate(kind)


def test_draws_are_deterministic_and_depend_on_the_model():
    space = {"a": dim(uniform=[0, 1]), "b": dim(choice=["x", "y"])}
    first = settings(space, 5, model_rng(0, "ns"))
    assert first == settings(dict(reversed(space.items())), 5, model_rng(0, "ns"))  # the file's order is irrelevant
    assert first != settings(space, 5, model_rng(0, "wgan"))
    assert first != settings(space, 5, model_rng(1, "ns"))
    assert len(first) == 5 and all(0 <= s["a"] <= 1 and s["b"] in ("x", "y") for s in first)


def test_loguniform_is_uniform_in_log_space():
    """Over [1e-5, 1e-2] half the draws lie below the geometric mean 10^-3.5; a uniform draw would put 3 % there."""
    values = [s["lr"] for s in settings({"lr": dim(loguniform=[1e-5, 1e-2])}, 2000, model_rng(0, "m"))]
    assert all(1e-5 <= v <= 1e-2 for v in values)
    below = sum(v < 10**-3.5 for v in values) / len(values)
    assert 0.45 < below < 0.55
    decades = Counter(math.floor(math.log10(v)) for v in values)
    assert set(decades) == {-5, -4, -3} and min(decades.values()) > 550


def test_int_includes_both_ends():
    values = [s["k"] for s in settings({"k": dim(int=[1, 3])}, 300, model_rng(0, "m"))]
    assert set(values) == {1, 2, 3} and all(isinstance(v, int) for v in values)


def test_grid_is_the_full_product_with_draws_of_the_rest():
    space = {"a": dim(grid=[1, 2]), "b": dim(grid=["x", "y", "z"]), "c": dim(uniform=[0, 1])}
    drawn = settings(space, 2, model_rng(0, "m"))
    assert len(drawn) == 12
    assert Counter((s["a"], s["b"]) for s in drawn) == dict.fromkeys(itertools.product([1, 2], "xyz"), 2)
    assert len({s["c"] for s in drawn}) == 12
    assert len(settings({"a": dim(grid=[1, 2])}, 5, model_rng(0, "m"))) == 2  # nothing to draw: one per point


def test_trial_ids_are_stable_and_distinct():
    trial = TrialSpec("wgan-gp", {"model.d_optim.lr": 1e-4, "model.d_steps": 5}, seed=2)
    same = TrialSpec("wgan-gp", {"model.d_steps": 5, "model.d_optim.lr": 1e-4}, seed=2, phase=2)
    assert trial.id == same.id and trial.id.startswith("wgan-gp-") and len(trial.id) == len("wgan-gp-") + 10
    others = [
        TrialSpec("wgan-gp", {"model.d_optim.lr": 1e-4, "model.d_steps": 5}, seed=3),
        TrialSpec("wgan-gp", {"model.d_optim.lr": 2e-4, "model.d_steps": 5}, seed=2),
        TrialSpec("wgan", {"model.d_optim.lr": 1e-4, "model.d_steps": 5}, seed=2),
    ]
    assert len({trial.id, *(t.id for t in others)}) == 4
    assert (
        trial.id
        == "wgan-gp-"
        + __import__("hashlib")
        .sha256(b'{"model": "wgan-gp", "seed": 2, "values": {"model.d_optim.lr": 0.0001, "model.d_steps": 5}}')
        .hexdigest()[:10]
    )
