"""Training small runs for tests and comparing complete training states bit for bit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from genlab.build import build_trainer, resume_trainer
from genlab.config import Config
from genlab.train import RunDir, Trainer


def train(cfg: Config, folder: Path) -> Trainer:
    """A trainer that has trained ``cfg`` to its last step in a new run folder ``folder``."""
    trainer = build_trainer(cfg, RunDir.create(folder, cfg.name))
    trainer.fit()
    return trainer


def straight_and_resumed(
    make_config: Callable[..., Config], steps: int, stop: int, folder: Path, *overrides: str
) -> tuple[Trainer, Trainer]:
    """A run trained straight to ``steps``, and a trainer resumed (not yet fitted) from a run stopped at ``stop``:
    fitting the second must end in exactly the state of the first. The runs are ``folder``/full and /half."""
    full = train(make_config(f"train.steps={steps}", *overrides), folder / "full")
    train(make_config(f"train.steps={stop}", *overrides), folder / "half")
    return full, resume_trainer(folder / "half", [f"train.steps={steps}"])


def assert_same(a, b, where: str = "state") -> None:
    """Recursively assert two checkpoint-like structures are identical (tensors compared exactly)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b), f"{where} differs"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for key in a:
            assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"
