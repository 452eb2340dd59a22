"""The README's picture of a study page (docs/study.png), taken in headless chromium as the browser tests do.

    mkdir -p studies/mnist-lucic-cpu                    # the README's picture: the MNIST study, from its saved index
    cp benchmarks/studies/mnist-lucic-cpu.trials.jsonl studies/mnist-lucic-cpu/trials.jsonl
    cp configs/studies/mnist-lucic-cpu.yaml studies/mnist-lucic-cpu/study.yaml
    python benchmarks/study_screenshot.py studies/mnist-lucic-cpu

(or any study folder, for instance ``genlab study run benchmarks/studies/digits-objectives.yaml --out studies/d``).

Writes the study page again (``genlab.study.report``), screenshots its top ``--height`` pixels at ``--width`` and
cuts the picture 24 pixels below its lowest drawn row.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

import genlab.study

DOCS = Path(__file__).parents[1] / "docs"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-background-networking"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", type=Path, help="a study folder")
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=1500)
    parser.add_argument("--out", type=Path, default=DOCS / "study.png")
    args = parser.parse_args()
    browser = shutil.which("chromium")
    if browser is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    page = genlab.study.report(args.study)
    size = f"--window-size={args.width},{args.height}"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", size, f"--screenshot={args.out}", page.resolve().as_uri()],
            capture_output=True,
            timeout=120,
            check=True,
        )
    picture = Image.open(args.out)
    drawn = np.flatnonzero((np.asarray(picture.convert("L")) < 250).any(axis=1))
    picture.crop((0, 0, picture.width, min(picture.height, drawn[-1] + 24))).save(args.out)
    print(f"wrote {args.out} ({picture.width} x {min(picture.height, drawn[-1] + 24)}) from {page}")


if __name__ == "__main__":
    main()
