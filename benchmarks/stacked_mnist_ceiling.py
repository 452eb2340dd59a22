"""What real Stacked MNIST scores in the mode count, at the size the generators are trained at: the ceiling that
the study ``configs/studies/stacked-mnist.yaml`` (issue 22 item 1) is read against.

    GENLAB_DATA=../shared/data python benchmarks/stacked_mnist_ceiling.py --sizes 28 16

For each size and split, the first 26,000 stacked triples (the published protocol's sample count; the test split
has 10,000) go through ``genlab.metrics.stacked_mnist_modes`` with the shipped MNIST classifier, as generated
samples do in ``genlab eval``: modes covered of 1,000 and the KL of their histogram to uniform. Below 28x28 the
classifier misreads some downsampled digits, so even real data pays a KL that a generator at that size cannot beat.
"""

from __future__ import annotations

import argparse

from genlab.data.base import DataConfig, load_dataset
from genlab.metrics.features import load_classifier
from genlab.metrics.stacked import STACKED_SAMPLES, stacked_mnist_modes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[28, 16])
    parser.add_argument("--splits", nargs="+", default=["train", "test"])
    args = parser.parse_args()
    classifier = load_classifier("mnist")
    print("| size | split | n | modes | KL to uniform |\n|---|---|---|---|---|")
    for size in args.sizes:
        for split in args.splits:
            images = load_dataset(DataConfig(name="stacked-mnist", size=size, split=split)).images[:STACKED_SAMPLES]
            found = stacked_mnist_modes(images, classifier.predict)
            print(f"| {size}x{size} | {split} | {found['n']} | {found['modes']} | {found['kl']:.4f} |")


if __name__ == "__main__":
    main()
