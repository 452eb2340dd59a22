"""HTML in what a report shows is text, never markup: a run folder's name, the data path, class-folder names and
the training doctor's text. (A config's ``name`` cannot hold any: the config refuses such names.)

Each payload would set ``data-pwned`` on the page's body if it ran; a real browser (chromium, when installed) shows
that none does, while the page's own script still runs, and that the same payloads unescaped do run."""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from genlab.config import dump_config, load_config
from genlab.data import DataConfig, load_dataset
from genlab.errors import ConfigError
from genlab.images import to_uint8

from ..conftest import TINY
from ..viz.test_report import body_in_a_browser
from .conftest import assert_clean_error, run_cli

RUN_NAME = '<img src=x onerror="document.body.dataset.pwned=1">'
SECOND_RUN = '"><img src=x onerror=document.body.dataset.pwned=2>'  # breaks out of an attribute's quotes
DATA_FOLDER = "<script>document.body.dataset.pwned=3</script>"  # two folders: "<script>...<" and "script>"
CLASSES = ('<img src=x onerror="document.body.dataset.pwned=4">', '"><img src=x onerror=document.body.dataset.pwned=5>')
DOCTOR = {"message": "<script>document.body.dataset.pwned=6</script>", "remedy": SECOND_RUN}
SHOWN = (RUN_NAME, SECOND_RUN, DATA_FOLDER, DOCTOR["message"])
"""The payloads a page shows as text (class names do not appear on the pages at all)."""


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A run trained on an image folder whose path and class folders hold HTML, into a run folder named with HTML,
    with a doctor finding of HTML; its report.html and a compare.html with a copy named with more HTML."""
    root = tmp_path_factory.mktemp("html")
    digits = load_dataset(DataConfig(name="digits", size=8))
    data = root / DATA_FOLDER
    for label, name in enumerate(CLASSES):
        (data / name).mkdir(parents=True)
        for i, image in enumerate(to_uint8(digits.images[digits.labels == label][:16])):
            Image.fromarray(image[..., 0]).save(data / name / f"{i}.png")
    overrides = ["data.name=folder", f"data.path={data}", "eval.features=raw", "train.report=false"]
    (root / "cfg.yaml").write_text(dump_config(load_config(TINY, overrides)))
    run = root / RUN_NAME
    assert run_cli("train", root / "cfg.yaml", "--out", run, cwd=root).returncode == 0
    with (run / "metrics.jsonl").open("a") as handle:
        handle.write(json.dumps({"step": 20, "doctor": "mode-collapse", **DOCTOR}) + "\n")
    shutil.copytree(run, root / SECOND_RUN)
    out = {"report": root / "report.html", "compare": root / "compare.html"}
    for done in (
        run_cli("report", run, "--out", out["report"], cwd=root),
        run_cli("compare", run, root / SECOND_RUN, "--out", out["compare"], cwd=root),
    ):
        assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("page", ["report", "compare"])
def test_html_in_names_paths_and_doctor_text_is_escaped(pages, page):
    text = pages[page].read_text()
    for payload in (*SHOWN, *CLASSES):
        assert payload not in text
    shown = SHOWN if page == "report" else (RUN_NAME, SECOND_RUN)  # compare shows run names, no config or findings
    for payload in shown:
        assert html.escape(payload) in text, payload
    assert text.count("<script>") == 1  # the page's own check


def test_a_config_name_cannot_carry_html():
    with pytest.raises(ConfigError, match="name"):
        load_config(TINY, [f"name={RUN_NAME}"])


@pytest.mark.parametrize("page", ["report", "compare"])
def test_no_payload_runs_in_a_real_browser(pages, tmp_path, page):
    body = body_in_a_browser(pages[page], tmp_path / "profile")
    assert 'data-ok="true"' in body and "data-pwned" not in body, body  # scripts run; only the page's own
    live = tmp_path / "unescaped.html"  # the control: the same page with its text unescaped runs the payloads
    live.write_text(html.unescape(pages[page].read_text()))
    assert "data-pwned" in body_in_a_browser(live, tmp_path / "profile")


def test_a_damaged_eval_json_stops_the_report_with_the_fix(cli, pages, tmp_path):
    run = shutil.copytree(pages["report"].parent / RUN_NAME, tmp_path / "run")
    (run / "eval.json").write_text('{"metrics": {"fid": 12.')
    assert_clean_error(cli("report", run), "eval.json is not an evaluation result", "genlab eval")
