"""Writing matplotlib figures: the Agg backend (no display needed) and atomic PNG files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

from genlab.fileio import atomic_write

matplotlib.use("Agg")


def save_figure(fig: Any, path: str | Path, dpi: int = 100, **savefig: Any) -> Path:
    """Write ``fig`` as a PNG atomically (never a half-written file under the real name) and close it."""
    import matplotlib.pyplot as plt

    with atomic_write(path) as handle:
        fig.savefig(handle, format="png", dpi=dpi, **savefig)
    plt.close(fig)
    return Path(path)
