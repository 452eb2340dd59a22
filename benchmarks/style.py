"""Style-based against DCGAN generator on MNIST at the same short budget, and a style-mixing grid.

    GENLAB_DATA=../shared/data nice -n 10 python benchmarks/style.py --steps 300 --seeds 0

Both arms train at 16x16 with the same DCGAN discriminator (width 32), objective (non-saturating), optimisers
(Adam 2e-4, betas 0.5, 0.999), batch 64, steps and seed; they differ in the generator only: ``dcgan-mnist``'s
(width 32) or ``style-mnist``'s (AdaIN, 4-layer mapping network, w of 128, 16 to 64 channels, noise, mixing 0.9).
FID is taken with the shipped MNIST classifier's features on ``--n`` samples against the 10,000 test images;
time per step is the training wall time over the steps (both networks' updates). One JSON line per run is appended
to ``benchmarks/style.jsonl`` and a Markdown table printed. ``--timing-repeats N`` instead times the two generators'
forward and backward passes, the fastest of N interleaved repeats (wall times on a shared machine are dominated
by its other load).

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
from genlab.config import load_config
from genlab.generators import load_generator
from genlab.images import enlarged_grid, save_png
from genlab.nets.style import StyleGenerator

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


def generator_times(repeats: int, batch: int = 64) -> dict[str, float]:
    """Fastest of ``repeats`` alternating forward and backward passes of each arm's generator on a batch at 16x16,
    in seconds: the only part of a training step in which the arms differ. On a machine shared with other jobs the
    minimum over interleaved repeats is the figure their load disturbs least."""
    nets = {}
    for arm in ("dcgan", "style"):
        cfg = load_config(ARMS[arm], [*COMMON, *GENERATORS[arm]])
        nets[arm] = (cfg.model.generator.generator(cfg.model.z_dim, (1, 16, 16)).train(), cfg.model.z_dim)
    best = dict.fromkeys(nets, float("inf"))
    for _ in range(repeats):
        for arm, (net, z_dim) in nets.items():
            z = torch.randn(batch, z_dim)
            start = time.perf_counter()
            net(z).square().mean().backward()
            best[arm] = min(best[arm], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--n", type=int, default=2000, help="generated samples per FID")
    parser.add_argument("--crossover", type=int, default=4, help="layers (of 6) that take the rows' styles")
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=["dcgan", "style"])
    parser.add_argument("--timing-repeats", type=int, default=0, help="only time the generators (fastest of N)")
    args = parser.parse_args()
    rows, run_dirs = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.timing_repeats:
            best = generator_times(args.timing_repeats)
            print(json.dumps({"generator_s": best}))
            print(f"G forward + backward: style / dcgan {best['style'] / best['dcgan']:.2f}x")
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
