"""benchmarks/modes_2d.py, now the tables of the study configs/studies/modes-2d.yaml: the ready study has the
script's entries and protocol, the wrapper's cut study file, and its tables from a study folder's index."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import yaml

from genlab.config import read_yaml
from genlab.study.spec import load_study
from genlab.study.trials import TrialSpec

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "modes_2d.py"


@pytest.fixture(scope="module")
def modes_2d():
    spec = importlib.util.spec_from_file_location("modes_2d", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_ready_study_is_the_scripts_comparison(modes_2d):
    """Every entry on both mixtures, each its ready config untouched but for the quiet run settings, three seeds,
    no search, 2,500 samples of latent seed 12345 scored by the mode statistics."""
    plan = load_study("modes-2d")
    names = [f"{entry}-{data}" for data in ("ring8", "grid25") for entry in modes_2d.ENTRIES]
    assert [model.name for model in plan.models] == names
    assert (plan.spec.samples, plan.spec.seeds, plan.spec.rerun.seeds, plan.spec.value) == (1, 3, 0, "modes")
    for model in plan.models:
        ready = read_yaml(model.name)[0]
        assert model.config["model"] == ready["model"] and model.config["data"] == ready["data"]
        assert model.config["train"]["steps"] == ready["train"]["steps"] and model.space == {}
        assert model.config["eval"] | {"every": 0} == {"n": 2500, "seed": 12345, "metrics": ["modes"], "every": 0}


def test_a_cut_study_with_changes_and_a_label(modes_2d, tmp_path):
    study = modes_2d.study_file(["ebgan"], ["ring8"], 2, ["model.objective.pt_weight=0.1"], "ebgan-pt")
    assert study["models"] == {"ebgan-pt-ring8": {"base": "ebgan-ring8", "model.objective.pt_weight": 0.1}}
    assert study["seeds"] == 2 and study["overrides"]["eval.n"] == 2500
    (tmp_path / "cut.yaml").write_text(yaml.safe_dump(study))
    (model,) = load_study(tmp_path / "cut.yaml").models
    assert model.config["model"]["objective"]["pt_weight"] == 0.1
    with pytest.raises(SystemExit, match="no such entry"):
        modes_2d.study_file(["ebgam"], ["ring8"], 1, [], None)
    with pytest.raises(SystemExit, match="write KEY=VALUE"):
        modes_2d.study_file(["ebgan"], ["ring8"], 1, ["pt_weight"], None)


def test_the_tables_of_a_study_folder(modes_2d, tmp_path):
    """Two ring8 seeds of wgan-gp, one without high-quality samples (reverse KL undefined), and a failed one."""
    import genlab.study

    rows = []
    for seed, (modes, hq, kl) in enumerate([(2, 0.004, 1.5), (0, 0.0, None)]):
        row = TrialSpec("wgan-gp-ring8", {}, seed).row("done")
        rows.append(row | {"metrics": {"modes": modes, "high_quality": hq, "modes_kl": kl}, "wall_time": 30.0 + seed})
    rows.append(TrialSpec("wgan-gp-ring8", {}, 2).row("failed") | {"error": "training diverged"})
    (tmp_path / "trials.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    found = modes_2d.results(genlab.study.load(tmp_path))
    got = [(r["entry"], r["data"], r["seed"], r["num_modes"]) for r in found]
    assert got == [("wgan-gp", "ring8", 0, 8), ("wgan-gp", "ring8", 1, 8)]  # the failed trial left out
    line = modes_2d.table(found, "ring8", ["wgan-gp"]).splitlines()[-1]
    assert line == "| wgan-gp | 1.0 ± 1.4 | 0.2 ± 0.3 | 1.500 ± 0.000 (1 undefined) | no | 30 ± 1 |"
