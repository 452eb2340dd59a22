"""z-arithmetic against pixel-space arithmetic on a trained GAN, read by the domain classifier (issue 25 item 6).

    GENLAB_DATA=../shared/data python benchmarks/pixel_arithmetic.py RUN --trials 12 --members 8

For ``--trials`` random ordered pairs of classes (i, j), ``genlab arithmetic`` computes "thick i − thin i + thin j"
(queries ``class=i,ink=high``, ``class=i,ink=low``, ``class=j,ink=low``, ``--members`` samples per group, from
``--n`` labelled samples) both as G(mean z_a − mean z_b + mean z_c) and as the same operation on the members'
images. The intended result is a thick j: the script counts how often each result is read as class j, how often
its ink exceeds that of G(mean z_c), and the classifier's mean confidence. One JSON line per trial is appended to
``benchmarks/pixel_arithmetic.jsonl``; the summary is printed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
from pathlib import Path

import genlab

LOG = Path(__file__).with_name("pixel_arithmetic.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a trained GAN run folder (or export) of a data set with a shipped classifier")
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0, help="seed of the class pairs and of the labelled samples")
    args = parser.parse_args()
    pairs = [(i, j) for i in range(10) for j in range(10) if i != j]
    random.Random(args.seed).shuffle(pairs)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, j in pairs[: args.trials]:
            queries = (f"class={i},ink=high", f"class={i},ink=low", f"class={j},ink=low")
            found = genlab.arithmetic(
                args.run, *queries, n=args.n, members=args.members, seed=args.seed, out=Path(tmp) / "a.png"
            ).numbers
            row = {"run": str(args.run), "from": i, "to": j, "members": args.members, "seed": args.seed}
            for space, prefix in (("z", "result"), ("pixel", "pixel_result")):
                row[f"{space}_class"] = found[f"{prefix}_class"]
                row[f"{space}_confidence"] = found[f"{prefix}_confidence"]
                row[f"{space}_thicker"] = found[f"{prefix}_ink"] > found["mean_c_ink"]
            rows.append(row)
            print(json.dumps(row), flush=True)
            with LOG.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
    for space in ("z", "pixel"):
        kept = statistics.mean(r[f"{space}_class"] == r["to"] for r in rows)
        thicker = statistics.mean(r[f"{space}_thicker"] for r in rows)
        confidence = statistics.mean(r[f"{space}_confidence"] for r in rows)
        print(f"{space}: read as class j {kept:.0%}, thicker than G(mean c) {thicker:.0%}, confidence {confidence:.3f}")


if __name__ == "__main__":
    main()
