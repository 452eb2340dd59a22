"""Classifier-guided edits: move z along a classifier's gradient until the generated image shows what is wanted.

Seed 003's controllable generation: starting from z, repeat z ← z + η ∂ log C_target(G(z)) / ∂z until the
classifier's probability of the target (a class, or any feature with a probability) reaches ``p`` or the step
budget runs out. No labelled data or retraining is needed, only a differentiable classifier. How far z moved
(‖Δz‖) tells how much of the image had to change; edits that leave the region the generator knows show as failures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from genlab.schema import POSITIVE, Interval, check_arguments

LogProb = Callable[[torch.Tensor], torch.Tensor]
"""Images (N, ...) -> log-probability (N,) of the wanted class or feature, differentiable."""


@dataclass
class EditResult:
    z_before: torch.Tensor
    z_after: torch.Tensor
    prob_before: torch.Tensor
    prob_after: torch.Tensor
    steps: torch.Tensor
    """Gradient steps each edit took until it reached ``p`` (the budget when it never did)."""
    success: torch.Tensor
    already: torch.Tensor
    """Samples that met the target before any step; they are left out of the summary."""

    def summary(self) -> dict[str, float | int | None]:
        """Success rate, mean steps and mean ‖Δz‖ of the successful edits, over the samples that needed an edit.

        The means are None (null in JSON, not NaN) when no edit succeeded: there is nothing to average."""
        edited = ~self.already
        done = self.success & edited
        moved = (self.z_after - self.z_before).norm(dim=1)
        n_edited, n_done = int(edited.sum()), int(done.sum())

        def mean(values: torch.Tensor) -> float | None:
            return float(values[done].float().mean()) if n_done else None

        return {
            "edited": n_edited,
            "already_target": int(self.already.sum()),
            "succeeded": n_done,
            "success_rate": n_done / max(n_edited, 1),
            "mean_steps": mean(self.steps),
            "mean_dz": mean(moved),
            "mean_dz_relative": mean(moved / self.z_before.norm(dim=1)),
        }


def class_log_prob(logits_fn: Callable[[torch.Tensor], torch.Tensor], target: int) -> LogProb:
    """log C_target from a function returning class logits."""
    return lambda images: logits_fn(images).log_softmax(dim=1)[:, target]


def guided_edit(
    decode: Callable[[torch.Tensor], torch.Tensor],
    log_prob: LogProb,
    z: torch.Tensor,
    *,
    lr: float = 0.5,
    p: float = 0.9,
    max_steps: int = 200,
    normalize: bool = True,
) -> EditResult:
    """Gradient ascent on ``log_prob(decode(z))`` for every row of ``z``, each stopping once its probability ≥ ``p``.

    ``normalize`` divides each gradient by its norm, so every step moves z by exactly ``lr``: plain steps shrink with
    1 − C_target as the probability rises (the gradient of its log does), and the last stretch to ``p`` is slow.
    Only unfinished rows are decoded and moved, so a finished edit is not pushed further; each step costs one
    forward and one backward pass of G and the classifier on those rows.
    """
    check_arguments(lr=(lr, POSITIVE), p=(p, Interval(gt=0, lt=1)), max_steps=(max_steps, Interval(ge=0)))
    z_before = z.detach().clone()
    current = z_before.clone()
    steps = torch.full((len(z),), max_steps, dtype=torch.long, device=z.device)
    success = torch.zeros(len(z), dtype=torch.bool, device=z.device)
    prob_before = torch.empty(len(z), device=z.device)
    already = torch.zeros(len(z), dtype=torch.bool, device=z.device)
    for step in range(max_steps + 1):
        active = (~success).nonzero().flatten()
        if len(active) == 0:
            break
        last = step == max_steps
        z_active = current[active].requires_grad_(not last)
        with torch.set_grad_enabled(not last):
            value = log_prob(decode(z_active))
        reached = value.detach().exp() >= p
        if step == 0:
            prob_before = value.detach().exp()
            already = reached.clone()
        success[active[reached]] = True
        steps[active[reached]] = step
        if not last:
            (grad,) = torch.autograd.grad(value.sum(), z_active)
            if normalize:
                grad = grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
            moving = active[~reached]
            current[moving] = (z_active + lr * grad).detach()[~reached]
    with torch.no_grad():
        prob_after = log_prob(decode(current)).exp()
    return EditResult(z_before, current, prob_before, prob_after, steps, success, already)
