"""The table of a Lucic-style study (issue 20 item 6) beside the paper's MNIST column, from its trials index.

    python benchmarks/lucic_table.py studies/mnist-lucic-cpu/trials.jsonl
    python benchmarks/lucic_table.py benchmarks/studies/mnist-lucic-cpu.trials.jsonl   # the recorded run

Per model: its best phase-1 setting (lowest FID), FID mean ± std over the phase-2 seeds at that setting, the
bootstrap mean of the best FID a search of k = 1, 5, 10 settings finds (genlab.study.analysis, as on the study
page) and the failed trials. The paper's figures are Inception FID, so compare rankings and spreads, not values.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from genlab.study.analysis import best_of_budget, best_setting, setting_scores
from genlab.study.trials import read_index

PUBLISHED = {
    "mm": "9.8 ± 0.9",
    "ns": "6.8 ± 0.5",
    "lsgan": "7.8 ± 0.6",
    "wgan": "6.7 ± 0.4",
    "wgan-gp": "20.3 ± 5.0",
    "dragan": "7.6 ± 0.4",
    "began": "13.1 ± 1.0",
    "vae": "23.8 ± 0.6",
}
BUDGETS = (1, 5, 10)


def setting_text(key: str) -> str:
    """A sampled setting, its keys without the leading section and Adam's betas as β1."""
    parts = []
    for name, value in json.loads(key).items():
        name = name.split(".", 1)[1]
        if isinstance(value, list):
            parts.append(f"{name.replace('betas', 'β1')}={value[0]}")
        else:
            parts.append(f"{name}={value:.2g}" if isinstance(value, float) else f"{name}={value}")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path, help="a study's trials.jsonl")
    rows = read_index(parser.parse_args().index)
    print(
        "| model | best setting (phase 1) | FID at best setting, phase-2 seeds | best of k = 1 / 5 / 10 settings "
        "| failed | published |"
    )
    print("|---|---|---|---|---|---|")
    for model, published in PUBLISHED.items():
        scores = setting_scores(rows, model)
        best = best_setting(scores, "min")
        rerun = [r["final"] for r in rows if r["model"] == model and r["phase"] == 2 and r["final"] is not None]
        failed = sum(r["model"] == model and r["status"] == "failed" for r in rows)
        budget = best_of_budget([statistics.fmean(v) for v in scores.values()], "min") if scores else None
        curve = " / ".join(f"{budget.mean[k - 1]:.1f}" for k in BUDGETS if budget and k <= len(budget.ks))
        spread = f"{statistics.fmean(rerun):.2f} ± {statistics.stdev(rerun):.2f}" if len(rerun) > 1 else "—"
        setting = setting_text(best) if best else "—"
        print(f"| {model} | {setting} | {spread} (n = {len(rerun)}) | {curve} | {failed} | {published} |")


if __name__ == "__main__":
    main()
