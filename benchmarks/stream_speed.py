"""How fast batches come from a photograph folder in memory and streamed from disk (``data.loader``).

    python benchmarks/stream_speed.py --images 1024 --batches 40 --workers 0 2

Writes ``--images`` 64x64 RGB JPEGs of noise (quality 90) into a temporary folder, then for each loader reports the
start-up (decoding the whole folder for memory; nothing but listing and one header for stream) and the images/s
that :class:`genlab.data.Sampler` delivers over ``--batches`` batches of 64 after the first, with flip on. Batches
only: no training step runs, so this is the loader's ceiling; a training step that takes longer hides a stream
that keeps up. One JSON line per loader.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from genlab.data import DataConfig, Sampler, open_dataset

BATCH = 64


def write_folder(root: Path, count: int) -> None:
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(root / f"{i:06d}.jpg", quality=90)


def measure(root: Path, loader: str, workers: int, batches: int) -> dict[str, object]:
    cfg = DataConfig(name="folder", path=str(root), size=64, flip=True, loader=loader, workers=workers)
    start = time.perf_counter()
    data, choice = open_dataset(cfg)
    sampler = Sampler(data, BATCH, 0, "cpu", flip=True)
    sampler()  # the first batch: workers start
    opened = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(batches):
        sampler()
    seconds = time.perf_counter() - start
    return {
        "loader": choice.loader,
        "workers": workers if choice.loader == "stream" else None,
        "startup_s": round(opened, 2),
        "images_per_s": round(batches * BATCH / seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        write_folder(Path(folder), args.images)
        print(json.dumps(measure(Path(folder), "memory", 0, args.batches)))
        for workers in args.workers:
            print(json.dumps(measure(Path(folder), "stream", workers, args.batches)))


if __name__ == "__main__":
    main()
