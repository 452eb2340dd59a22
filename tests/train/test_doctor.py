"""The training doctor: each rule on hand-made records, and on real runs built to fail (and one built not to)."""

import pytest
import torch

from genlab.build import build_trainer, resume_trainer
from genlab.config import load_config
from genlab.errors import TrainingStopped
from genlab.keys import AdversarialSignals
from genlab.train import RunDir, read_metrics
from genlab.train.doctor import Doctor, DoctorConfig, SampleCheck, TrainingDoctor, mean_pairwise

LOGITS = AdversarialSignals(probabilities=True)
"""What the GAN recipe with a logit objective says it logs."""


def feed(doctor, records):
    found = []
    for record in records:
        found += doctor.check(record)
    return found


def record(step, d_real=0.8, d_fake=0.2, grad_g=5.0, loss_d=0.5, loss_g=1.5, diversity=0.7):
    return {
        "step": step,
        "D(x)": d_real,
        "D(G(z))": d_fake,
        "grad/g": grad_g,
        "loss/d": loss_d,
        "loss/g": loss_g,
        "diversity": diversity,
    }


def test_a_won_discriminator_is_found_once_its_symptoms_last_a_whole_window():
    doctor = Doctor(DoctorConfig(window=100), LOGITS)
    healthy = [record(s) for s in range(10, 110, 10)]
    won = [record(s, d_real=1.0, d_fake=1e-4, grad_g=0.01) for s in range(110, 300, 10)]
    found = feed(doctor, healthy + won)
    # At step 200 the window (100, 200] holds only records of the won state, and the run has logged 190 steps.
    assert [(f.code, f.step) for f in found] == [("d-too-strong", 200)]
    assert found[0].values["grad/g_peak"] == 5.0 and "non-saturating" in str(found[0])


def test_a_confident_discriminator_with_live_gradients_is_no_finding():
    # The non-saturating loss keeps G's gradient alive while D(G(z)) is small: no vanishing gradient, no finding.
    doctor = Doctor(DoctorConfig(window=100), LOGITS)
    assert feed(doctor, [record(s, d_fake=1e-3, grad_g=8.0) for s in range(10, 400, 10)]) == []


def test_collapse_balance_oscillation_and_divergence_rules():
    collapse = feed(Doctor(DoctorConfig(window=50), LOGITS), [record(s, diversity=0.1) for s in range(10, 100, 10)])
    assert [f.code for f in collapse] == ["mode-collapse"]
    stuck = [record(s, d_real=0.52, d_fake=0.49, diversity=0.2) for s in range(10, 100, 10)]
    assert {f.code for f in feed(Doctor(DoctorConfig(window=50), LOGITS), stuck)} == {"d-not-learning", "mode-collapse"}
    critic = Doctor(DoctorConfig(window=50), AdversarialSignals(probabilities=False))  # no balance symptoms
    assert [f.code for f in feed(critic, stuck)] == ["mode-collapse"]
    no_signals = Doctor(DoctorConfig(window=50))  # a recipe that logs no discriminator outputs (a VAE)
    assert [f.code for f in feed(no_signals, stuck)] == ["mode-collapse"]
    calm = [record(s, loss_d=0.5 + 0.01 * (s % 20 == 0)) for s in range(10, 200, 10)]
    wild = [record(s, loss_d=0.5 + 3.0 * (s % 20 == 0)) for s in range(200, 300, 10)]
    swinging = feed(Doctor(DoctorConfig(window=50), LOGITS), calm + wild)
    assert [f.code for f in swinging] == ["oscillation"] and swinging[0].step == 200  # the first wild record
    assert feed(Doctor(DoctorConfig(window=50), LOGITS), calm) == []
    exploded = feed(Doctor(DoctorConfig(), LOGITS), [record(10, loss_g=2e4)])
    assert [(f.code, f.step) for f in exploded] == [("diverging", 10)]


