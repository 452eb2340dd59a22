"""Recipes: one per model family, each composing nets, objective and optimisers behind ``train_step``."""

from genlab.models.base import RECIPES, ModelConfig, Recipe
from genlab.registry import import_submodules

import_submodules(__name__, __path__)

__all__ = ["RECIPES", "ModelConfig", "Recipe"]
