import pytest
import yaml

from genlab.build import build_trainer, resume_trainer
from genlab.errors import ConfigError
from genlab.train import RunDir, load_checkpoint, read_metrics

from .helpers import assert_same

# Small data (100 images, 6 batches an epoch) and 2 D-steps per G-step so the run crosses epoch boundaries.
SETTINGS = ("model.d_steps=2", "data.limit=100", "train.checkpoint_every=0")
VOLATILE = ("elapsed", "images_per_s")


def train(tiny_config, folder, *overrides):
    cfg = tiny_config(*SETTINGS, *overrides)
    trainer = build_trainer(cfg, RunDir.create(folder, cfg.name))
    trainer.fit()
    return trainer


STATEFUL_TRICKS = (
    "model.tricks.ema.decay=0.9",
    "model.tricks.replay.size=24",
    "model.tricks.instance_noise={std: 0.2, anneal_steps: 18}",
    "model.tricks.pack=2",
    "model.objective=wgan-gp",
)


BEGAN = ("model.objective=began", "model.discriminator={arch: autoencoder, distance: l1, width: 8, code_dim: 8}")


# Lazy regularisation every 5 D steps and an EMA ramped up over the images seen: both count on the host, and the
# half run stops at D step 12, between two penalised steps, so a count that did not resume would show.
CONDITIONAL = (
    "model.condition=projection",
    "model.tricks.ema={half_life_images: 200, rampup: 0.5}",
    "model.objective={name: wgan-gp, penalty_every: 5}",
)


# DiffAugment with all three policies, p < 1 (one more draw per policy), a relativistic objective (G's loss also
# augments the reals) and a penalty on augmented batches: every draw comes from the per-step stream.
AUGMENT = ("model.augment={p: 0.8}", "model.objective={name: ragan, gp_weight: 1}")


@pytest.mark.parametrize(
    "tricks",
    [(), STATEFUL_TRICKS, BEGAN, CONDITIONAL, ("data.flip=true",), AUGMENT],
    ids=[
        "plain",
        "ema-replay-noise-pack-gp",
        "began-equilibrium",
        "conditional-projection-lazy-gp-ema-images",
        "flip",
        "diffaugment-ragan-gp",
    ],
)
def test_half_plus_resume_plus_half_equals_one_go_bit_for_bit(tiny_config, tmp_path, tricks):
    full = train(tiny_config, tmp_path / "full", "train.steps=24", *tricks)
    train(tiny_config, tmp_path / "half", "train.steps=12", *tricks)
    resumed = resume_trainer(tmp_path / "half", ["train.steps=24"])
    assert resumed.step == 12
    resumed.fit()

    assert_same(full.recipe.state_dict(), resumed.recipe.state_dict(), "recipe")  # networks + optimisers
    assert_same(full.sampler.state_dict(), resumed.sampler.state_dict(), "sampler")
    a = load_checkpoint(tmp_path / "full" / "checkpoints" / "ckpt-00000024.pt")
    b = load_checkpoint(tmp_path / "half" / "checkpoints" / "ckpt-00000024.pt")
    for key in ("step", "recipe", "sampler", "rng", "config", "data"):
        assert_same(a[key], b[key], key)

    # The half run also logged at its last step (12), so only intervals that do not straddle it coincide.
    def records(run):
        return {
            r["step"]: {k: v for k, v in r.items() if k not in VOLATILE} for r in read_metrics(run / "metrics.jsonl")
        }

    full_records, half_records = records(tmp_path / "full"), records(tmp_path / "half")
    assert sorted(half_records) == [5, 10, 12, 15, 20, 24]
    for step in (5, 10, 20, 24):
        assert full_records[step] == half_records[step]


def test_resume_drops_metric_records_after_the_checkpoint(tiny_config, tmp_path):
    train(tiny_config, tmp_path / "run", "train.steps=12")
    with (tmp_path / "run" / "metrics.jsonl").open("a") as handle:
        handle.write('{"step": 14, "loss/d": 9.0}\n')  # logged after the checkpoint, before a crash
    resume_trainer(tmp_path / "run", ["train.steps=15"]).fit()
    assert [r["step"] for r in read_metrics(tmp_path / "run" / "metrics.jsonl")] == [5, 10, 12, 15]


def test_resume_may_only_change_train_settings(tiny_config, tmp_path):
    train(tiny_config, tmp_path / "run", "train.steps=2")
    with pytest.raises(ConfigError, match=r"cannot change 'model\.z_dim' when resuming"):
        resume_trainer(tmp_path / "run", ["model.z_dim=3"])


def test_a_hand_edit_of_config_yaml_is_held_to_the_same_rule_as_set(tiny_config, tmp_path):
    train(tiny_config, tmp_path / "run", "train.steps=2")
    config_path = tmp_path / "run" / "config.yaml"
    original = yaml.safe_load(config_path.read_text())
    edited = {**original, "seed": 5, "model": {**original["model"], "z_dim": 3}}
    config_path.write_text(yaml.safe_dump(edited))
    with pytest.raises(ConfigError, match=r"differs from the config that ckpt-00000002\.pt was trained with") as err:
        resume_trainer(tmp_path / "run", ["train.steps=3"])
    assert "(seed: 0 → 5; model.z_dim: 8 → 3); undo the edit" in str(err.value)
    config_path.write_text(yaml.safe_dump({**original, "train": {**original["train"], "steps": 3}}))
    assert resume_trainer(tmp_path / "run").fit().step == 3  # train.* may change, by --set or by hand


def test_evaluation_that_cannot_start_stops_a_resume_before_step_1_and_eval_may_change(tiny_config, tmp_path):
    train(tiny_config, tmp_path / "run", "train.steps=2")
    saved = RunDir(tmp_path / "run").checkpoints()
    bad = ["train.steps=4", "eval.every=2", "eval.features=moved/clf.pt"]
    with pytest.raises(
        ConfigError, match=r"evaluation during training \(eval\.every: 2\) cannot start: .*moved/clf\.pt"
    ):
        resume_trainer(tmp_path / "run", bad)
    assert RunDir(tmp_path / "run").checkpoints() == saved
    resume_trainer(tmp_path / "run", ["train.steps=4", "eval.every=2", "eval.n=32", "eval.metrics=[fid]"]).fit()
    assert [r["step"] for r in read_metrics(tmp_path / "run" / "metrics.jsonl") if "eval/fid" in r] == [4]


def test_resuming_a_finished_run_does_nothing_and_says_so(tiny_config, tmp_path, capsys):
    train(tiny_config, tmp_path / "run", "train.steps=3")
    result = resume_trainer(tmp_path / "run").fit()
    assert result.step == 3
    assert "already reached step 3 of 3" in capsys.readouterr().err
