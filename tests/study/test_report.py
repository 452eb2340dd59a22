"""The study page: the bootstrap of best-against-budget by hand, the page of a hand-written index, the page of a
tiny real study, and the page in a real browser."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil

import pytest
import torch
import yaml

import genlab.study
from genlab.cli import main
from genlab.errors import GenlabError
from genlab.study.analysis import best_of_budget
from genlab.study.trials import TrialSpec
from tests.study.test_run import write_study
from tests.viz.test_report import body_in_a_browser, check_in_browser

NS_FAST, NS_SLOW = {"model.d_optim.lr": 1e-3}, {"model.d_optim.lr": 2e-3}


def test_best_of_budget_matches_the_exact_expectations():
    """Settings scored 1 and 3, lower is better: one draw is either, mean 2; the best of two draws is 3 only when
    both are 3 (probability 1/4), mean 1 * 3/4 + 3 * 1/4 = 1.5. Higher is better: 3 * 3/4 + 1 * 1/4 = 2.5. With
    scores 1, 2, 3 the best (lowest) of three is 1 with probability 1 - (2/3)^3 = 19/27, 2 with (2/3)^3 - (1/3)^3
    = 7/27 and 3 with 1/27: mean 36/27 = 4/3."""
    low = best_of_budget([1.0, 3.0], "min", draws=40_000)
    assert low.ks == [1, 2]
    assert low.mean == pytest.approx([2.0, 1.5], abs=0.02)
    assert (low.low, low.high) == ([1.0, 1.0], [3.0, 3.0])  # 3 has probability 1/4 > 2.5 % at k = 2
    assert best_of_budget([1.0, 3.0], "max", draws=40_000).mean == pytest.approx([2.0, 2.5], abs=0.02)
    three = best_of_budget([3.0, 1.0, 2.0], "min", draws=40_000)
    assert three.mean[2] == pytest.approx(4 / 3, abs=0.02)
    assert (three.low, three.high) == ([1.0] * 3, [3.0] * 3)  # P(best of 3 is 3) = 1/27 = 3.7 % > 2.5 %
    assert best_of_budget([3.0, 1.0, 2.0], "min", draws=40_000, seed=0) == three  # seeded: the same curve
    assert best_of_budget([3.0, 1.0, 2.0], "min", draws=500, seed=1) != best_of_budget(
        [3.0, 1.0, 2.0], "min", draws=500
    )
    ten = best_of_budget([float(v) for v in range(1, 11)], "min", draws=40_000)
    # Best of ten draws from 1..10: P(best >= v) = ((11 - v) / 10)^10, so its mean is sum_m (m / 10)^10 = 1.4914
    # and P(best >= 4) = 0.7^10 = 2.8 %, P(best >= 5) = 0.6 %: the band's top is 4.
    assert ten.mean[9] == pytest.approx(sum((m / 10) ** 10 for m in range(1, 11)), abs=0.02)
    assert (ten.low[9], ten.high[9]) == (1.0, 4.0) and ten.mean[0] == pytest.approx(5.5, abs=0.05)
    one = best_of_budget([5.0], "max")
    assert (one.mean, one.low, one.high) == ([5.0], [5.0], [5.0])
    with pytest.raises(ValueError, match="at least one scored setting"):
        best_of_budget([], "min")
    with pytest.raises(ValueError, match="mode must be min or max"):
        best_of_budget([1.0], "lowest")


def trial_row(model, values, seed, phase=1, final=None, status="done", metrics=None, error=None):
    """An index row as the runner writes it: the planned row with the trial's results."""
    row = TrialSpec(model, values, seed, phase).row(status)
    results = {"metric": "fid", "final": final, "best": final, "metrics": metrics or {}, "error": error}
    done = {"evaluations": 1, "steps": 20, "wall_time": 1.5} if status == "done" else {}
    return row | results | done


