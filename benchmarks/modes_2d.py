"""Mode coverage of every GAN objective and the main tricks on the 2-D mixtures (PacGAN's Table 1 protocol): the
tables of the study ``configs/studies/modes-2d.yaml``, which ``genlab study`` runs.

    python -m genlab study run modes-2d --out studies/modes-2d --jobs 2    # everything: 84 trials, about 20 min
    python benchmarks/modes_2d.py --study studies/modes-2d                # its tables
    python benchmarks/modes_2d.py --load benchmarks/modes_2d.jsonl        # the tables of the saved results
    python benchmarks/modes_2d.py --only nonsaturating pacgan2 --seeds 1 --data grid25 --out studies/two
    python benchmarks/modes_2d.py --only ebgan --set model.objective.pt_weight=0.1 --label ebgan-pt --out studies/pt

With ``--out`` it writes a study file of the ready study's models cut to ``--only`` and ``--data`` (each model the
ready config ``<entry>-<mixture>``, with ``--set`` on top and renamed ``<label>-<mixture>``), runs it with
``genlab.study.run`` into that folder (rerunning skips finished trials; several cuts may share a folder) and prints
its tables; ``--save`` appends the cut's results to a JSON-lines file in the form ``--load`` reads. The ready
study's protocol: the same MLP generator and discriminator and generator-step budget for all; after training,
2,500 samples of latent seed 12345 scored with genlab.metrics.modes (modes covered, high-quality share within 3 std
of the nearest mean, reverse KL of the high-quality mode histogram to the uniform one). The tables report mean ±
std over seeds; a study's wall time is the trial's (training and its scoring).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
from pathlib import Path

import pandas
import yaml

import genlab.study
from genlab.data.toy import MIXTURES
from genlab.study.spec import STUDIES_DIR

READY = STUDIES_DIR / "modes-2d.yaml"
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
DATA = ("grid25", "ring8")


def study_file(only: list[str], data: list[str], seeds: int, changes: list[str], label: str | None) -> dict:
    """The ready study cut to the ``only`` entries on the ``data`` mixtures, with ``seeds`` seeds, the ``changes``
    (``KEY=VALUE``, the value read as YAML) on every model and its models renamed ``<label>-<mixture>``."""
    study = yaml.safe_load(READY.read_text(encoding="utf-8"))
    overrides = {}
    for change in changes:
        key, sep, text = change.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"--set {change}: write KEY=VALUE, e.g. model.objective.pt_weight=0.1")
        overrides[key.strip()] = yaml.safe_load(text)
    models = {}
    for mixture in data:
        for entry in only:
            name = f"{entry}-{mixture}"
            if name not in study["models"]:
                raise SystemExit(f"--only {entry}: no such entry; the entries are {', '.join(ENTRIES)}")
            models[f"{label or entry}-{mixture}"] = study["models"][name] | overrides
    return study | {"models": models, "seeds": seeds}


def results(table: pandas.DataFrame) -> list[dict]:
    """A study's index (``genlab.study.load``) as the saved results (``--load`` files): entry, data, seed, seconds
    and the mode statistics (reverse KL NaN where a trial had no high-quality sample); failed and unfinished trials
    are left out."""
    found = []
    for row in table[table["status"] == "done"].to_dict("records"):
        entry, _, data = row["model"].rpartition("-")
        kl = row.get("metrics/modes_kl")
        found.append(
            {
                "entry": entry,
                "data": data,
                "seed": row["seed"],
                "seconds": row["wall_time"],
                "modes_covered": int(row["metrics/modes"]),
                "num_modes": MIXTURES[data].num_modes,
                "high_quality": row["metrics/high_quality"],
                "reverse_kl": math.nan if kl is None or math.isnan(kl) else kl,
            }
        )
    return found


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
    parser.add_argument("--only", nargs="+", default=list(ENTRIES), metavar="NAME", help="entries to run or show")
    parser.add_argument("--data", nargs="+", default=list(DATA), choices=DATA)
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 of every entry (default 3)")
    parser.add_argument("--jobs", type=int, default=2, help="trials in parallel (one thread each)")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="config overrides for every run")
    parser.add_argument("--label", help="name the results of a single --only entry run with --set")
    parser.add_argument("--out", type=Path, help="run the cut study into this study folder, then print its tables")
    parser.add_argument("--study", type=Path, help="print the tables of a study folder instead of training")
    parser.add_argument("--save", type=Path, help="append the results of --out's study to this JSON-lines file")
    parser.add_argument("--load", type=Path, help="print the tables of a --save file instead of training")
    args = parser.parse_args()
    if args.label and len(args.only) != 1:
        parser.error("--label names one entry's results: give exactly one --only entry")
    if sum(x is not None for x in (args.out, args.study, args.load)) != 1:
        parser.error("give one of --out DIR (train), --study DIR or --load FILE (tables only)")
    if args.load:
        found = [json.loads(line) for line in args.load.read_text().splitlines() if line.strip()]
    elif args.study:
        found = results(genlab.study.load(args.study))
    else:
        study = study_file(args.only, args.data, args.seeds, args.set, args.label)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "modes-2d.yaml"
            path.write_text(yaml.safe_dump(study))
            genlab.study.run(path, args.out, jobs=args.jobs)
        index = genlab.study.load(args.out)
        found = results(index[index["model"].isin(list(study["models"]))])  # a folder may hold other cuts too
        if args.save:
            with args.save.open("a") as handle:
                handle.writelines(json.dumps(result) + "\n" for result in found)
    entries = [args.label] if args.label else args.only
    for data in args.data:
        print(table(found, data, entries), end="\n\n")


if __name__ == "__main__":
    main()
