"""Lazy regularisation and an EMA counted in images (issue 21 item 8): what each costs and what each gives.

    GENLAB_DATA=../shared/data OMP_NUM_THREADS=1 python benchmarks/lazy_reg_ema.py --rounds 8 --seeds 0 1 --steps 800

(On a machine shared with other jobs, one torch thread per process: two threads spinning against other processes
made these steps 10-70x slower.)

The runs train ``r1-mnist`` (the non-saturating GAN with the R1 penalty, weight 1) scaled to this CPU: 16x16,
width-32 G and D, batch 64, the full training split.

* Speed: one process builds three recipes (no penalty, ``penalty_every: 1``, ``penalty_every: 4``) and times their
  training steps in alternating rounds of ``--round-steps`` steps, so that a slow phase of a shared machine hits
  all of them; the median seconds per step of ``--rounds`` rounds is reported.
* Quality: for each seed, ``penalty_every`` 1 and 4 are trained for ``--steps`` steps with
  ``tricks.ema: {half_life_images: 10000, rampup: 0.05}``; FID (the shipped MNIST classifier's features, ``--n``
  samples, latent seed 0, against the 10,000 test images) of the trained G and of its EMA copy from the same run.

One JSON line per measurement is appended to ``benchmarks/lazy_reg_ema.jsonl``.
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
from genlab.config import load_config, read_run_config
from genlab.data import Sampler, load_dataset
from genlab.metrics import EvalConfig, Evaluator
from genlab.models.gan import generate
from genlab.train import RunDir

SCALED = ["data.size=16", "model.generator.width=32", "model.discriminator.width=32"]
SPEED_ARMS = {
    "no penalty": ["model.objective={name: nonsaturating}"],
    "penalty_every: 1": ["model.objective.penalty_every=1"],
    "penalty_every: 4": ["model.objective.penalty_every=4"],
}
EMA = "model.tricks.ema={half_life_images: 10000, rampup: 0.05}"
QUIET = ["train.sample_every=0", "train.checkpoint_every=0", "train.progress=false", "train.loggers=[jsonl]"]
LOG = Path(__file__).with_name("lazy_reg_ema.jsonl")


def record(row: dict) -> None:
    print(json.dumps(row), flush=True)
    with LOG.open("a") as handle:
        handle.write(json.dumps(row) + "\n")


def speed(rounds: int, round_steps: int) -> None:
    device = torch.device("cpu")
    steps, samplers = {}, {}
    for arm, overrides in SPEED_ARMS.items():
        cfg = load_config("r1-mnist", [*SCALED, *overrides])
        data = load_dataset(cfg.data)
        torch.manual_seed(0)
        recipe = cfg.model.build(data.shape, None, device)
        samplers[arm] = Sampler(data, cfg.train.batch_size, 0, device)
        steps[arm] = recipe
    times: dict[str, list[float]] = {arm: [] for arm in SPEED_ARMS}
    step = 0
    for round_index in range(rounds + 1):  # round 0 warms up (allocations, oneDNN plans) and is not counted
        for arm, recipe in steps.items():
            start = time.perf_counter()
            for offset in range(round_steps):
                recipe.train_step(samplers[arm].next, step + offset)
            if round_index:
                times[arm].append((time.perf_counter() - start) / round_steps)
        step += round_steps
    base = statistics.median(times["penalty_every: 1"])
    for arm, seconds in times.items():
        median = statistics.median(seconds)
        record({"part": "speed", "arm": arm, "s_per_step": round(median, 4), "vs_every_1": round(base / median, 3)})


def fid(run_dir: Path, n: int, ema: bool) -> float:
    """FID of the run's EMA copy of G (``ema``) or of G itself, against the whole test split."""
    recipe = api.load_run(run_dir, device="cpu")
    data = read_run_config(RunDir(run_dir)).data
    evaluator = Evaluator(EvalConfig(metrics=("fid",), n=n, real_split="test"), data, torch.device("cpu"))
    net = recipe.ema.net if ema else recipe.generator

    def sample(count: int, generator: torch.Generator, labels: None = None) -> torch.Tensor:
        return generate(net, recipe.latents(count, generator=generator))

    return evaluator.evaluate_generator(sample)[0].values["fid"]


def quality(seeds: list[int], steps: int, n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            for every in (1, 4):
                overrides = [*SCALED, *QUIET, EMA, f"model.objective.penalty_every={every}"]
                overrides += [f"seed={seed}", f"train.steps={steps}", f"train.log_every={steps}"]
                start = time.perf_counter()
                run = api.fit("r1-mnist", overrides, out=Path(tmp) / f"every{every}-{seed}").run_dir
                train_s = round(time.perf_counter() - start, 1)
                row = {"part": "quality", "penalty_every": every, "seed": seed, "steps": steps, "n": n}
                row |= {"fid_g": fid(run, n, ema=False), "fid_ema": fid(run, n, ema=True), "train_s": train_s}
                record(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="timed rounds (0 skips the speed part)")
    parser.add_argument("--round-steps", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1], help="none skips the quality part")
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--n", type=int, default=2000, help="generated samples per FID")
    args = parser.parse_args()
    if args.rounds:
        speed(args.rounds, args.round_steps)
    quality(args.seeds, args.steps, args.n)


if __name__ == "__main__":
    main()
