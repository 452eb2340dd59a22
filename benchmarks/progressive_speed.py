"""The progressive-growing speed claim (seed 004: "2-6x faster"), measured as wall time to a target FID.

    GENLAB_DATA=../shared/data python benchmarks/progressive_speed.py --target-fid 10 --device cuda

Trains ``progan-mnist`` (4x4 -> 32x32) and ``progan-fixed-mnist`` (the same final networks, objective and
optimiser at 32x32 from the first step) one after the other on the same device, with a checkpoint every
``--every`` steps and nothing else in the loop (no sample grids, no evaluation), so each checkpoint's ``elapsed``
is training time. Afterwards every checkpoint is scored with the evaluation suite (FID in the shipped MNIST
classifier's feature space, ``--n`` samples of the fixed evaluation seed against the training images) and the
script prints, for each arm, the first checkpoint at or below ``--target-fid`` and its training seconds, and the
ratio. ``--set KEY=VALUE`` applies to both arms (e.g. smaller ``model.generator.width`` on a CPU).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

import genlab
from genlab.metrics import EvalConfig, Evaluator
from genlab.runs import open_run
from genlab.train import load_checkpoint
from genlab.train.evaluation import evaluate_recipe

ARMS = ("progan-mnist", "progan-fixed-mnist")


def train(arm: str, args: argparse.Namespace) -> Path:
    out = Path(args.out) / arm
    overrides = [
        f"device={args.device}",
        f"train.steps={args.steps}",
        f"train.checkpoint_every={args.every}",
        "train.keep_checkpoints=100000",
        "train.sample_every=0",
        "train.report=false",
        *args.set,
    ]
    config = genlab.load_config(arm, overrides)
    return genlab.fit(config, out=out).run_dir


def score(run_dir: Path, args: argparse.Namespace) -> list[dict[str, float]]:
    """FID and training seconds of every checkpoint of a run."""
    rows, evaluator = [], None
    for checkpoint in sorted((run_dir / "checkpoints").glob("ckpt-*.pt")):
        run = open_run(checkpoint, args.device)
        if evaluator is None:
            evaluator = Evaluator(EvalConfig(n=args.n, metrics=("fid",)), run.config.data, run.recipe.device)
        result, _ = evaluate_recipe(evaluator, run.recipe)
        state = load_checkpoint(checkpoint)
        rows.append({"step": state["step"], "seconds": state["elapsed"], "fid": result.values["fid"]})
        print(f"{run_dir.name} step {state['step']}: {state['elapsed']:.0f} s, FID {result.values['fid']:.2f}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-fid", type=float, required=True)
    parser.add_argument("--steps", type=int, default=12000, help="training steps of each arm (default 12000)")
    parser.add_argument("--every", type=int, default=500, help="steps between scored checkpoints (default 500)")
    parser.add_argument("--n", type=int, default=5000, help="samples per FID (default 5000)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default="runs/progressive-speed")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    torch.manual_seed(0)
    results = {arm: score(train(arm, args), args) for arm in ARMS}
    reached = {arm: next((r for r in rows if r["fid"] <= args.target_fid), None) for arm, rows in results.items()}
    print(f"\n| arm | first checkpoint with FID <= {args.target_fid} | training seconds | final FID |")
    print("|---|---|---|---|")
    for arm, rows in results.items():
        hit = reached[arm]
        where = f"step {hit['step']}" if hit else "not reached"
        seconds = f"{hit['seconds']:.0f}" if hit else "-"
        print(f"| {arm} | {where} | {seconds} | {rows[-1]['fid']:.2f} |")
    growing, fixed = (reached[arm] for arm in ARMS)
    if growing and fixed:
        print(f"\nspeed-up to FID {args.target_fid}: {fixed['seconds'] / growing['seconds']:.2f}x")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "results.json").write_text(json.dumps({"target_fid": args.target_fid, **results}, indent=2))


if __name__ == "__main__":
    main()
