"""The training doctor: diagnoses the GAN failures the lecture notes teach from values the trainer already logs.

It is a hook (:class:`TrainingDoctor`) that runs once per logging interval on the interval means (no extra host
syncs per step) plus one sample statistic it measures on a fixed latent batch at the same moment and adds to the
interval record: ``diversity``, the mean pairwise distance of the
generated batch over that of a fixed real batch, in the feature space of the data set's shipped classifier when
there is one, else on pixels. Collapsed, blurred or untrained generators score far below 1 (a DCGAN at
initialisation about 0.03 on the digits; a healthy run 0.6-0.7 after a few hundred steps).
A symptom must hold on every record of the last ``window`` steps before it becomes a finding; each finding is
reported once, with the step, the measured values and the standard remedies. Divergence, oscillation and mode
collapse apply to any generator; the balance checks (D too strong, D not learning) only to recipes that say which
logged values hold their discriminator's outputs and that those are probabilities (``Recipe.signals``).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Literal

import torch

from genlab import keys
from genlab.errors import TrainingStopped
from genlab.hooks import Hook, Moment
from genlab.keys import AdversarialSignals
from genlab.metrics.features import load_classifier, shipped_classifiers
from genlab.schema import Range, Section
from genlab.train.logger import read_metrics

SAMPLE_CHECK_N = 64
"""Generated and real samples in the doctor's diversity statistic."""


class DoctorConfig(Section):
    """Live diagnosis of training failures; findings print once, go to metrics.jsonl and to the run's report."""

    enabled: bool = True
    action: Literal["warn", "stop"] = "warn"
    """warn: report and go on; stop: report, save a checkpoint and stop the run (for studies of many runs)."""
    window: Annotated[int, Range(ge=1)] = 300
    """Steps a symptom must persist (every logged record in them) before it is reported."""
    d_fake_floor: Annotated[float, Range(gt=0, lt=0.5)] = 0.05
    """D too strong: D(G(z)) below this ..."""
    grad_drop: Annotated[float, Range(gt=0, lt=1)] = 0.1
    """... while G's gradient norm is below this fraction of its largest value so far."""
    collapse_ratio: Annotated[float, Range(gt=0, lt=1)] = 0.3
    """Mode collapse: generated diversity below this fraction of the real data's."""
    balance_band: Annotated[float, Range(gt=0, lt=0.5)] = 0.05
    """D not learning: D(x) and D(G(z)) both within 0.5 ± this ..."""
    poor_diversity: Annotated[float, Range(gt=0, lt=1)] = 0.5
    """... while the samples stay poor: their diversity below this fraction of the real data's."""
    swing_factor: Annotated[float, Range(gt=1)] = 10.0
    """Oscillation: the losses' step-to-step changes over the window exceed this multiple of their earlier median."""
    loss_limit: Annotated[float, Range(gt=0)] = 1e4
    """Divergence: an interval's mean loss beyond ± this."""


REMEDIES = {
    "d-too-strong": "use the non-saturating loss (model.objective=nonsaturating), lower D's learning rate "
    "(model.d_optim.lr), one-sided label smoothing (real_target: 0.9), skip D steps while it wins "
    "(model.schedule=skip-strong-d), or a Wasserstein loss with a gradient penalty (wgan-gp) or spectral norm",
    "mode-collapse": "minibatch discrimination by packing (model.tricks.pack=2), replayed fakes "
    "(model.tricks.replay), a gradient penalty or spectral norm on D, or a Wasserstein loss",
    "oscillation": "lower both learning rates, Adam with beta1 = 0.5, an EMA of G for sampling (model.tricks.ema), "
    "or a gradient penalty (objective gp_weight) or spectral norm on D",
    "diverging": "lower both learning rates, use a bounded objective (nonsaturating, hinge) or add a gradient "
    "penalty (objective gp_weight) or spectral norm on D",
    "d-not-learning": "raise D's learning rate or D steps per G step (model.d_steps), give D more capacity, or "
    "check that D sees real data (data settings)",
}


