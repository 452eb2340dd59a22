"""pix2pix against the L1-only baseline: sharpness and L1 error of translations of held-out MNIST pairs.

    GENLAB_DATA=../shared/data nice -n 10 python benchmarks/pix2pix.py --pair mask --seeds 0 1 --steps 600

Both arms train ``pix2pix-mnist`` (16x16, U-Net width 32 depth 4, PatchGAN width 32) with ``data.pair`` set to
``--pair``, for the same steps and from the same seed: ``pix2pix`` with its adversarial term (non-saturating,
weight 1) plus 100 x L1, ``l1`` with ``model.adversarial_weight=0`` (no discriminator). On the first ``--n`` test
pairs (x, y), which neither arm trained on, it reports the L1 error mean |G(x) - y| (in [-1, 1] units) and the
sharpness of G(x) relative to the targets': the mean gradient magnitude (finite differences) of the outputs over
that of the targets (1: as sharp as real digits; blurry outputs fall below, noisy ones may rise above). The
issue's target: pix2pix's sharpness above the baseline's, with its L1 error within ``BOUND`` x the baseline's.
One JSON line per run is appended to ``benchmarks/pix2pix.jsonl``; a Markdown table is printed, and the first
seed's translations of 12 test pairs are drawn in ``benchmarks/figures/pix2pix-PAIR.png``, one column per pair,
rows input | L1 only | pix2pix | target. Last, the cost of the adversarial term: the fastest of ``--repeats``
interleaved timings of 100 training steps of each arm (one thread), which the machine's other load disturbs less
than the runs' wall times.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from genlab import api
from genlab.config import load_config, read_run_config
from genlab.data import Batch, load_dataset
from genlab.data.pairs import split_pair
from genlab.images import enlarged_grid, save_png
from genlab.train import RunDir

ARMS = {"pix2pix": [], "l1": ["model.adversarial_weight=0"]}
COMMON = ["train.sample_every=0", "train.checkpoint_every=0", "train.progress=false", "train.loggers=[jsonl]"]
BOUND = 1.25
"""How much larger than the L1-only baseline's pix2pix's L1 error may be for the target to count as met."""
LOG = Path(__file__).with_name("pix2pix.jsonl")
FIGURE = Path(__file__).parent / "figures" / "pix2pix-{pair}.png"
SHOWN = 12


def gradient_magnitude(images: torch.Tensor) -> float:
    """Mean |horizontal difference| + |vertical difference| of neighbouring pixels."""
    dx = (images[..., :, 1:] - images[..., :, :-1]).abs().mean()
    dy = (images[..., 1:, :] - images[..., :-1, :]).abs().mean()
    return (dx + dy).item()


def one_run(arm: str, pair: str, seed: int, steps: int, n: int, folder: Path) -> tuple[dict, torch.Tensor]:
    """One arm's figures on the held-out pairs, and its translations of the first :data:`SHOWN` (with their inputs
    and targets on either side)."""
    overrides = [*COMMON, f"data.pair={pair}", f"seed={seed}", f"train.steps={steps}", f"train.log_every={steps}"]
    start = time.perf_counter()
    result = api.fit("pix2pix-mnist", [*overrides, *ARMS[arm]], out=folder / f"{arm}-{seed}")
    train_s = time.perf_counter() - start
    recipe = api.load_run(result.run_dir, device="cpu")
    data = read_run_config(RunDir(result.run_dir)).data.model_copy(update={"split": "test", "limit": n})
    inputs, targets = split_pair(load_dataset(data).images)
    outputs = recipe.translate(inputs)
    row = {
        "arm": arm,
        "pair": pair,
        "seed": seed,
        "steps": steps,
        "n": n,
        "l1": round((outputs - targets).abs().mean().item(), 4),
        "sharpness": round(gradient_magnitude(outputs) / gradient_magnitude(targets), 4),
        "train_s": round(train_s, 1),
    }
    return row, torch.stack([inputs[:SHOWN], outputs[:SHOWN], targets[:SHOWN]])


def step_seconds(pair: str, repeats: int, steps: int = 100) -> dict[str, float]:
    """The fastest of ``repeats`` timings of ``steps`` training steps of each arm, interleaved, on one batch."""
    fastest = dict.fromkeys(ARMS, float("inf"))
    for _ in range(repeats):
        for arm, overrides in ARMS.items():
            cfg = load_config("pix2pix-mnist", [f"data.pair={pair}", "device=cpu", *overrides])
            pairs = load_dataset(cfg.data.model_copy(update={"limit": cfg.train.batch_size})).images
            recipe = cfg.model.build(tuple(pairs.shape[1:]), None, torch.device("cpu"))
            same_batch = itertools.repeat(Batch(pairs, None)).__next__
            start = time.perf_counter()
            for step in range(steps):
                recipe.train_step(same_batch, step)
            fastest[arm] = min(fastest[arm], (time.perf_counter() - start) / steps)
    return fastest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", default="mask", choices=["edges", "blur", "mask"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--n", type=int, default=2000, help="held-out test pairs")
    parser.add_argument("--repeats", type=int, default=3, help="timings of 100 steps per arm for the cost line")
    args = parser.parse_args()
    torch.set_num_threads(1)  # the project's VM shares its two cores
    rows, shown = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for arm in ARMS:
                row, shown[arm, seed] = one_run(arm, args.pair, seed, args.steps, args.n, Path(tmp))
                print(json.dumps(row), flush=True)
                with LOG.open("a") as handle:
                    handle.write(json.dumps(row) + "\n")
                rows.append(row)
    print(
        f"| arm ({args.pair}, {args.steps} steps) | L1 (mean) | sharpness (mean) | per seed L1 / sharpness | train s |"
    )
    print("|---|---|---|---|---|")
    means = {}
    for arm in ARMS:
        mine = [r for r in rows if r["arm"] == arm]
        means[arm] = (statistics.mean(r["l1"] for r in mine), statistics.mean(r["sharpness"] for r in mine))
        seeds = ", ".join(f"{r['l1']:.3f} / {r['sharpness']:.3f}" for r in mine)
        train_s = statistics.mean(r["train_s"] for r in mine)
        print(f"| {arm} | {means[arm][0]:.4f} | {means[arm][1]:.3f} | {seeds} | {train_s:.0f} |")
    first = args.seeds[0]
    inputs, l1_only, targets = shown["l1", first]
    picture = enlarged_grid(torch.cat([inputs, l1_only, shown["pix2pix", first][1], targets]), nrow=SHOWN)
    print(f"figure: {save_png(picture, FIGURE.with_name(FIGURE.name.format(pair=args.pair)))}")
    met = means["pix2pix"][1] > means["l1"][1] and means["pix2pix"][0] <= BOUND * means["l1"][0]
    print(f"target (sharper, L1 within {BOUND} x the baseline's): {'met' if met else 'missed'}")
    cost = step_seconds(args.pair, args.repeats)
    slower = cost["pix2pix"] / cost["l1"]
    print(
        f"cost per step (fastest of {args.repeats}): pix2pix {cost['pix2pix'] * 1e3:.1f} ms, L1 only "
        f"{cost['l1'] * 1e3:.1f} ms ({slower:.2f}x)"
    )


if __name__ == "__main__":
    main()
