"""Classifier-guided edits on an unconditional MNIST generator: success rate, steps and ‖Δz‖ per target class.

    GENLAB_DATA=../shared/data genlab train dcgan-mnist --set train.steps=3000 --out runs/dcgan-mnist-3k
    GENLAB_DATA=../shared/data python benchmarks/latent_edits.py runs/dcgan-mnist-3k

For every digit it edits the same 100 latents (seed 0) by steps of length η = 0.5 along ∇_z log C_target(G(z))
(with --plain-gradient: z ← z + η ∇_z log C_target(G(z))) until the shipped MNIST classifier gives the target
probability ≥ 0.9 or 200 steps pass (`genlab edit RUN --to-class K`).
Samples that already were the target are left out of the rates. Figures land in RUN_DIR/latent/edit-to-K.png.
"""

from __future__ import annotations

import argparse
import time

import genlab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="trained unconditional MNIST run folder")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--plain-gradient", action="store_true", help="z += lr * gradient instead of unit steps")
    parser.add_argument("--max-steps", type=int, default=200)
    args = parser.parse_args()
    print("| target | edited | success | mean steps | mean ‖Δz‖ | ‖Δz‖ / ‖z‖ | seconds |")
    print("|---|---|---|---|---|---|---|")
    totals = {"edited": 0, "succeeded": 0.0}
    for target in range(10):
        start = time.perf_counter()
        numbers = genlab.edit(
            args.run, target, n=args.n, lr=args.lr, max_steps=args.max_steps, normalize=not args.plain_gradient
        ).numbers
        seconds = time.perf_counter() - start
        totals["edited"] += numbers["edited"]
        totals["succeeded"] += numbers["success_rate"] * numbers["edited"]
        print(
            f"| {target} | {numbers['edited']} | {numbers['success_rate']:.1%} | {numbers['mean_steps']:.1f} | "
            f"{numbers['mean_dz']:.2f} | {numbers['mean_dz_relative']:.2f} | {seconds:.1f} |",
            flush=True,
        )
    print(f"\nall targets: {totals['succeeded'] / totals['edited']:.1%} of {totals['edited']} edits succeeded")


if __name__ == "__main__":
    main()
