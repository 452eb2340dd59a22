import json

from matplotlib.axes import Axes

from genlab.viz.curves import plot_curves


def test_keys_of_every_record_are_plotted_at_their_own_steps(tmp_path, monkeypatch):
    records = [
        {"step": 5, "elapsed": 1.0, "loss/d": 0.5},
        {"step": 10, "elapsed": 2.0, "loss/d": 0.4},
        {"step": 10, "modes/covered": 3},  # a sampling step's own record, last in the file
    ]
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    drawn = {}
    original = Axes.plot

    def spy(self, xs, ys, *args, label=None, **kwargs):
        drawn[label] = (list(xs), list(ys))
        return original(self, xs, ys, *args, label=label, **kwargs)

    monkeypatch.setattr(Axes, "plot", spy)
    assert plot_curves(path, tmp_path / "curves.png") == tmp_path / "curves.png"
    assert drawn == {"loss/d": ([5, 10], [0.5, 0.4]), "modes/covered": ([10], [3])}
