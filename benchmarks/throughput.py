"""Training speed of genlab's DCGAN against the pytorch/examples DCGAN it is configured like, in the same run.

    # once: the reference script outside the repository (never commit it), and torchvision beside torch
    git clone https://github.com/pytorch/examples ../examples        # or any copy of dcgan/main.py
    python3 -m venv ../refvenv && ../refvenv/bin/pip install torch==2.14.1 torchvision==0.29.1
    ../refvenv/bin/pip install -e .                                   # genlab on the same torch
    # then
    GENLAB_DATA=../shared/data ../refvenv/bin/python benchmarks/throughput.py \\
        --reference ../examples/dcgan/main.py --steps 200 --warmup 20 --repeats 2 --fid

Both sides train the same networks (``configs/dcgan-mnist64.yaml``: MNIST resized to 64x64, nz 100, ngf = ndf = 64,
DCGAN initialisation, BCE, Adam 2e-4 with beta1 0.5, batch 64) for ``--steps`` iterations on one device, each in
its own process started by this script with the same Python. Throughput is images per second over the same window
of steps (after ``--warmup``): for the reference, from the time its per-step log lines arrive; for genlab, from
the ``elapsed`` seconds in its metrics.jsonl (sampling and checkpoints happen only after the window). Runs
alternate reference, genlab, reference, genlab ... so slow phases of a shared machine hit both. Peak memory: the
training process's maximum resident set (CPU; the reference's data-loading workers are separate processes and not
counted) or ``torch.cuda.max_memory_allocated`` (GPU).

The reference script runs unmodified; the only thing this script changes around it is that its data loader stops
after ``--steps`` batches, so its one epoch (``--niter 1``) ends there and it saves ``netG_epoch_0.pth`` itself.
With ``--fid`` both generators are then scored the same way: 10,000 samples of one latent seed, FID against the
MNIST training reference with the shipped MNIST classifier's features (``genlab eval``'s defaults).
"""

from __future__ import annotations

import argparse
import atexit
import gzip
import json
import os
import platform
import re
import resource
import runpy
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PEAK_TAG = "THROUGHPUT-PEAK-MEMORY"
REFERENCE_STEP = re.compile(r"^\[\d+/\d+\]\[(\d+)/\d+\]")
CONFIG = "dcgan-mnist64"


# -- the child process: runs the reference script or genlab's CLI and reports its peak memory ---------------------


