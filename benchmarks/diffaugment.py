"""DiffAugment on a small data set: classifier FID of a small DCGAN trained on 500 MNIST images, with and without.

    GENLAB_DATA=../shared/data python benchmarks/diffaugment.py --seeds 0 1 --steps 800

Both arms train ``dcgan-mnist`` at 16x16 with width-32 networks, batch 64, on the first 500 training images
(``data.limit=500``), for the same steps and from the same seed; the second arm adds ``model.augment`` with the
paper's full policy (color, translation, cutout; p = 1). ``--arms`` adds the variants: ``translation-cutout``
(no colour change, which on one-channel digits moves the black background) and ``shared`` (the full policy with
every parameter shared by real image i and fake image i of a step). FID is taken with the shipped MNIST
classifier's features on ``--n`` samples against the 10,000 held-out test images, which neither arm trained on.
One JSON line per run is appended to ``benchmarks/diffaugment.jsonl``; a Markdown table of FID and wall time is
printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from genlab import api
from genlab.config import read_run_config
from genlab.metrics import EvalConfig, Evaluator
from genlab.train import RunDir
from genlab.train.evaluation import evaluate_recipe

ARMS = {
    "plain": [],
    "diffaugment": ["model.augment={policy: [color, translation, cutout], p: 1}"],
    "translation-cutout": ["model.augment={policy: [translation, cutout], p: 1}"],
    "shared": ["model.augment={policy: [color, translation, cutout], p: 1, shared: [color, translation, cutout]}"],
}
COMMON = [
    "data.limit=500",
    "model.generator.width=32",
    "model.discriminator.width=32",
    "train.sample_every=0",
    "train.checkpoint_every=0",
    "train.progress=false",
    "train.loggers=[jsonl]",
    "data.size=16",
]
LOG = Path(__file__).with_name("diffaugment.jsonl")


def one_run(arm: str, seed: int, steps: int, n: int, folder: Path) -> dict:
    overrides = [*COMMON, f"seed={seed}", f"train.steps={steps}", f"train.log_every={steps}", *ARMS[arm]]
    start = time.perf_counter()
    result = api.fit("dcgan-mnist", overrides, out=folder / f"{arm}-{seed}")
    train_s = time.perf_counter() - start
    return {
        "arm": arm,
        "seed": seed,
        "steps": steps,
        "n": n,
        "fid": fid(result.run_dir, n),
        "train_s": round(train_s, 1),
    }


def fid(run_dir: Path, n: int) -> float:
    """FID of ``n`` samples against the whole test split: the run's data config caps every split at 500 images."""
    recipe = api.load_run(run_dir, device="cpu")
    data = read_run_config(RunDir(run_dir)).data.model_copy(update={"limit": None})
    evaluator = Evaluator(EvalConfig(metrics=("fid",), n=n, real_split="test"), data, torch.device("cpu"))
    return evaluate_recipe(evaluator, recipe)[0].values["fid"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--n", type=int, default=2000, help="generated samples per FID")
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=["plain", "diffaugment"])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for arm in args.arms:
                row = one_run(arm, seed, args.steps, args.n, Path(tmp))
                print(json.dumps(row), flush=True)
                with LOG.open("a") as handle:
                    handle.write(json.dumps(row) + "\n")
                rows.append(row)
    print("| arm | " + " | ".join(f"FID seed {s}" for s in args.seeds) + " | mean FID | train s (mean) |")
    print("|---|" + "---|" * (len(args.seeds) + 2))
    for arm in args.arms:
        mine = [r for r in rows if r["arm"] == arm]
        fids = " | ".join(f"{r['fid']:.2f}" for r in mine)
        mean_fid = statistics.mean(r["fid"] for r in mine)
        print(f"| {arm} | {fids} | {mean_fid:.2f} | {statistics.mean(r['train_s'] for r in mine):.0f} |")


if __name__ == "__main__":
    main()
