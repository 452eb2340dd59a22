"""Training throughput of ready configs and the wall time of `genlab demo`, on this machine.

    python benchmarks/train_speed.py --config dcgan-digits --steps 600
    GENLAB_DATA=../shared/data python benchmarks/train_speed.py --config dcgan-mnist --steps 300
    python benchmarks/train_speed.py --demo

Throughput is read from the trainer's own records (images drawn per second of training, sampling and
checkpointing excluded), over logging intervals after the first one, which holds the warm-up.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import genlab
from genlab.train import read_metrics


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        names = [
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads"


def throughput(config: str, steps: int, intervals: int, overrides: list[str]) -> None:
    log_every = max(1, steps // intervals)
    settings = [
        f"train.steps={steps}",
        f"train.log_every={log_every}",
        "train.sample_every=0",
        "train.checkpoint_every=0",
        "train.progress=false",
        "train.loggers=[jsonl]",
        *overrides,
    ]
    with tempfile.TemporaryDirectory() as folder:
        result = genlab.fit(config, settings, out=Path(folder) / "run")
        rates = [r["images_per_s"] for r in read_metrics(Path(folder) / "run" / "metrics.jsonl")][1:]
    cfg = genlab.load_config(config, settings)
    print(
        f"{config}: {cfg.data.name} {cfg.data.size}px, batch {cfg.train.batch_size}, {steps} steps "
        f"in {result.elapsed:.1f} s"
    )
    print(
        f"  images/s over {len(rates)} intervals of {log_every} steps after warm-up: "
        f"median {statistics.median(rates):.0f}, min {min(rates):.0f}, max {max(rates):.0f}"
    )


def demo_wall_time() -> None:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "genlab", "demo", "--out", str(Path(folder) / "demo")],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"genlab demo: {time.perf_counter() - start:.1f} s wall time (process start to sample grid)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="ready config name or YAML file")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--intervals", type=int, default=6, help="logging intervals to split the run into")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--demo", action="store_true", help="time `genlab demo` end to end instead")
    args = parser.parse_args()
    print(machine())
    if args.demo:
        demo_wall_time()
    if args.config:
        throughput(args.config, args.steps, args.intervals, args.set)


if __name__ == "__main__":
    main()
