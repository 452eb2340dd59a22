"""Wall time of the evaluation suite: FID + KID + precision/recall on 10,000 MNIST samples, domain classifier.

    GENLAB_DATA=../shared/data python benchmarks/eval_speed.py
    GENLAB_DATA=../shared/data python benchmarks/eval_speed.py --run runs/dcgan-mnist-... --repeats 5

The generated samples come from the run's generator, or (without --run) from a freshly initialised generator of
the `dcgan-mnist` config, which costs the same to sample. The real reference is computed once (its time is shown
separately) and then read from the cache, as in every evaluation after the first. Each repeat times the whole
evaluation: sampling, feature extraction and the three metrics; the median is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from train_speed import machine

from genlab.api import load_run
from genlab.config import load_config
from genlab.metrics import EvalConfig, Evaluator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="run folder whose generator to sample (default: untrained dcgan-mnist G)")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    cfg = load_config("dcgan-mnist", ["device=cpu"])
    recipe = load_run(args.run, "cpu") if args.run else cfg.model.build((1, 32, 32), 10, torch.device("cpu"))
    eval_cfg = EvalConfig(n=args.n, metrics=("fid", "kid", "pr"))
    with tempfile.TemporaryDirectory() as cache:
        os.environ["GENLAB_CACHE"] = cache
        evaluator = Evaluator(eval_cfg, cfg.data, "cpu")
        start = time.perf_counter()
        evaluator.reference()
        reference_s = time.perf_counter() - start
        timings, parts = [], []
        for repeat in range(args.repeats):
            t0 = time.perf_counter()
            samples = recipe.sample(args.n, generator=torch.Generator().manual_seed(repeat))
            t1 = time.perf_counter()
            result = evaluator.evaluate(samples)
            t2 = time.perf_counter()
            timings.append(t2 - t0)
            parts.append({"sample_s": round(t1 - t0, 2), "evaluate_s": round(t2 - t1, 2)})
    print(
        json.dumps(
            {
                "machine": machine(),
                "n": args.n,
                "reference_first_time_s": round(reference_s, 2),
                "end_to_end_median_s": round(statistics.median(timings), 2),
                "repeats": parts,
                "last_values": result.values,
                "provenance": result.provenance,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
