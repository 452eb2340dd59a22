"""The classic 1-D GAN picture: p_g moving onto p_data while D(x) flattens towards 1/2 (Goodfellow et al., Fig. 1).

The data are N(4, 0.5²); the generator is a small MLP that maps uniform noise on [-1, 1] to the line, so it has to
learn both a shift and a shape; the discriminator is a small MLP on the line. They play the non-saturating game in a
plain torch loop (a teaching demo of the densities, not of genlab's trainer, which wants image or 2-D data sets).
Every few steps a frame records G's samples from fixed noise and D on a grid; the frames become an animated GIF and
a strip of six, and the numbers are the mean, standard deviation and W1 distance to the data of each frame's samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from genlab.fileio import atomic_write
from genlab.lab.base import LABS, LabResult, mlp_1d, save_figure
from genlab.metrics import wasserstein1
from genlab.objectives.nonsaturating import NonSaturating

DATA_MEAN, DATA_STD = 4.0, 0.5
STEPS, FRAME_EVERY, BATCH, LR = 1500, 50, 128, 1e-3
N_EVAL = 4000
"""Samples per frame (G's, from fixed noise) and in the fixed data sample the W1 distance is measured against."""
GRID = np.linspace(-2.0, 8.0, 401)
STRIP_FRAMES = 6


@dataclass
class Frame:
    step: int
    samples: np.ndarray
    """G's samples from the fixed evaluation noise."""
    d_on_grid: np.ndarray
    """D(x) = sigmoid(logit) on :data:`GRID`."""


def _noise(n: int, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(n, 1, generator=generator) * 2 - 1


def _train(seed: int) -> list[Frame]:
    """Non-saturating GAN on N(4, 0.5²): D minimises -log D(x) - log(1 - D(G(z))), G minimises -log D(G(z))."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    g_net, d_net = mlp_1d(32, nn.ReLU), mlp_1d(32, nn.ReLU)
    objective = NonSaturating()
    g_opt = torch.optim.Adam(g_net.parameters(), lr=LR, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(d_net.parameters(), lr=LR, betas=(0.5, 0.999))
    eval_noise = _noise(N_EVAL, torch.Generator().manual_seed(seed + 1))
    grid = torch.as_tensor(GRID, dtype=torch.float32)[:, None]
    frames: list[Frame] = []
    for step in range(STEPS + 1):
        if step % FRAME_EVERY == 0:
            with torch.no_grad():
                frames.append(Frame(step, g_net(eval_noise)[:, 0].numpy(), torch.sigmoid(d_net(grid))[:, 0].numpy()))
        if step == STEPS:
            break
        real = DATA_MEAN + DATA_STD * torch.randn(BATCH, 1, generator=gen)
        fake = g_net(_noise(BATCH, gen))
        d_loss = objective.d_loss(d_net(real), d_net(fake.detach()))
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        g_loss = objective.g_loss(d_net(fake))
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()
    return frames


def _draw(ax, frame: Frame, legend: bool) -> None:
    """Histogram of p_g, the true density p_data and D(x) on one axes (all three live in [0, 1.6])."""
    p_data = np.exp(-0.5 * ((GRID - DATA_MEAN) / DATA_STD) ** 2) / (DATA_STD * np.sqrt(2 * np.pi))
    ax.hist(
        np.clip(frame.samples, GRID[0], GRID[-1]), bins=80, range=(GRID[0], GRID[-1]), density=True,
        color="tab:green", alpha=0.5, label="p_g (samples)",
    )  # fmt: skip
    ax.plot(GRID, p_data, color="black", lw=1.5, label="p_data")
    ax.plot(GRID, frame.d_on_grid, color="tab:blue", ls="--", lw=1.5, label="D(x)")
    ax.axhline(0.5, color="grey", lw=0.5, ls=":")
    ax.set_xlim(GRID[0], GRID[-1])
    ax.set_ylim(0, 1.6)
    ax.set_title(f"step {frame.step}", fontsize=9)
    if legend:
        ax.legend(loc="upper left", fontsize=7)


def _frame_image(frame: Frame) -> np.ndarray:
    """One frame rendered by matplotlib to an RGB array (H, W, 3) of uint8."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 3.0), dpi=80)
    _draw(ax, frame, legend=True)
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image


def _write_gif(frames: list[Frame], path: Path) -> Path:
    from PIL import Image

    images = [Image.fromarray(_frame_image(f)) for f in frames]
    # Palette per frame; hold the last frame longer so the converged picture is readable.
    durations = [120] * (len(images) - 1) + [1500]
    with atomic_write(path) as handle:
        images[0].save(handle, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)
    return path


def _write_strip(frames: list[Frame], path: Path) -> Path:
    import matplotlib.pyplot as plt

    picks = np.unique(np.linspace(0, len(frames) - 1, STRIP_FRAMES).round().astype(int))
    fig, axes = plt.subplots(1, len(picks), figsize=(2.6 * len(picks), 2.4), sharey=True)
    for i, (ax, index) in enumerate(zip(axes, picks, strict=True)):
        _draw(ax, frames[index], legend=i == 0)
    return save_figure(fig, path)


@LABS.register("gan-1d")
def gan_1d(out: Path, seed: int) -> LabResult:
    """Train the 1-D GAN, write ``gan-1d.gif`` (all frames) and ``gan-1d.png`` (six), and report each frame's fit."""
    frames = _train(seed)
    data = np.random.default_rng(seed).normal(DATA_MEAN, DATA_STD, N_EVAL)
    w1 = [wasserstein1(f.samples, data) for f in frames]
    gif = _write_gif(frames, out / "gan-1d.gif")
    strip = _write_strip(frames, out / "gan-1d.png")
    return LabResult(
        numbers={
            "data_mean": DATA_MEAN,
            "data_std": DATA_STD,
            "steps": [f.step for f in frames],
            "g_mean": [float(f.samples.mean()) for f in frames],
            "g_std": [float(f.samples.std()) for f in frames],
            "w1": w1,
            "first_w1": w1[0],
            "final_w1": w1[-1],
            "final_d_at_data_mean": float(np.interp(DATA_MEAN, GRID, frames[-1].d_on_grid)),
        },
        files=[gif, strip],
    )
