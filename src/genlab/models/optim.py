"""Optimiser settings shared by every recipe (one section per network, so G and D can differ: TTUR, Adam/SGD)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Annotated, Literal

import torch
from pydantic import model_validator

from genlab.schema import Range, Section

Beta = Annotated[float, Range(ge=0, lt=1)]


class OptimConfig(Section):
    name: Literal["adam", "sgd", "rmsprop"] = "adam"
    lr: Annotated[float, Range(gt=0, le=10)] = 2e-4
    betas: tuple[Beta, Beta] = (0.5, 0.999)
    """Adam only; DCGAN's beta1 = 0.5 (the default 0.9 makes GAN training oscillate)."""
    momentum: Annotated[float, Range(ge=0, lt=1)] = 0.0
    """SGD and RMSProp only."""
    weight_decay: Annotated[float, Range(ge=0)] = 0.0
    fused: Literal["auto"] | bool = "auto"
    """Adam and SGD: update all parameters in one fused kernel instead of a loop of small ones. auto: on CUDA,
    where it saves launches per parameter tensor; off on the CPU, where it measured no faster."""

    @model_validator(mode="after")
    def _fused_supported(self) -> OptimConfig:
        if self.fused is True and self.name == "rmsprop":
            raise ValueError("fused: true is available for the adam and sgd optimisers only; use auto or false")
        return self

    def build(self, params: Iterable[torch.nn.Parameter], device: torch.device) -> torch.optim.Optimizer:
        fused = self.fused is True or (self.fused == "auto" and device.type == "cuda")
        # None, not False, lets PyTorch keep its own (foreach) choice when unfused.
        options = {"lr": self.lr, "weight_decay": self.weight_decay, "fused": fused or None}
        if self.name == "adam":
            return torch.optim.Adam(params, betas=self.betas, **options)
        if self.name == "sgd":
            return torch.optim.SGD(params, momentum=self.momentum, **options)
        return torch.optim.RMSprop(params, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay)


def gradient_norm(optimizer: torch.optim.Optimizer) -> torch.Tensor:
    """The global L2 norm of the gradients an optimiser is about to apply, as a device scalar (no host sync)."""
    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))


@contextmanager
def frozen(*networks: torch.nn.Module) -> Iterator[None]:
    """Within the block, the networks' weights collect no gradients (a generator's update through its
    discriminator needs gradients through D, not for D's weights); they are restored even after an error."""
    for net in networks:
        net.requires_grad_(False)
    try:
        yield
    finally:
        for net in networks:
            net.requires_grad_(True)


@contextmanager
def evaluating(net: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Within the block ``net`` is in eval mode (BatchNorm's running statistics, no dropout); its train/eval flag
    is restored afterwards, even after an error, so sampling or scoring in the middle of training changes nothing."""
    was_training = net.training
    net.eval()
    try:
        yield net
    finally:
        net.train(was_training)


@torch.no_grad()
def translated(net: torch.nn.Module, images: torch.Tensor, device: torch.device, chunk: int = 256) -> torch.Tensor:
    """Images in [-1, 1] mapped by the image-to-image network ``net`` in eval mode, ``chunk`` at a time on
    ``device``: the translators of CycleGAN and pix2pix."""
    with evaluating(net):
        return torch.cat([net(part.to(device)) for part in images.split(chunk)])


def minimise(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """One update of ``optimizer``'s parameters down the gradient of ``loss`` (gradients reset first)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
