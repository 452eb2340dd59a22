"""Style-based against DCGAN generator on MNIST at the same short budget, and a style-mixing grid.

    GENLAB_DATA=../shared/data nice -n 10 python benchmarks/style.py --steps 300 --seeds 0

Both arms train at 16x16 with the same DCGAN discriminator (width 32), objective (non-saturating), optimisers
(Adam 2e-4, betas 0.5, 0.999), batch 64, steps and seed; they differ in the generator only: ``dcgan-mnist``'s
(width 32) or ``style-mnist``'s (AdaIN, 4-layer mapping network, w of 128, 16 to 64 channels, noise, mixing 0.9).
FID is taken with the shipped MNIST classifier's features on ``--n`` samples against the 10,000 test images;
time per step is the training wall time over the steps (both networks' updates). One JSON line per run is appended
to ``benchmarks/style.jsonl`` and a Markdown table printed. ``--timing-rounds R`` instead times steps in R
alternating short runs of ``--steps`` each (wall times on a shared machine are dominated by its other load).

``--arms style-paper-optim`` trains the style generator with the paper's G optimiser (Adam 1e-3, betas 0, 0.99)
instead.

The last seed's ``style`` run also draws the style-mixing grid: row i takes its coarse styles (the layers below
``--crossover``, 4x4 and 8x8 for the default 4 of 6 layers at 16x16) from z1_i, shown down the left; column j its
finer styles from z2_j, shown along the top.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
from diffaugment import fid  # benchmarks/, the script's folder, is on sys.path

from genlab import api
from genlab.generators import load_generator
from genlab.images import enlarged_grid, save_png
from genlab.nets.style import StyleGenerator
from genlab.train.logger import read_metrics

ARMS = {"dcgan": "dcgan-mnist", "style": "style-mnist", "style-paper-optim": "style-mnist"}
COMMON = [
    "data.size=16",
    "model.discriminator.width=32",
    "train.batch_size=64",
    "train.sample_every=0",
    "train.checkpoint_every=0",
    "train.progress=false",
    "train.loggers=[jsonl]",
]
GENERATORS = {
    "dcgan": ["model.generator.width=32"],
    "style": ["model.generator.width=16", "model.generator.max_width=64"],
    # The style generator with the paper's G optimiser instead of dcgan-mnist's.
    "style-paper-optim": [
        "model.generator.width=16",
        "model.generator.max_width=64",
        "model.g_optim={name: adam, lr: 1.0e-3, betas: [0.0, 0.99]}",
    ],
}
LOG = Path(__file__).with_name("style.jsonl")
FIGURE = Path(__file__).parent / "figures" / "style-mixing-mnist.png"


def one_run(arm: str, seed: int, steps: int, n: int, folder: Path) -> tuple[dict, Path]:
    overrides = [*COMMON, *GENERATORS[arm], f"seed={seed}", f"train.steps={steps}", f"train.log_every={steps}"]
    start = time.perf_counter()
    result = api.fit(ARMS[arm], overrides, out=folder / f"{arm}-{seed}")
    train_s = time.perf_counter() - start
    row = {"arm": arm, "seed": seed, "steps": steps, "n": n, "fid": fid(result.run_dir, n)}
    return {**row, "train_s": round(train_s, 1), "s_per_step": round(train_s / steps, 3)}, result.run_dir


@torch.no_grad()
def mixing_grid(run_dir: Path, rows: int, columns: int, crossover: int, seed: int) -> Path:
    """(rows + 1) x (columns + 1) images: the z1 images down the left, the z2 images along the top, and in cell
    (i, j) the image with styles w1_i below layer ``crossover`` and w2_j from it on."""
    net, info = load_generator(run_dir)
    if not isinstance(net, StyleGenerator):
        raise SystemExit(f"{run_dir} has no style generator")
    draws = torch.Generator().manual_seed(seed)
    w1 = net.mapping(torch.randn(rows, info.z_dim, generator=draws))
    w2 = net.mapping(torch.randn(columns, info.z_dim, generator=draws))
    layers = len(net.layers)
    top = net.synthesis([w2] * layers)
    left = net.synthesis([w1] * layers)
    cells = [torch.full_like(top[:1], -1.0), top]
    for i in range(rows):
        cells += [left[i : i + 1], net.synthesis(net.mixed(w1[i : i + 1].expand_as(w2), w2, crossover))]
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    return save_png(enlarged_grid(torch.cat(cells), nrow=columns + 1), FIGURE)


def step_times(rounds: int, steps: int, folder: Path) -> dict[str, list[float]]:
    """Seconds per training step of each arm, in ``rounds`` alternating runs (dcgan, style, dcgan, ...) so that
    other load on the machine falls on both arms alike: the wall time between the first and the last log record of
    each run, over the steps between them (start-up, data loading and the first steps left out)."""
    times: dict[str, list[float]] = {arm: [] for arm in ("dcgan", "style")}
    log_every = max(steps // 4, 1)
    for r in range(rounds):
        for arm in times:
            overrides = [*COMMON, *GENERATORS[arm], f"train.steps={steps}", f"train.log_every={log_every}"]
            result = api.fit(ARMS[arm], overrides, out=folder / f"time-{arm}-{r}")
            records = read_metrics(result.run_dir / "metrics.jsonl")
            first, last = records[0], records[-1]
            times[arm].append((last["elapsed"] - first["elapsed"]) / (last["step"] - first["step"]))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--n", type=int, default=2000, help="generated samples per FID")
    parser.add_argument("--crossover", type=int, default=4, help="layers (of 6) that take the rows' styles")
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=["dcgan", "style"])
    parser.add_argument("--timing-rounds", type=int, default=0, help="only time steps: alternating short runs")
    args = parser.parse_args()
    rows, run_dirs = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.timing_rounds:
            times = step_times(args.timing_rounds, args.steps, Path(tmp))
            print(json.dumps({"s_per_step": times}))
            dcgan, style = (statistics.median(arm_times) for arm_times in times.values())
            print(f"median s per step: dcgan {dcgan:.3f}, style {style:.3f}, style / dcgan {style / dcgan:.2f}x")
            return
        for seed in args.seeds:
            for arm in args.arms:
                row, run_dirs[arm] = one_run(arm, seed, args.steps, args.n, Path(tmp))
                print(json.dumps(row), flush=True)
                with LOG.open("a") as handle:
                    handle.write(json.dumps(row) + "\n")
                rows.append(row)
        if "style" in run_dirs:
            print("wrote", mixing_grid(run_dirs["style"], 6, 8, args.crossover, seed=0))
    print("| generator | FID (mean) | s per step (mean) |")
    print("|---|---|---|")
    for arm in args.arms:
        mine = [r for r in rows if r["arm"] == arm]
        fids = statistics.mean(r["fid"] for r in mine)
        print(f"| {arm} | {fids:.2f} | {statistics.mean(r['s_per_step'] for r in mine):.3f} |")


if __name__ == "__main__":
    main()