@dataclass
class Finding:
    code: str
    step: int
    message: str
    values: dict[str, float] = field(default_factory=dict)

    @property
    def remedy(self) -> str:
        return REMEDIES[self.code]

    def record(self) -> dict[str, object]:
        """What goes to metrics.jsonl."""
        found = {keys.FINDING: self.code, keys.MESSAGE: self.message, keys.REMEDY: self.remedy}
        return {keys.STEP: self.step, **found, **self.values}

    def __str__(self) -> str:
        shown = ", ".join(f"{k} {v:.3g}" for k, v in self.values.items())
        return f"genlab doctor, step {self.step}: {self.message} ({shown}). Try: {self.remedy}."


@dataclass
class Doctor:
    """Keeps the logged records of a run and turns persistent symptoms into findings, each reported once."""

    cfg: DoctorConfig
    signals: AdversarialSignals | None = None
    """Where a two-player recipe logs its balance; the balance symptoms need it, with probabilities."""
    history: list[dict[str, float]] = field(default_factory=list)
    reported: set[str] = field(default_factory=set)

    def check(self, record: dict[str, float]) -> list[Finding]:
        """Add one logged record (interval means, plus ``diversity`` when measured); new findings."""
        self.history.append(record)
        found = [f for f in self._symptoms(record) if f.code not in self.reported]
        self.reported.update(f.code for f in found)
        return found

    def restore(self, records: list[dict]) -> None:
        """Take up a resumed run: its logged interval records become the history, its findings stay reported."""
        self.history = [r for r in records if keys.is_interval_record(r)]
        self.reported = {r[keys.FINDING] for r in records if keys.FINDING in r}

    def _window(self) -> list[dict[str, float]] | None:
        """The records of the last ``window`` steps, when the run has logged that long (else None)."""
        last = self.history[-1]["step"]
        if last - self.history[0]["step"] < self.cfg.window:
            return None
        return [r for r in self.history if r["step"] > last - self.cfg.window]

    def _symptoms(self, record: dict[str, float]) -> list[Finding]:
        step = int(record[keys.STEP])
        found = []
        losses = {k: v for k, v in record.items() if keys.is_loss(k)}
        beyond = {k: v for k, v in losses.items() if abs(v) > self.cfg.loss_limit}
        if beyond:
            found.append(Finding("diverging", step, "a loss left its plausible range", beyond))
        window = self._window()
        if window is None:
            return found

        def always(test) -> bool:
            return all(test(r) for r in window)

        cfg, signals, diversity = self.cfg, self.signals, keys.DIVERSITY
        balance = (
            signals is not None and signals.probabilities and {signals.real_score, signals.fake_score} <= set(record)
        )
        if balance and signals.generator_grad in record:
            fake, grad = signals.fake_score, signals.generator_grad
            peak = max(r[grad] for r in self.history)
            if always(lambda r: r[fake] < cfg.d_fake_floor and r[grad] < cfg.grad_drop * peak):
                values = {fake: record[fake], grad: record[grad], f"{grad}_peak": peak}
                message = "the discriminator has won: it rejects every fake and G's gradient has vanished"
                found.append(Finding("d-too-strong", step, message, values))
        if diversity in record and always(lambda r: r.get(diversity, 1.0) < cfg.collapse_ratio):
            message = "mode collapse: generated samples are far less varied than real ones"
            found.append(Finding("mode-collapse", step, message, {diversity: record[diversity]}))
        if balance and diversity in record:
            real, fake = signals.real_score, signals.fake_score
            stuck = always(
                lambda r: (
                    abs(r[real] - 0.5) < cfg.balance_band
                    and abs(r[fake] - 0.5) < cfg.balance_band
                    and r.get(diversity, 1.0) < cfg.poor_diversity
                )
            )
            if stuck:
                values = {real: record[real], fake: record[fake], diversity: record[diversity]}
                message = "the discriminator is not learning: it scores real and fake alike while samples stay poor"
                found.append(Finding("d-not-learning", step, message, values))
        swings = self._swings(window)
        if swings:
            found.append(Finding("oscillation", step, "the losses swing far more than earlier in training", swings))
        return found

    def _swings(self, window: list[dict[str, float]]) -> dict[str, float]:
        """Loss keys whose mean step-to-step change over the window exceeds ``swing_factor`` x the earlier median."""
        earlier = self.history[: len(self.history) - len(window)]
        if len(earlier) < 3 or len(window) < 2:
            return {}
        swings = {}
        for key in (k for k in window[-1] if keys.is_loss(k)):
            before = sorted(abs(b[key] - a[key]) for a, b in itertools.pairwise(earlier))
            now = [abs(b[key] - a[key]) for a, b in itertools.pairwise(window)]
            baseline = max(before[len(before) // 2], 1e-6)
            if sum(now) / len(now) > self.cfg.swing_factor * baseline:
                swings[f"{key}_swing"] = sum(now) / len(now)
        return swings


class SampleCheck:
    """Diversity of a fixed generated batch relative to a fixed real batch, in one feature space.

    ``features`` maps a batch to (N, F) vectors (a classifier's penultimate layer, or flattened pixels); the real
    batch's spread is computed once.
    """

    def __init__(self, real: torch.Tensor, features: Callable[[torch.Tensor], torch.Tensor], n: int = SAMPLE_CHECK_N):
        self.n = min(n, len(real))
        self.features = features
        self.real_spread = mean_pairwise(features(real[: self.n]))

    def __call__(self, generated: torch.Tensor) -> dict[str, float]:
        spread = mean_pairwise(self.features(generated[: self.n]))
        return {keys.DIVERSITY: float(spread / self.real_spread.clamp_min(1e-12))}


def mean_pairwise(x: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance over the distinct pairs of rows of ``x``."""
    n = len(x)
    return torch.cdist(x, x).sum() / (n * (n - 1))


def doctor_features(data_name: str, device: torch.device | str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The shipped classifier's features for its data set, else flattened pixels (or points)."""
    if data_name in shipped_classifiers():
        classifier = load_classifier(data_name, device)
        return lambda images: classifier(images).features
    return lambda samples: samples.flatten(1)


class TrainingDoctor(Hook):
    """The doctor as a hook: at every logging point it adds the diversity of ``sample``'s fixed latent batch (seed
    ``seed``) against the ``real`` batch to the interval record, diagnoses the record, prints each new finding
    once and writes it to metrics.jsonl; with ``doctor.action: stop`` it stops the run (the trainer saves a
    checkpoint). A resumed run's doctor takes up the records logged so far and the findings already reported.
    """

    def __init__(
        self,
        cfg: DoctorConfig,
        signals: AdversarialSignals | None,
        sample: Callable[..., torch.Tensor],
        real: torch.Tensor,
        features: Callable[[], Callable[[torch.Tensor], torch.Tensor]],
        every: int,
        seed: int,
    ):
        self.cfg, self.doctor = cfg, Doctor(cfg, signals)
        self.sample, self.real, self.features = sample, real, features
        self.every, self.seed = every, seed
        self.findings: list[Finding] = []
        self._check: SampleCheck | None = None

    def start(self, moment: Moment) -> None:
        if moment.step > 0:
            self.doctor.restore([r for r in read_metrics(moment.run_dir / "metrics.jsonl") if r["step"] <= moment.step])

    def measure(self, record: Mapping[str, float]) -> dict[str, float]:
        if self._check is None:  # built on first use: loads the feature network
            self._check = SampleCheck(self.real, self.features())
        samples = self.sample(self._check.n, generator=torch.Generator().manual_seed(self.seed))
        return self._check(samples)

    def __call__(self, moment: Moment) -> None:
        if moment.record is None:
            return
        found = self.doctor.check(dict(moment.record))
        for finding in found:
            print(finding, file=sys.stderr)
            moment.log.write(finding.record())
        self.findings += found
        if found and self.cfg.action == "stop":
            raise TrainingStopped(
                f"the training doctor stopped the run at step {moment.step} (doctor.action: stop): "
                f"{found[0].message}. A checkpoint was saved; to go on anyway: genlab train --resume "
                f"{moment.run_dir} --set doctor.action=warn"
            )
