"""The evaluation suite on real MNIST: what each metric says about real, broken and collapsed image sets.

    GENLAB_DATA=../shared/data python benchmarks/eval_sanity.py

The reference is 10,000 training images (the cached reference of `genlab eval`); each row scores another set
through the shipped MNIST classifier: 10,000 test images, uniform noise, one training image repeated, and the
test images of digit 1 only. The test suite checks the same relations on 5,000 images
(tests/metrics/test_sanity_mnist.py); this script prints the numbers for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import torch

from genlab.data import DataConfig, load_dataset
from genlab.metrics import EvalConfig, Evaluator

METRICS = ("fid", "kid", "is", "pr", "dc")


def main() -> None:
    data = DataConfig(name="mnist", size=28)
    evaluator = Evaluator(EvalConfig(metrics=METRICS, n=10_000), data)
    test = load_dataset(data.model_copy(update={"split": "test"}))
    train = load_dataset(data)
    sets = {
        "test images": test.images,
        "uniform noise": torch.rand(10_000, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1,
        "one image repeated": train.images[:1].expand(10_000, -1, -1, -1),
        "test digit 1 only": test.images[test.labels == 1],
    }
    columns = ["fid", "kid", "kid_std", "is", "precision", "recall", "density", "coverage"]
    print("| set | n | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 2) + "|")
    for name, images in sets.items():
        values = evaluator.evaluate(images).values
        print(f"| {name} | {len(images)} | " + " | ".join(f"{values[c]:.4g}" for c in columns) + " |")
    print(f"\nreal reference: {evaluator.reference().description}; {evaluator.extractor.provenance()}")


if __name__ == "__main__":
    main()
