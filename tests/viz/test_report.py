"""Run reports and comparisons: self-contained pages with the run's curves, samples, metrics and findings."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import genlab
from genlab.cli import main
from genlab.errors import CheckpointError
from genlab.viz.report import best_marks

SETTINGS = ("train.steps=20", "train.sample_every=5", "train.log_every=5")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two tiny digits runs with made-up evaluation results, one with a doctor finding in its metrics."""
    from genlab.config import load_config
    from tests.conftest import TINY

    root = tmp_path_factory.mktemp("report")
    for name, fid in (("a", 12.0), ("b", 7.5)):
        genlab.fit(load_config(TINY, [*SETTINGS, f"name={name}"]), out=root / name)
        (root / name / "eval.json").write_text(json.dumps({"metrics": {"fid": fid, "recall": 0.5}, "provenance": {}}))
    finding = {
        "step": 20,
        "doctor": "mode-collapse",
        "message": "mode collapse: test",
        "remedy": "pack",
        "diversity": 0.1,
    }
    with (root / "a" / "metrics.jsonl").open("a") as handle:
        handle.write(json.dumps(finding) + "\n")
    genlab.report(root / "a")
    return root


def test_training_writes_a_self_contained_report(runs):
    page = (runs / "b" / "report.html").read_text()  # written by genlab.fit at the end of the run
    assert "http://" not in page and "https://" not in page and "<script src" not in page and "<link" not in page
    images = re.findall(r'<img src="data:image/png;base64,', page)
    assert len(images) >= 5  # 3 charts (losses, D outputs, gradients) + diversity + sample grids
    assert "step 20" in page and "step 5" in page  # the sample strip spans the run
    assert "name: b" in page and '<td class="left">loss/d</td>' in page  # the resolved config, final metrics


def test_the_report_lists_the_doctors_findings(runs):
    page = (runs / "a" / "report.html").read_text()
    assert "mode-collapse" in page and "mode collapse: test" in page
    assert "eval/fid" in page  # written after `genlab eval`: its results join the final metrics
    assert "found nothing" in (runs / "b" / "report.html").read_text()


def test_comparison_marks_the_best_value_of_each_metric(runs, tmp_path):
    assert best_marks({"a": {"eval/fid": 12.0, "eval/recall": 0.5}, "b": {"eval/fid": 7.5, "eval/recall": 0.4}}) == {
        "eval/fid": "b",
        "eval/recall": "a",
    }
    out = genlab.compare([runs / "a", runs / "b"], tmp_path / "compare.html")
    page = out.read_text()
    row_b = page[page.index('<td class="left">b</td>') :].split("</tr>")[0]
    assert '<td class="best">7.5</td>' in row_b
    with pytest.raises(ValueError, match="at least two"):
        genlab.compare([runs / "a"], tmp_path / "one.html")


def test_a_dollar_in_a_run_name_is_a_plain_character_in_the_chart_legends(runs, tmp_path):
    shutil.copytree(runs / "a", tmp_path / "x$\\frac{$")  # mathtext would fail to parse this legend
    page = genlab.compare([runs / "b", tmp_path / "x$\\frac{$"], tmp_path / "compare.html").read_text()
    assert "x$\\frac{$, step-00000020" in page


@pytest.mark.parametrize("content", ['{"metrics": {"fid": 1', "[1, 2]", '{"metrics": [1]}'])
def test_a_damaged_eval_json_is_named_with_the_way_to_write_it_again(runs, tmp_path, content):
    run = shutil.copytree(runs / "b", tmp_path / "b")
    (run / "eval.json").write_text(content)
    with pytest.raises(CheckpointError, match=r"eval\.json is not an evaluation result.*genlab eval"):
        genlab.report(run)


def test_report_and_compare_from_the_cli(runs, tmp_path, capsys):
    main(["report", str(runs / "b"), "--out", str(tmp_path / "r.html")])
    main(["compare", str(runs / "a"), str(runs / "b"), "--out", str(tmp_path / "c.html")])
    assert "wrote" in capsys.readouterr().out and (tmp_path / "r.html").is_file() and (tmp_path / "c.html").is_file()


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


@pytest.mark.parametrize("page", ["report", "compare"])
def test_pages_render_in_a_real_browser(runs, tmp_path, page):
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium; apt-get install chromium)")
    path = (
        runs / "a" / "report.html"
        if page == "report"
        else genlab.compare([runs / "a", runs / "b"], tmp_path / "c.html")
    )
    check_in_browser(browser, path, tmp_path)


def body_in_a_browser(page: Path, profile: Path) -> str:
    """The <body> tag of ``page`` after chromium loaded it and ran its scripts."""
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium; apt-get install chromium)")
    command = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
    return re.search(r"<body[^>]*>", dom).group(0)


def check_in_browser(browser: str, path, tmp_path, dark: float = 60, share: float = 0.01) -> str:
    """The page's own check in ``browser`` (every picture decoded with a size: data-ok true), a screenshot that is
    not blank (more than ``share`` of its pixels darker than ``dark``), and the check failing on a broken picture;
    returns the page's body tag."""
    common = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    body = body_in_a_browser(path, tmp_path / "profile")
    assert 'data-ok="true"' in body, body  # the page's own check: every picture decoded with a size
    shot = tmp_path / "shot.png"
    subprocess.run(
        [*common, "--window-size=1200,1600", f"--screenshot={shot}", path.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 20 and (pixels < dark).mean() > share  # not blank: charts (and sample grids) drawn
    broken = tmp_path / "broken.html"  # the check can fail: a picture that does not decode turns it false
    broken.write_text(path.read_text().replace("data:image/png;base64,", "data:image/png;base64,AAAA", 1))
    assert 'data-ok="false"' in body_in_a_browser(broken, tmp_path / "profile")
    return body
