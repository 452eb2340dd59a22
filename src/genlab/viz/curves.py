"""Training curves from a run's metrics.jsonl: losses on the left, everything else the recipe logs on the right."""

from __future__ import annotations

from pathlib import Path

from genlab.train.logger import read_metrics
from genlab.viz.figures import save_figure

BOOKKEEPING = ("step", "elapsed", "images_per_s")


def plot_curves(metrics_path: str | Path, out: str | Path) -> Path | None:
    """Write a PNG of the curves; returns None (and writes nothing) when there are no records yet."""
    records = read_metrics(metrics_path)
    if not records:
        return None
    import matplotlib.pyplot as plt

    # Records differ in keys (mode statistics come on their own at sampling steps): plot each where it is present.
    keys = [k for k in dict.fromkeys(k for r in records for k in r) if k not in BOOKKEEPING]
    panels = [[k for k in keys if k.startswith("loss")], [k for k in keys if not k.startswith("loss")]]
    panels = [p for p in panels if p]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8), squeeze=False)
    for ax, names in zip(axes[0], panels, strict=True):
        for name in names:
            present = [r for r in records if name in r]
            ax.plot([r["step"] for r in present], [r[name] for r in present], label=name)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0][0].set_title("losses" if panels[0][0].startswith("loss") else "metrics")
    fig.tight_layout()
    return save_figure(fig, out)