def test_diversity_is_one_for_real_data_and_zero_for_copies():
    real = torch.randn(2000, 5, generator=torch.Generator().manual_seed(0))
    check = SampleCheck(real[:1000], lambda x: x, n=1000)
    assert check(real[1000:])["diversity"] == pytest.approx(1.0, abs=0.05)
    assert check(real[:1].expand(1000, -1))["diversity"] == 0.0
    assert mean_pairwise(torch.tensor([[0.0, 0.0], [3.0, 4.0]])) == 5.0


QUICK = [
    "device=cpu",
    "model.generator.width=32",
    "model.discriminator.width=32",
    "train.log_every=25",
    "train.sample_every=0",
    "train.checkpoint_every=0",
    "train.progress=false",
    "train.loggers=[jsonl]",
    "doctor.window=200",
]


def run(tmp_path, *overrides, prepare=None):
    cfg = load_config("dcgan-digits", [*QUICK, *overrides])
    trainer = build_trainer(cfg, RunDir.create(tmp_path / "run", cfg.name))
    if prepare is not None:
        prepare(trainer.recipe)
    trainer.fit()
    return trainer


def test_minimax_against_a_100x_faster_discriminator_is_diagnosed(tmp_path):
    trainer = run(tmp_path, "model.objective=minimax", "model.d_optim.lr=0.02", "train.steps=450")
    codes = {f.code: f.step for f in trainer.hook(TrainingDoctor).findings}
    assert "d-too-strong" in codes and codes["d-too-strong"] <= 450
    logged = [r for r in read_metrics(tmp_path / "run" / "metrics.jsonl") if r.get("doctor") == "d-too-strong"]
    assert len(logged) == 1 and logged[0]["step"] == codes["d-too-strong"] and "remedy" in logged[0]


def test_a_generator_that_ignores_z_is_diagnosed_as_collapsed(tmp_path):
    def ignore_z(recipe):
        forward = recipe.generator.forward
        recipe.generator.forward = lambda z: forward(torch.zeros_like(z))

    trainer = run(tmp_path, "train.steps=300", prepare=ignore_z)
    assert [f.code for f in trainer.hook(TrainingDoctor).findings] == ["mode-collapse"]
    assert trainer.hook(TrainingDoctor).findings[0].values["diversity"] < 1e-3


def test_a_linear_discriminator_that_cannot_tell_real_from_fake_is_diagnosed(tmp_path):
    trainer = run(tmp_path, "model.discriminator={arch: mlp, depth: 0}", "train.steps=700")
    assert "d-not-learning" in {f.code for f in trainer.hook(TrainingDoctor).findings}


def test_a_healthy_digits_run_raises_nothing(tmp_path):
    trainer = run(tmp_path, "train.steps=600")
    assert trainer.hook(TrainingDoctor).findings == []
    diversity = [r["diversity"] for r in read_metrics(tmp_path / "run" / "metrics.jsonl") if "diversity" in r]
    assert diversity[-1] > 0.5


def test_stop_action_saves_and_stops_a_hopeless_run(tmp_path):
    with pytest.raises(TrainingStopped, match="doctor stopped the run at step"):
        run(tmp_path, "model.objective=minimax", "model.d_optim.lr=0.02", "train.steps=2000", "doctor.action=stop")
    (checkpoint,) = RunDir(tmp_path / "run").checkpoints()
    stopped = int(checkpoint.stem.split("-")[1])
    assert stopped < 2000
    # Going on anyway, as the message suggests: the resumed doctor remembers its history and what it reported.
    resumed = resume_trainer(tmp_path / "run", [f"train.steps={stopped + 50}", "doctor.action=warn"])
    resumed.fit()
    doctor = resumed.hook(TrainingDoctor)
    assert "d-too-strong" in doctor.doctor.reported and "d-too-strong" not in {f.code for f in doctor.findings}
    assert [r["step"] for r in doctor.doctor.history][: stopped // 25] == list(range(25, stopped + 1, 25))