def write_folder(folder, rows, rerun=2):
    """A study folder without training: the study file copy and a hand-written index."""
    folder.mkdir()
    study = {"base": "tiny.yaml", "models": {"ns": {}, "wgan": {}}, "samples": 2, "seeds": 2, "rerun": {"seeds": rerun}}
    (folder / "study.yaml").write_text(yaml.safe_dump(study))
    (folder / "trials.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return folder


ROWS = [
    trial_row("ns", NS_FAST, 0, final=10.0, metrics={"fid": 10.0, "precision": 0.8, "recall": 0.3}),
    trial_row("ns", NS_FAST, 1, final=12.0, metrics={"fid": 12.0, "precision": 0.7, "recall": 0.4}),
    trial_row("ns", NS_SLOW, 0, final=20.0, metrics={"fid": 20.0, "precision": 0.5, "recall": 0.2}),
    trial_row("ns", NS_SLOW, 1, final=22.0, metrics={"fid": 22.0, "precision": 0.4, "recall": 0.1}),
    trial_row("wgan", {"model.d_optim.lr": 0.5}, 0, status="failed", error="training diverged: NaN at step 3"),
    trial_row("wgan", {"model.d_optim.lr": 0.5}, 1, status="failed", error="training diverged: NaN at step 4"),
    trial_row("wgan", {"model.d_optim.lr": 1e-4}, 0, final=30.0, metrics={"fid": 30.0}),
    trial_row("wgan", {"model.d_optim.lr": 1e-4}, 1, final=34.0, metrics={"fid": 34.0}),
    trial_row("ns", NS_FAST, 2, phase=2, final=9.0, metrics={"fid": 9.0}),
    trial_row("ns", NS_FAST, 3, phase=2, final=13.0, metrics={"fid": 13.0}),
    trial_row("wgan", {"model.d_optim.lr": 1e-4}, 2, phase=2, status="running"),
]


def section(page: str, heading: str) -> str:
    return page.split(f"<h2>{heading}</h2>")[1].split("<h2>")[0]


def test_the_page_of_a_hand_written_index(tmp_path):
    """ns: the setting of mean 11 beats that of mean 21, and its two phase-2 seeds (9, 13) are its spread, 11 ± 2.8;
    wgan: the only setting with a value, its phase-1 seeds (30, 34) because its rerun is still running. The ns
    trials carry precision and recall: three pictures. Both failures are listed with their messages."""
    folder = write_folder(tmp_path / "study", ROWS)
    (folder / ROWS[0]["dir"]).mkdir(parents=True)
    (folder / ROWS[0]["dir"] / "report.html").write_text("a run report")
    page = genlab.study.report(folder).read_text()
    assert "http://" not in page and "https://" not in page and "<script src" not in page and "<link" not in page
    assert 'data-ok="pending"' in page and "data-ok" in page.split("<script>")[1]  # the run reports' self-check
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 3
    assert "Trials: 11 of 2 model(s); 8 done, 2 failed, 1 running or interrupted" in page
    best = section(page, "Best setting of each model")
    ns_row, wgan_row = best.split("<tr>")[2:4]
    assert "model.d_optim.lr=0.001" in ns_row and "11 ± 2.8" in ns_row and "<td>2</td></tr>" in ns_row
    assert "model.d_optim.lr=0.0001" in wgan_row and "32 ± 2.8" in wgan_row and "<td>1</td></tr>" in wgan_row
    assert "no finished rerun (phase 2, rerun.seeds), so its phase-1 seeds are shown" in best
    budget = section(page, "Best metric against budget")
    assert "drawn with replacement 2000 times" in budget and "One scored setting only, so no curve: wgan" in budget
    failed = section(page, "Failed trials")
    assert "NaN at step 3" in failed and "NaN at step 4" in failed and "model.d_optim.lr=0.5" in failed
    trials = section(page, "Every trial")
    assert trials.count("<tr>") == 1 + len(ROWS)
    assert f'<a href="trials/{ROWS[0]["id"]}/report.html">{ROWS[0]["id"]}</a>' in trials  # the trial's run report
    assert f'<td class="left">{ROWS[1]["id"]}</td>' in trials  # a trial without one: its id


def test_a_page_without_precision_recall_or_failures_says_so(tmp_path, capsys):
    rows = [r for r in ROWS if r["status"] != "failed"]
    rows = [r | {"metrics": {"fid": r["final"]}} for r in rows if r["model"] == "ns"]
    folder = write_folder(tmp_path / "study", rows)
    main(["study", "report", str(folder), "--out", str(tmp_path / "page.html")])
    assert f"wrote {tmp_path / 'page.html'}" in capsys.readouterr().out
    page = (tmp_path / "page.html").read_text()
    assert "No trial has precision and recall metrics" in section(page, "Precision against recall")
    assert "No trial failed." in page and "no finished rerun" not in page
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 2
    assert not (folder / "study.html").exists()


def test_a_study_without_search_draws_no_budget_curve(tmp_path):
    """samples: 1 (the 2-D study's form): one setting per model, nothing to draw against budget; only the spread."""
    rows = [trial_row(m, {}, seed, final=f, metrics={"fid": f}) for m, seed, f in [("ns", 0, 3.0), ("ns", 1, 5.0)]]
    rows += [trial_row("wgan", {}, seed, final=f, metrics={"fid": f}) for seed, f in [(0, 7.0), (1, 9.0)]]
    page = genlab.study.report(write_folder(tmp_path / "study", rows, rerun=0)).read_text()
    budget = section(page, "Best metric against budget")
    assert "there is no budget to vary" in budget and "<img" not in budget
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 1
    assert "4 ± 1.4" in section(page, "Best setting of each model")


def test_a_folder_that_is_no_study_is_refused(tmp_path, capsys):
    with pytest.raises(GenlabError, match="holds no study index"):
        genlab.study.report(tmp_path)
    (tmp_path / "trials.jsonl").write_text(json.dumps(ROWS[0]) + "\n")
    with pytest.raises(GenlabError, match=r"has no study\.yaml"):
        genlab.study.report(tmp_path)
    with pytest.raises(SystemExit):
        main(["study", "run", "modes-2d"])
    assert "genlab study run: give --out DIR" in capsys.readouterr().err


@pytest.fixture(scope="module")
def real_study(tmp_path_factory):
    """A tiny real study: two learning rates of G, one barely learning (1e-6), then the better over two new seeds,
    each trial scored by FID and by precision and recall; genlab study run writes the page at its end."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("real")
    study = write_study(
        root,
        space={"model.g_optim.lr": {"grid": [1e-6, 5e-3]}},
        rerun={"seeds": 2},
        overrides={"eval.metrics": ["fid", "pr"]},
    )
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            main(["study", "run", str(study), "--out", str(root / "out"), "--jobs", "1"])
    finally:
        torch.set_num_threads(threads)
    (root / "out" / "printed.txt").write_text(printed.getvalue())
    return root / "out"


def test_a_real_study_writes_its_page(real_study):
    assert f"study page: {real_study / 'study.html'}" in (real_study / "printed.txt").read_text()
    page = (real_study / "study.html").read_text()
    rows = genlab.study.load(real_study)
    assert len(rows) == 4 and set(rows["status"]) == {"done"}
    best = section(page, "Best setting of each model")
    rerun = rows[rows["phase"] == 2]["final"]
    assert "model.g_optim.lr=0.005" in best and f"{rerun.mean():.4g} ± {rerun.std():.2g}" in best
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 3  # spread, budget, precision-recall
    assert all(f'<td class="left">{trial}</td>' in section(page, "Every trial") for trial in rows["id"])


def test_the_study_page_renders_in_a_real_browser(real_study, tmp_path):
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium; apt-get install chromium)")
    body = check_in_browser(browser, real_study / "study.html", tmp_path, dark=128, share=0.005)
    assert 'data-images="3"' in body


def test_a_page_without_pictures_passes_its_check_and_a_lost_picture_fails_it(tmp_path):
    """The check counts the pictures the page was written with: none for a study whose every trial failed (it
    read false before), and one missing picture of a page that had some turns it false."""
    failed = [r for r in ROWS if r["status"] == "failed"]
    empty = genlab.study.report(write_folder(tmp_path / "failed", failed))
    assert 'data-expect="0"' in empty.read_text()
    body = body_in_a_browser(empty, tmp_path / "profile")
    assert 'data-ok="true"' in body and 'data-images="0"' in body, body
    full = genlab.study.report(write_folder(tmp_path / "full", ROWS))
    text = full.read_text()
    assert 'data-expect="3"' in text
    first = text.index("<figure><img")
    lost = tmp_path / "lost.html"
    lost.write_text(text[:first] + text[text.index("</figure>", first) + len("</figure>") :])
    body = body_in_a_browser(lost, tmp_path / "profile")
    assert 'data-ok="false"' in body and 'data-images="2"' in body, body
