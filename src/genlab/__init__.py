"""genlab: train, evaluate and explore generative image models with one trainer and typed configs.

    import genlab
    result = genlab.fit("dcgan-digits", ["train.steps=500"])
    images = genlab.sample(result.run_dir, n=16)          # (16, C, H, W) in [-1, 1]
    genlab.interpolate(result.run_dir, steps=10)           # RUN_DIR/latent/interpolate-slerp.png

Heavy modules (torch, matplotlib) load on first use, so ``genlab --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.3.0"

_API = {
    "fit": "genlab.api",
    "resume": "genlab.api",
    "sample": "genlab.api",
    "load_run": "genlab.api",
    "load_generator": "genlab.generators",
    "load_export": "genlab.generators",
    "export_generator": "genlab.export",
    "demo": "genlab.api",
    "evaluate": "genlab.api",
    "evaluate_images": "genlab.api",
    "likelihood": "genlab.api",
    "pretrain_finetune": "genlab.api",
    "translate": "genlab.api",
    "train_classifier": "genlab.api",
    "interpolate": "genlab.api",
    "arithmetic": "genlab.api",
    "edit": "genlab.api",
    "direction": "genlab.api",
    "embed": "genlab.api",
    "traverse": "genlab.api",
    "ae_vs_vae": "genlab.api",
    "report": "genlab.api",
    "compare": "genlab.api",
    "judge": "genlab.api",
    "judge_score": "genlab.api",
    "load_config": "genlab.config",
    "Config": "genlab.config",
    "Trainer": "genlab.train",
    "build_trainer": "genlab.build",
    "resume_trainer": "genlab.build",
    "as_image_set": "genlab.data.custom",
    "RunDir": "genlab.train",
    "load_dataset": "genlab.data",
    "DataConfig": "genlab.data",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'genlab' has no attribute '{name}'")
