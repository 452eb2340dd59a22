"""The training doctor: diagnoses the GAN failures the lecture notes teach from values the trainer already logs.

It runs once per logging interval on the interval means (no extra host syncs per step) plus one sample statistic
the trainer measures on a fixed latent batch at the same moment: ``diversity``, the mean pairwise distance of the
generated batch over that of a fixed real batch, in the feature space of the data set's shipped classifier when
there is one, else on pixels. Collapsed, blurred or untrained generators score far below 1 (a DCGAN at
initialisation about 0.03 on the digits; a healthy run 0.6-0.7 after a few hundred steps).
A symptom must hold on every record of the last ``window`` steps before it becomes a finding; each finding is
reported once, with the step, the measured values and the seeds' remedies.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Literal

import torch

from genlab.schema import Range, Section

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
        return {"step": self.step, "doctor": self.code, "message": self.message, "remedy": self.remedy, **self.values}

    def __str__(self) -> str:
        shown = ", ".join(f"{k} {v:.3g}" for k, v in self.values.items())
        return f"genlab doctor, step {self.step}: {self.message} ({shown}). Try: {self.remedy}."


@dataclass
class Doctor:
    """Keeps the logged records of a run and turns persistent symptoms into findings, each reported once."""

    cfg: DoctorConfig
    probabilities: bool = True
    """Whether D(x) and D(G(z)) are probabilities (logit objectives); the balance symptoms need them."""
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
        self.history = [r for r in records if "images_per_s" in r and "doctor" not in r]
        self.reported = {r["doctor"] for r in records if "doctor" in r}

    def _window(self) -> list[dict[str, float]] | None:
        """The records of the last ``window`` steps, when the run has logged that long (else None)."""
        last = self.history[-1]["step"]
        if last - self.history[0]["step"] < self.cfg.window:
            return None
        return [r for r in self.history if r["step"] > last - self.cfg.window]

    def _symptoms(self, record: dict[str, float]) -> list[Finding]:
        step = int(record["step"])
        found = []
        losses = {k: v for k, v in record.items() if k.startswith("loss/")}
        beyond = {k: v for k, v in losses.items() if abs(v) > self.cfg.loss_limit}
        if beyond:
            found.append(Finding("diverging", step, "a loss left its plausible range", beyond))
        window = self._window()
        if window is None:
            return found

        def always(test) -> bool:
            return all(test(r) for r in window)

        cfg = self.cfg
        if self.probabilities and "grad/g" in record:
            peak = max(r["grad/g"] for r in self.history)
            if always(lambda r: r["D(G(z))"] < cfg.d_fake_floor and r["grad/g"] < cfg.grad_drop * peak):
                values = {"D(G(z))": record["D(G(z))"], "grad/g": record["grad/g"], "grad/g_peak": peak}
                message = "the discriminator has won: it rejects every fake and G's gradient has vanished"
                found.append(Finding("d-too-strong", step, message, values))
        if "diversity" in record and always(lambda r: r.get("diversity", 1.0) < cfg.collapse_ratio):
            message = "mode collapse: generated samples are far less varied than real ones"
            found.append(Finding("mode-collapse", step, message, {"diversity": record["diversity"]}))
        if self.probabilities and "diversity" in record:
            balanced = always(
                lambda r: (
                    abs(r["D(x)"] - 0.5) < cfg.balance_band
                    and abs(r["D(G(z))"] - 0.5) < cfg.balance_band
                    and r.get("diversity", 1.0) < cfg.poor_diversity
                )
            )
            if balanced:
                values = {"D(x)": record["D(x)"], "D(G(z))": record["D(G(z))"], "diversity": record["diversity"]}
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
        for key in (k for k in window[-1] if k.startswith("loss/")):
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
        return {"diversity": float(spread / self.real_spread.clamp_min(1e-12))}


def mean_pairwise(x: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance over the distinct pairs of rows of ``x``."""
    n = len(x)
    return torch.cdist(x, x).sum() / (n * (n - 1))


def doctor_features(data_name: str, device: torch.device | str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The shipped classifier's features for its data set, else flattened pixels (or points)."""
    from genlab.metrics.features import load_classifier, shipped_classifiers

    if data_name in shipped_classifiers():
        classifier = load_classifier(data_name, device)
        return lambda images: classifier(images).features
    return lambda samples: samples.flatten(1)
