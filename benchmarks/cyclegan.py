"""Does a CycleGAN run keep the digit? Test-set figures of a translation between two labelled domains.

    GENLAB_DATA=../shared/data genlab train cyclegan-mnist --out runs/cyclegan
    GENLAB_DATA=../shared/data genlab classifier train --data mnist --set data.style=thicken \\
        --set name=classifier-mnist-thick --out runs/classifier-thick.pt
    GENLAB_DATA=../shared/data python benchmarks/cyclegan.py runs/cyclegan --classifier runs/classifier-thick.pt

For the test images x of domain A (the run's data, every test image) it reports: the share of translations G(x)
that a classifier trained on domain B assigns x's label (target >= 90 %), beside the same classifier's accuracy on
the untranslated x (how much a translation is needed at all) and on B's own test images (its ceiling); the FID of
G(X) against B's test images in that classifier's feature space, beside the FID of the untranslated X; and the
mean absolute cycle errors |F(G(x)) - x| and |G(F(y)) - y| in [-1, 1] intensity units.
"""

from __future__ import annotations

import argparse
import json

import torch

from genlab.data import load_dataset
from genlab.metrics.features import load_classifier
from genlab.metrics.frechet import fid_from_features
from genlab.models.cyclegan import CycleGAN
from genlab.runs import open_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="CycleGAN run folder")
    parser.add_argument("--classifier", required=True, help="classifier weights file trained on domain B")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    run = open_run(args.run, args.device)
    if not isinstance(run.recipe, CycleGAN):
        raise SystemExit(f"{args.run} is not a CycleGAN run")
    recipe = run.recipe
    whole_test = {"split": "test", "half": "all", "limit": None}
    test_a = load_dataset(run.config.data.model_copy(update=whole_test))
    test_b = load_dataset(run.config.model.domain_b.model_copy(update=whole_test))
    if test_a.labels is None or test_b.labels is None:
        raise SystemExit("both domains need labelled test splits")
    classifier = load_classifier(args.classifier, args.device)
    translated = recipe.translate(test_a.images)

    def accuracy(images: torch.Tensor, labels: torch.Tensor) -> float:
        return (classifier.predict(images).cpu() == labels).float().mean().item()

    real_b = classifier(test_b.images).features
    result = {
        "run": args.run,
        "step": run.state["step"],
        "label_kept": accuracy(translated, test_a.labels),
        "label_untranslated": accuracy(test_a.images, test_a.labels),
        "classifier_on_b": accuracy(test_b.images, test_b.labels),
        "fid_translated": fid_from_features(real_b, classifier(translated).features),
        "fid_untranslated": fid_from_features(real_b, classifier(test_a.images).features),
        "cycle_a": (recipe.reconstruct(test_a.images) - test_a.images.to(recipe.device)).abs().mean().item(),
        "cycle_b": (recipe.translate(recipe.translate(test_b.images, "b2a"), "a2b") - test_b.images.to(recipe.device))
        .abs()
        .mean()
        .item(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
