"""Mode coverage of every GAN objective and the main tricks on the 2-D mixtures (PacGAN's Table 1 protocol).

    python benchmarks/modes_2d.py --save modes.jsonl    # everything: about 19 min on 2 CPU cores
    python benchmarks/modes_2d.py --load modes.jsonl    # the tables again, from the saved results
    python benchmarks/modes_2d.py --only nonsaturating pacgan2 --seeds 0 --data grid25
    python benchmarks/modes_2d.py --only ebgan --set model.objective.pt_weight=0.1 --label ebgan-pt   # a variant

Every entry is a ready config from configs/ (``<name>-grid25.yaml``, ``<name>-ring8.yaml``): the same MLP
generator and discriminator and the same generator-step budget for all, differing only in objective, schedule and
tricks. After training, 2,500 samples (fixed latent seed) are scored with genlab.metrics.modes: modes covered,
high-quality share (within 3 std of the nearest mean) and reverse KL of the high-quality mode histogram to the
uniform one. Runs go ``--jobs`` at a time, one thread each; the table reports mean ± std over seeds.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

ENTRIES = (
    "minimax",
    "nonsaturating",
    "lsgan",
    "wgan",
    "wgan-gp",
    "hinge",
    "ragan",
    "rsgan",
    "ebgan",
    "began",
    "label-smoothing",
    "spectral-norm",
    "pacgan2",
    "r1",
)
SLOW = ("wgan", "wgan-gp")
"""Entries with 5 critic steps per generator step: about 3x (4x with the penalty) the time of the others."""
QUIET = [
    "train.progress=false",
    "train.loggers=[jsonl]",
    "train.sample_every=0",
    "train.checkpoint_every=0",
    "train.report=false",
]
SAMPLE_SEED = 12345


def run_one(entry: str, data: str, seed: int, overrides: tuple[str, ...] = (), label: str | None = None) -> dict:
    """Train one config with one seed (and ``overrides``, ``--set`` style) and score 2,500 samples, reported under
    ``label`` (default: the entry); runs in a worker process with one thread."""
    torch.set_num_threads(1)
    from genlab.build import build_trainer
    from genlab.config import load_config
    from genlab.data.toy import MIXTURES
    from genlab.metrics.modes import MODE_SAMPLES, mode_stats
    from genlab.train import RunDir

    cfg = load_config(f"{entry}-{data}", [f"seed={seed}", *QUIET, *overrides])
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        trainer = build_trainer(cfg, RunDir.create(Path(folder) / "run", cfg.name))
        trainer.fit()
        seconds = time.perf_counter() - start
        samples = trainer.recipe.sample(MODE_SAMPLES, generator=torch.Generator().manual_seed(SAMPLE_SEED))
    stats = mode_stats(samples, MIXTURES[data])
    return {"entry": label or entry, "data": data, "seed": seed, "seconds": seconds, **stats.as_dict()}


def mean_std(values: list[float], digits: int) -> str:
    """Mean ± std of the finite values; reverse KL is undefined (NaN) for a run without high-quality samples."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "undefined"
    spread = statistics.stdev(finite) if len(finite) > 1 else 0.0
    text = f"{statistics.mean(finite):.{digits}f} ± {spread:.{digits}f}"
    missing = len(values) - len(finite)
    return text + (f" ({missing} undefined)" if missing else "")


def table(results: list[dict], data: str, entries: list[str]) -> str:
    lines = [
        f"**{data}** (mean ± std over seeds)",
        "",
        "| config | modes covered | high quality % | reverse KL | every seed on target | wall time (s) |",
        "|---|---|---|---|---|---|",
    ]
    for entry in entries:
        rows = [r for r in results if r["entry"] == entry and r["data"] == data]
        if not rows:
            continue
        on_target = all(
            r["modes_covered"] == r["num_modes"] and r["high_quality"] >= 0.95 and r["reverse_kl"] <= 0.03 for r in rows
        )
        lines.append(
            f"| {entry} | {mean_std([r['modes_covered'] for r in rows], 1)} "
            f"| {mean_std([100 * r['high_quality'] for r in rows], 1)} "
            f"| {mean_std([r['reverse_kl'] for r in rows], 3)} | {'yes' if on_target else 'no'} "
            f"| {mean_std([r['seconds'] for r in rows], 0)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", default=list(ENTRIES), metavar="NAME", help="entries to run")
    parser.add_argument("--data", nargs="+", default=["grid25", "ring8"], choices=["grid25", "ring8"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (one thread each)")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="config overrides for every run")
    parser.add_argument("--label", help="name the results of a single --only entry run with --set")
    parser.add_argument("--save", type=Path, help="append each run's result to this JSON-lines file")
    parser.add_argument("--load", type=Path, help="print the tables of a --save file instead of training")
    args = parser.parse_args()
    if args.label and len(args.only) != 1:
        parser.error("--label names one entry's results: give exactly one --only entry")
    if args.load:
        results = [json.loads(line) for line in args.load.read_text().splitlines() if line.strip()]
        for data in args.data:
            print(table(results, data, args.only), end="\n\n")
        return

    jobs = [(entry, data, seed) for data in args.data for entry in args.only for seed in args.seeds]
    # Longest first (critic-heavy objectives, the larger grid budget), so the two workers finish together.
    jobs.sort(key=lambda job: (job[0] in SLOW, job[1] == "grid25"), reverse=True)
    start = time.perf_counter()
    results = []
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_one, *job, tuple(args.set), args.label) for job in jobs]
        for future in futures:  # submission order, so the log is grouped; the table is sorted below
            result = future.result()
            results.append(result)
            if args.save:
                with args.save.open("a") as handle:
                    handle.write(json.dumps(result) + "\n")
            print(
                f"{result['entry']:>16} {result['data']:>6} seed {result['seed']}: {result['modes_covered']}/"
                f"{result['num_modes']} modes, {100 * result['high_quality']:.1f}% HQ, "
                f"reverse KL {result['reverse_kl']:.3f}, {result['seconds']:.0f} s",
                flush=True,
            )
    print(f"\n{len(jobs)} runs in {time.perf_counter() - start:.0f} s with {args.jobs} jobs\n")
    for data in args.data:
        print(table(results, data, [args.label] if args.label else args.only), end="\n\n")


if __name__ == "__main__":
    main()
