"""The names of logged values that one part of genlab writes and another reads, in one place.

A run's ``metrics.jsonl`` holds one JSON record per line. The trainer writes an interval record at every logging
point (:data:`STEP`, :data:`ELAPSED`, :data:`IMAGES_PER_S` and the interval means of whatever the recipe's
``train_step`` returned); hooks write records of their own (evaluations under :data:`EVAL_PREFIX`, mode
statistics, the doctor's findings). The training doctor, the reports and comparisons, and the labs read these
records back by the names below, so a recipe that wants the doctor's balance checks logs under these names and
says so with :class:`AdversarialSignals`.
"""

from __future__ import annotations

from dataclasses import dataclass

STEP = "step"
"""Every record: the number of training steps done when it was written."""
ELAPSED = "elapsed"
"""Interval records: seconds of training over all sessions of the run."""
IMAGES_PER_S = "images_per_s"
"""Interval records: real images drawn per second of training (hooks excluded)."""

LOSS_PREFIX = "loss/"
"""Every value a recipe logs under ``loss/NAME`` is a loss: the progress line shows it, the doctor watches it for
divergence and oscillation, the reports chart the losses together."""
D_LOSS = "loss/d"
G_LOSS = "loss/g"
D_REAL = "D(x)"
"""Mean discriminator output on the real batch (a probability for logit objectives, else the raw score)."""
D_FAKE = "D(G(z))"
"""Mean discriminator output on the generated batch."""
GRAD_PREFIX = "grad/"
GRAD_D = "grad/d"
"""Gradient norm of the discriminator's last update."""
GRAD_G = "grad/g"
"""Gradient norm of the generator's last update."""

DIVERSITY = "diversity"
"""The doctor's sample diversity (generated over real mean pairwise distance), added to interval records."""
EVAL_PREFIX = "eval/"
"""Evaluation records: ``eval/NAME`` for each value of the evaluation suite (``eval/fid``, ``eval/precision``)."""
MODES_COVERED = "modes/covered"
MODES_HIGH_QUALITY = "modes/high_quality"
MODES_REVERSE_KL = "modes/reverse_kl"
"""Mode-statistics records of runs on the 2-D mixtures, at every sample step."""

FINDING = "doctor"
"""Finding records: the finding's code (d-too-strong, mode-collapse, ...) under this key."""
MESSAGE = "message"
REMEDY = "remedy"


def is_loss(key: str) -> bool:
    return key.startswith(LOSS_PREFIX)


def is_interval_record(record: dict) -> bool:
    """Whether a record is one of the trainer's interval records (not an evaluation, mode statistics or finding)."""
    return IMAGES_PER_S in record and FINDING not in record


@dataclass(frozen=True)
class AdversarialSignals:
    """What a two-player recipe logs for the training doctor's balance checks (D too strong, D not learning):
    D's mean output on real and on generated samples and G's gradient norm, under these keys. The checks compare
    the outputs with 0.5, so they run only when the outputs are probabilities (logit objectives)."""

    probabilities: bool
    real_score: str = D_REAL
    fake_score: str = D_FAKE
    generator_grad: str = GRAD_G
