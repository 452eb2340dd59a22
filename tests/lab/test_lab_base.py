"""The lab framework: running an experiment by name writes its numbers as JSON; unknown names get a suggestion."""

from __future__ import annotations

import json

import pytest

from genlab.cli import main
from genlab.errors import ConfigError
from genlab.lab import LABS, LabResult, run_lab


def test_run_lab_writes_the_numbers_and_seed(tmp_path, monkeypatch):
    def experiment(out, seed):
        (out / "picture.png").write_bytes(b"png")
        return LabResult({"answer": 42.0 + seed}, [out / "picture.png"])

    monkeypatch.setitem(LABS._items, "example", experiment)
    result = run_lab("example", tmp_path / "lab", seed=3)
    saved = json.loads((tmp_path / "lab" / "example.json").read_text())
    assert saved["answer"] == 45.0 and saved["seed"] == 3 and saved["experiment"] == "example"
    assert result.files == [tmp_path / "lab" / "picture.png", tmp_path / "lab" / "example.json"]


def test_unknown_experiment_names_the_nearest(capsys):
    with pytest.raises(ConfigError, match="did you mean 'optimal-d'"):
        run_lab("optimal-dd")
    main(["lab", "--list"])
    listed = capsys.readouterr().out.split()
    assert {"optimal-d", "divergences", "critic-field", "mode-collapse", "gan-1d"} <= set(listed)


def test_an_experiment_runs_from_the_command_line(tmp_path, capsys):
    main(["lab", "divergences", "--out", str(tmp_path)])
    shown = capsys.readouterr().out
    assert "experiment: divergences" in shown and "divergences.png" in shown
    assert (tmp_path / "divergences.json").is_file()
