"""The truncation trick's quality/diversity trade-off on MNIST, measured with precision and recall.

    GENLAB_DATA=../shared/data genlab train cdcgan-mnist --out runs/cdcgan-mnist
    GENLAB_DATA=../shared/data genlab train dcgan-mnist --set train.steps=3000 --out runs/dcgan-mnist-3k
    GENLAB_DATA=../shared/data python benchmarks/truncation_sweep.py runs/cdcgan-mnist runs/dcgan-mnist-3k

For every run and threshold ψ (none, then shrinking) it draws 10,000 samples from latent seed 0 with components
resampled into [-ψ, ψ] (a conditional generator: classes 0-9 in turn) and scores them against the cached
10,000-image training reference with the shipped MNIST classifier: FID, precision and recall (k = 3), density and
coverage. Prints a Markdown table per run and plots precision and recall against ψ for all runs (``--plot``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from genlab.metrics import EvalConfig, Evaluator
from genlab.runs import open_run
from genlab.viz.figures import save_figure

THRESHOLDS = (None, 3.0, 2.0, 1.5, 1.0, 0.7, 0.5, 0.3, 0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="trained MNIST run folders")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--mode", default="resample", choices=["resample", "clamp"])
    parser.add_argument("--plot", default="benchmarks/figures/truncation-sweep.png")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    swept = {}
    for path in args.runs:
        swept[path] = sweep(path, args.n, args.mode)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(swept, handle, indent=1)
    plot(swept, args.plot)


def sweep(path: str, n: int, mode: str) -> list[dict]:
    run = open_run(path)
    evaluator = Evaluator(EvalConfig(metrics=("fid", "pr", "dc"), n=n), run.config.data, run.recipe.device)
    rows = []
    print(f"\n{run.checkpoint} ({run.config.name})\n")
    print("| ψ | FID | precision | recall | density | coverage |")
    print("|---|---|---|---|---|---|")
    for psi in THRESHOLDS:
        samples = run.recipe.sample(n, generator=torch.Generator().manual_seed(0), truncation=psi, truncation_mode=mode)
        values = evaluator.evaluate(samples).values
        rows.append({"psi": psi, **values})
        shown = "none" if psi is None else f"{psi:g}"
        cells = " | ".join(f"{values[k]:.3f}" for k in ("fid", "precision", "recall", "density", "coverage"))
        print(f"| {shown} | {cells} |", flush=True)
    print(f"\nreference: {evaluator.reference().description}; {evaluator.extractor.provenance()}")
    return rows


def plot(swept: dict[str, list[dict]], path: str) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for (run, rows), style in zip(swept.items(), ("o-", "s--", "^:"), strict=False):
        finite = [r for r in rows if r["psi"] is not None]
        psi = [r["psi"] for r in finite]
        for key, colour in (("precision", "#1f4e9c"), ("recall", "#c0392b")):
            ax.plot(psi, [r[key] for r in finite], style, color=colour, label=f"{key}, {Path(run).name}")
    ax.set_xscale("log")
    ax.set_xticks(psi, [f"{p:g}" for p in psi])
    ax.set_xlabel("truncation threshold ψ (right: mild, left: strong)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="center left")
    ax.set_title("Truncation on MNIST: precision and recall (k = 3, classifier features)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    main()
