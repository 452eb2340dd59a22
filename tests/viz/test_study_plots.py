"""The study page's spread figure: every seed drawn, and many models wrapped onto rows that stay readable."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from genlab.viz.study_plots import seed_spread


def dots(ax) -> np.ndarray:
    """The seeds' values drawn on ``ax`` (its scatter points' y), in drawing order."""
    return np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])


def test_few_models_share_one_row():
    fig = seed_spread({"ns": [1.0, 2.0], "wgan": [3.0, 4.0, 5.0]}, "fid")
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ns", "wgan"]
    assert dots(ax).tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    plt.close(fig)


def test_many_models_wrap_onto_rows_of_the_same_width():
    groups = {f"m{i}": [float(i), float(i) + 0.5] for i in range(30)}
    fig = seed_spread(groups, "modes", per_row=14)
    assert len(fig.axes) == 3 and fig.get_size_inches()[1] == 3 * 3.4
    labels = [[t.get_text() for t in ax.get_xticklabels()] for ax in fig.axes]
    assert labels[0] == [f"m{i}" for i in range(14)] and labels[2] == ["m28", "m29"]
    assert all(ax.get_xlim() == (0.5, 14.5) for ax in fig.axes)  # the last row's boxes as wide as the others
    drawn = np.sort(np.concatenate([dots(ax) for ax in fig.axes])).tolist()
    assert drawn == sorted(v for g in groups.values() for v in g)
    assert fig.axes[0].get_ylim() == fig.axes[2].get_ylim()  # one metric axis for all
    plt.close(fig)
