"""Evaluating a recipe's generator with the evaluation suite: once (``genlab eval``) or periodically during training
(the :class:`Evaluation` hook, ``eval.every``).

The metrics take samples and a sampling callable, never a recipe; this module is where a recipe's generator, its
classes and its discriminator are handed to them.
"""

from __future__ import annotations

import torch

from genlab import keys
from genlab.data import DataConfig
from genlab.errors import ConfigError, GenlabError
from genlab.hooks import Hook, Moment
from genlab.metrics import EvalConfig, EvalResult, Evaluator
from genlab.models import Recipe


def evaluate_recipe(evaluator: Evaluator, recipe: Recipe) -> tuple[EvalResult, torch.Tensor]:
    """Score ``evaluator.cfg.n`` samples of a recipe's generator from the fixed latent seed ``eval.seed``.

    A conditional generator draws balanced classes, which the classwise metric compares with the classifier's
    verdicts; the probe reads an unconditional discriminator (a conditional one needs labels it cannot be given).
    Returns the result and the samples (for figures).
    """
    labels = recipe.default_labels(evaluator.cfg.n)
    discriminator = recipe.networks.get("discriminator") if recipe.num_classes is None else None
    return evaluator.evaluate_generator(recipe.sample, labels, discriminator)


class Evaluation(Hook):
    """Every ``cfg.every`` steps (and after the last), score the recipe's generator against ``data`` with ``cfg``'s
    metrics; the values are logged as ``eval/NAME`` records. The evaluator (its feature network) is built with the
    hook, before step 1: a wrong eval.features or weights file found at the first evaluation would stop a run that
    has no checkpoint yet. The real features are computed at the first evaluation."""

    def __init__(self, recipe: Recipe, cfg: EvalConfig, data: DataConfig, device: torch.device):
        self.recipe = recipe
        self.every = cfg.every
        try:
            self.evaluator = Evaluator(cfg, data, device)
        except GenlabError as exc:
            raise ConfigError(
                f"evaluation during training (eval.every: {cfg.every}) cannot start: {str(exc).rstrip('.')}. Fix the "
                "eval settings (eval.features, eval.inception_weights, eval.metrics), or set eval.every=0 to train "
                "without it"
            ) from None

    def __call__(self, moment: Moment) -> None:
        result, _ = evaluate_recipe(self.evaluator, self.recipe)
        moment.log.write({keys.STEP: moment.step, **{keys.EVAL_PREFIX + k: v for k, v in result.values.items()}})