def child(target: str, limit: int, argv: list[str]) -> None:
    """Run ``target`` (a script path, or ``genlab`` for the CLI) with ``argv``; with ``limit`` > 0, every data
    loader stops after that many batches. Prints the process's peak memory when it exits."""
    import torch
    import torch.utils.data

    def report_peak() -> None:
        cuda = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else 0.0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
        print(f"{PEAK_TAG} rss_mb={rss:.0f} cuda_mb={cuda:.0f}", flush=True)

    atexit.register(report_peak)
    if limit > 0:
        plain_iter = torch.utils.data.DataLoader.__iter__

        def limited_iter(loader: torch.utils.data.DataLoader):  # type: ignore[no-untyped-def]
            for i, batch in enumerate(plain_iter(loader)):
                if i == limit:
                    return
                yield batch

        torch.utils.data.DataLoader.__iter__ = limited_iter  # type: ignore[method-assign]
    sys.argv = [target, *argv]
    if target == "genlab":
        runpy.run_module("genlab", run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(target, run_name="__main__")


def start_child(target: str, limit: int, argv: list[str]) -> subprocess.Popen[str]:
    command = [sys.executable, "-u", __file__, "--child", target, "--limit", str(limit), "--", *argv]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def peak_of(line: str) -> dict[str, float]:
    return {k: float(v) for k, v in (part.split("=") for part in line.split()[1:])}


def finish(process: subprocess.Popen[str], lines: list[str], what: str) -> None:
    if process.wait() != 0:
        raise SystemExit(f"{what} failed (exit {process.returncode}):\n" + "".join(lines[-30:]))


# -- the two contenders ------------------------------------------------------------------------------------------


def reference_data(folder: Path) -> Path:
    """A torchvision MNIST root holding the same IDX files genlab reads (so the reference downloads nothing)."""
    from genlab.data.base import DataConfig
    from genlab.data.mnist import FILES, candidate_folders, find_file

    raw = folder / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for stem in (name for pair in FILES.values() for name in pair):
        source = find_file(candidate_folders(DataConfig(name="mnist")), stem)
        if source is None:
            raise SystemExit(f"MNIST file {stem} not found; set GENLAB_DATA to the folder that holds mnist/")
        data = source.read_bytes()
        (raw / stem).write_bytes(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
    return folder


def run_reference(main_py: Path, out: Path, args: argparse.Namespace, device: str) -> dict[str, float]:
    """Train the reference for ``args.steps`` steps; its images/s over steps warmup..steps and its peak memory."""
    shutil.rmtree(out, ignore_errors=True)
    argv = ["--dataset", "mnist", "--dataroot", str(reference_data(out.parent / "reference-data")), "--outf", str(out)]
    argv += ["--niter", "1", "--manualSeed", str(args.seed), "--batchSize", str(args.batch)]
    if device == "cuda":
        argv.append("--accel")
    process = start_child(str(main_py), args.steps, argv)
    stamps: dict[int, float] = {}
    lines: list[str] = []
    peak: dict[str, float] = {}
    for line in process.stdout:
        now = time.perf_counter()
        lines.append(line)
        match = REFERENCE_STEP.match(line)
        if match:
            stamps[int(match.group(1))] = now  # step i (0-based) is done when its line arrives
        elif line.startswith(PEAK_TAG):
            peak = peak_of(line)
    finish(process, lines, "the reference")
    first, last = args.warmup - 1, args.steps - 1
    if first not in stamps or last not in stamps:
        raise SystemExit("the reference printed no per-step lines; is --reference pytorch/examples' dcgan/main.py?")
    return {"images_per_s": (last - first) * args.batch / (stamps[last] - stamps[first]), **peak}


def run_genlab(out: Path, args: argparse.Namespace, device: str) -> dict[str, float]:
    """Train genlab's dcgan-mnist64 the same way; images/s from its own elapsed times at the window's ends."""
    from genlab.train import read_metrics

    shutil.rmtree(out, ignore_errors=True)
    settings = {
        "device": device,
        "seed": args.seed,
        "train.steps": args.steps,
        "train.batch_size": args.batch,
        "train.log_every": args.warmup,
        "train.sample_every": 0,
        "train.checkpoint_every": 0,
        "train.progress": "false",
        "train.loggers": "[jsonl]",
        "train.report": "false",
        "doctor.enabled": "false",
        **dict(s.split("=", 1) for s in args.set),
    }
    argv = ["train", CONFIG, "--out", str(out), *(x for k, v in settings.items() for x in ("--set", f"{k}={v}"))]
    process = start_child("genlab", 0, argv)
    lines = list(process.stdout)
    finish(process, lines, "genlab")
    peak = next((peak_of(line) for line in lines if line.startswith(PEAK_TAG)), {})
    elapsed = {r["step"]: r["elapsed"] for r in read_metrics(out / "metrics.jsonl") if "elapsed" in r}
    window = elapsed[args.steps] - elapsed[args.warmup]
    return {"images_per_s": (args.steps - args.warmup) * args.batch / window, **peak}


def fids(genlab_run: Path, reference_out: Path, n: int) -> dict[str, float]:
    """FID of both generators, sampled and scored identically (the reference's weights in genlab's twin network)."""
    import torch

    from genlab.metrics import EvalConfig, Evaluator
    from genlab.runs import open_run
    from genlab.train.evaluation import evaluate_recipe

    run = open_run(genlab_run)
    evaluator = Evaluator(EvalConfig(metrics=["fid"], n=n), run.config.data, run.recipe.device)
    scores = {"genlab": evaluate_recipe(evaluator, run.recipe)[0].values["fid"]}
    weights = torch.load(reference_out / "netG_epoch_0.pth", map_location=run.recipe.device, weights_only=True)
    run.recipe.generator.load_state_dict({key.replace("main.", "net.", 1): value for key, value in weights.items()})
    scores["reference"] = evaluate_recipe(evaluator, run.recipe)[0].values["fid"]
    return scores


def machine(device: str) -> str:
    import torch

    if device == "cuda":
        return f"{torch.cuda.get_device_name()}, torch {torch.__version__}"
    lines = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), platform.processor())
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True, help="a copy of pytorch/examples' dcgan/main.py")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--steps", type=int, default=200, help="training steps per run")
    parser.add_argument("--warmup", type=int, default=20, help="steps before the timed window (divides --steps)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each, alternating")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], help="extra genlab setting, e.g. accel.precision=bf16")
    parser.add_argument("--fid", action="store_true", help="also score both generators after the last repeat")
    parser.add_argument("--fid-n", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("runs/throughput"))
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    if not args.reference.is_file():
        raise SystemExit(f"--reference {args.reference} is not a file (a copy of pytorch/examples' dcgan/main.py)")
    if args.steps % args.warmup or args.steps <= args.warmup:
        raise SystemExit("--warmup must divide --steps and be smaller than it")
    import torch

    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    rows: dict[str, list[dict[str, float]]] = {"reference": [], "genlab": []}
    for repeat in range(args.repeats):
        rows["reference"].append(run_reference(args.reference.resolve(), args.out / "reference", args, device))
        rows["genlab"].append(run_genlab(args.out / "genlab", args, device))
        print(f"repeat {repeat + 1}: " + ", ".join(f"{k} {v[-1]['images_per_s']:.1f} img/s" for k, v in rows.items()))
    rate = {k: statistics.median(r["images_per_s"] for r in v) for k, v in rows.items()}
    memory_key = "cuda_mb" if device == "cuda" else "rss_mb"
    result = {
        "machine": machine(device),
        "device": device,
        "steps": args.steps,
        "window": [args.warmup, args.steps],
        "batch": args.batch,
        "settings": args.set,
        "runs": rows,
        "images_per_s": rate,
        "ratio": rate["genlab"] / rate["reference"],
        "peak_memory_mb": {k: max(r.get(memory_key, 0.0) for r in v) for k, v in rows.items()},
    }
    if args.fid:
        result["fid"] = fids(args.out / "genlab", args.out / "reference", args.fid_n)
    print(f"\n{result['machine']}; steps {args.warmup}..{args.steps}, batch {args.batch}, {args.repeats} run(s) each")
    print("| | images/s (median) | peak memory (MB) |" + (" FID |" if args.fid else ""))
    print("|---|---|---|" + ("---|" if args.fid else ""))
    for name in ("reference", "genlab"):
        fid = f" {result['fid'][name]:.2f} |" if args.fid else ""
        print(f"| {name} | {rate[name]:.1f} | {result['peak_memory_mb'][name]:.0f} |{fid}")
    print(f"genlab / reference: {result['ratio']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        # --child TARGET --limit N -- ARGS...: the process that trains (see child()).
        child(sys.argv[2], int(sys.argv[4]), sys.argv[6:])
    else:
        main()
