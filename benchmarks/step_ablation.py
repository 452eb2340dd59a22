"""Where genlab's training-step speed comes from: one DCGAN step timed with each change switched on in turn.

    python benchmarks/step_ablation.py --rounds 8
    python benchmarks/step_ablation.py --device cuda --rounds 50

The networks are those of ``configs/dcgan-mnist64.yaml`` (the pytorch/examples DCGAN), batch 64 of random 64x64
images, BCE on logits, Adam 2e-4. Variants, each a complete D + G step:

* ``reference``: the pytorch/examples loop: two backward calls for D, and G's backward also computes gradients
  for D's weights, which nothing uses;
* ``frozen-d``: G's update runs through D with ``requires_grad_(False)``, as genlab's GAN step does;
* ``+channels_last``: also NHWC weights and batches (``accel.channels_last``);
* ``+fused``: also fused Adam (``model.*_optim.fused: true``);
* ``+bf16``: also bf16 autocast (``accel.precision: bf16``);
* ``+compile``: ``+fused`` (fp32) with G and D compiled (``accel.compile``): torch.compile's default mode on the
  CPU, ``reduce-overhead`` (CUDA graphs) on a GPU.

Rounds alternate the variants (two steps each) so a slow phase of a shared machine hits all of them; the median
seconds per step is reported. Host syncs are excluded by synchronising only at the ends of each timed pair.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from genlab.config import load_config
from genlab.train.accel import AccelConfig, Acceleration

VARIANTS = {
    "reference": {},
    "frozen-d": {"frozen": True},
    "+channels_last": {"frozen": True, "channels_last": True},
    "+fused": {"frozen": True, "channels_last": True, "fused": True},
    "+bf16": {"frozen": True, "channels_last": True, "fused": True, "bf16": True},
    "+compile": {"frozen": True, "channels_last": True, "fused": True, "compile": True},
}
WARMUP_PAIRS = 3
"""Untimed step pairs per variant: first-call allocations, oneDNN/cuDNN plans, compilation and CUDA-graph recording
(torch records a graph on a compiled network's second call)."""


def make_step(
    device: torch.device,
    batch: int,
    frozen: bool = False,
    channels_last: bool = False,
    fused: bool = False,
    bf16: bool = False,
    compile: bool = False,
) -> Callable[[], None]:
    """One variant's training step, as a closure over its own networks and optimisers."""
    recipe = load_config("dcgan-mnist64").model.build((1, 64, 64), None, device)
    G, D = recipe.generator, recipe.discriminator
    # The trainer's own switches: layout, compilation (its mode per device) and the step context.
    switches = AccelConfig(channels_last=channels_last, precision="bf16" if bf16 else "fp32", compile=compile)
    accel = Acceleration(switches, device, images=True)
    accel.prepare([G, D])
    if compile:
        G, D = accel.compiled(G), accel.compiled(D)
    opt_g, opt_d = (torch.optim.Adam(n.parameters(), 2e-4, betas=(0.5, 0.999), fused=fused or None) for n in (G, D))
    real = torch.rand(batch, 1, 64, 64, device=device).mul(2).sub(1).contiguous(memory_format=accel.memory_format)
    ones, zeros = torch.ones(batch, device=device), torch.zeros(batch, device=device)

    def step() -> None:
        with accel.step():
            fake = G(torch.randn(batch, 100, device=device))
            opt_d.zero_grad(set_to_none=True)
            if frozen:
                loss = F.binary_cross_entropy_with_logits(D(real), ones)
                (loss + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros)).backward()
            else:
                F.binary_cross_entropy_with_logits(D(real), ones).backward()
                F.binary_cross_entropy_with_logits(D(fake.detach()), zeros).backward()
            opt_d.step()
            opt_g.zero_grad(set_to_none=True)
            D.requires_grad_(not frozen)
            F.binary_cross_entropy_with_logits(D(fake), ones).backward()
            D.requires_grad_(True)
            opt_g.step()

    return step


def timed(step: Callable[[], None], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    step()
    step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--only", nargs="*", choices=list(VARIANTS), help="time these variants only")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    names = args.only or list(VARIANTS)
    steps = {name: make_step(device, args.batch, **VARIANTS[name]) for name in names}
    for step in steps.values():
        for _ in range(WARMUP_PAIRS):
            timed(step, device)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.rounds):
        for name, step in steps.items():
            seconds[name].append(timed(step, device))
    base = statistics.median(seconds[names[0]])
    print(f"torch {torch.__version__}, {args.device}, {torch.get_num_threads()} threads, batch {args.batch}")
    print(f"| variant | s/step (median of {args.rounds}) | images/s | speed-up over {names[0]} |")
    print("|---|---|---|---|")
    for name in names:
        median = statistics.median(seconds[name])
        print(f"| {name} | {median:.3f} | {args.batch / median:.1f} | {base / median:.2f}x |")


if __name__ == "__main__":
    main()
