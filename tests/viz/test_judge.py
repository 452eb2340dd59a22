"""genlab judge: the "real or fake?" page, its scoring (Wilson's interval against scipy), its errors, and the page
driven by clicks and keys in a real headless browser."""

import base64
import io
import json
import re
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.stats import binomtest

import genlab
from genlab.cli import main
from genlab.data import DataConfig, open_dataset
from genlab.errors import ConfigError, DataError, GenlabError
from genlab.images import to_uint8
from genlab.metrics.reference import real_subset
from genlab.viz.judge import JudgeScore, _fixed, judge_order, score, wilson_interval, write_judge_page
from tests.viz.test_report import CHROMIUM_FLAGS

N, SEED = 6, 3


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny digits GAN trained for a few steps (8x8 images)."""
    from genlab.config import load_config
    from tests.conftest import TINY

    out = tmp_path_factory.mktemp("judge") / "run"
    genlab.fit(load_config(TINY, ["train.steps=10", "train.sample_every=0", "train.report=false"]), out=out)
    return out


@pytest.fixture(scope="module")
def page(run, tmp_path_factory):
    return genlab.judge(run, N, out=tmp_path_factory.mktemp("page") / "judge.html", seed=SEED, device="cpu")


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (0, 12), (6, 12), (9, 12), (12, 12), (37, 100), (50, 50)])
def test_the_wilson_interval_is_scipys(k, n):
    low, high = binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert wilson_interval(k, n) == pytest.approx((low, high), abs=1e-12)


def test_the_score_of_a_hand_counted_judge():
    truth = ["real", "fake", "real", "fake"]
    result = score(truth, ["real", "real", "fake", "fake"], [0.125, 2.0, 3.0, 10.0])
    assert result == JudgeScore(2, 4, wilson_interval(2, 4), 1, 1, 2.5)
    assert result.accuracy == 0.5
    # centre 0.5, half-width 1.96 / (4 + 1.96²) · sqrt(1 + 1.96²/4) = 0.3493
    assert result.summary() == [
        "accuracy: 2/4 = 50.0 % (95 % Wilson interval: 15.0 % to 85.0 %)",
        "fakes called real: 1/2 = 50.0 %",
        "reals called real: 1/2 = 50.0 %",
        "median time per image: 2.50 s",
    ]
    # a half is rounded up, as JavaScript's toFixed does (Python's format would print 0.12)
    assert score(truth[:2], ["real", "fake"], [0.125, 0.125]).summary()[-1] == "median time per image: 0.13 s"


def test_a_page_needs_as_many_fakes_as_real_images(tmp_path):
    with pytest.raises(ValueError, match="as many real images as fakes, got 2 and 3"):
        write_judge_page(torch.zeros(2, 1, 4, 4), torch.zeros(3, 1, 4, 4), tmp_path / "j.html", run="r", seed=0)


def test_the_order_holds_n_of_each_and_follows_the_seed():
    order = judge_order(25, 0)
    assert order.count("real") == order.count("fake") == 25
    assert order == judge_order(25, 0) and order != judge_order(25, 1)


def _shown_images(path):
    uris = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]*)" hidden>', path.read_text())
    return [(np.asarray(Image.open(io.BytesIO(base64.b64decode(uri)))), alt) for uri, alt in uris]


def test_the_page_shows_the_evaluations_real_images_and_the_generators_in_the_seeds_order(run, page):
    text = page.read_text()
    assert "http://" not in text and "https://" not in text and "<script src" not in text and "<link" not in text
    assert "image-rendering:pixelated" in text
    shown = _shown_images(page)
    assert len(shown) == 2 * N and {alt for _, alt in shown} == {"image"}  # the alt text does not tell
    data = open_dataset(DataConfig(name="digits", size=8, split="train"))[0]  # TINY's eval.real_split
    real = iter(to_uint8(real_subset(data, N)[0])[..., 0])
    fake = iter(to_uint8(genlab.sample(run, N, seed=SEED, device="cpu"))[..., 0])
    for (pixels, _), truth in zip(shown, judge_order(N, SEED), strict=True):
        assert np.array_equal(pixels, next(real if truth == "real" else fake))


def test_bad_runs_and_counts_are_refused_with_the_fix(run, tmp_path):
    from genlab.config import load_config

    with pytest.raises(
        DataError, match=r"n = 100000 is more than the \d+ real images of digits \(train split\).*or less"
    ):
        genlab.judge(run, 100000, out=tmp_path / "j.html", device="cpu")
    with pytest.raises(ConfigError, match="n must be >= 1, got 0"):
        genlab.judge(run, 0, out=tmp_path / "j.html", device="cpu")
    settings = ["device=cpu", "train.steps=2", "train.progress=false", "train.loggers=[jsonl]", "model.width=4"]
    classifier = genlab.fit(load_config("classifier-digits", [*settings, "train.report=false"]), out=tmp_path / "c")
    with pytest.raises(GenlabError, match=r"classifier, which generates no images to judge.*trained a generator"):
        genlab.judge(classifier.run_dir, 2, out=tmp_path / "j.html", device="cpu")
    assert not (tmp_path / "j.html").exists()


def _answers(**changes) -> dict:
    record = {"format": "genlab-judge-1", "run": "r", "seed": SEED, "n": N, "truth": judge_order(N, SEED)}
    return record | {"answers": ["real"] * 2 * N, "seconds": [1.0] * 2 * N} | changes


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"format": "genlab-judge-1", "n": ', "is not JSON"),
        ('{"metrics": {"fid": 3.0}, "provenance": {}}', "is not a genlab judge answers file .format: Field required"),
        ("[1, 2]", "not a genlab judge answers file"),
        (json.dumps(_answers(answers=["real"] * 5)), "5 answers and 12 times for 12 images"),
        (json.dumps(_answers(answers=["maybe"] * 12)), r"answers\.0: Input should be 'real' or 'fake'"),
        (json.dumps(_answers(seconds=[-1.0] * 12)), r"seconds\.0: Input should be greater than or equal to 0"),
        (json.dumps(_answers(n=5)), "truth must hold n = 5 'real' and 5 'fake'"),
    ],
)
def test_a_damaged_or_foreign_answers_file_is_named_with_the_fix(tmp_path, capsys, content, problem):
    path = tmp_path / "answers.json"
    path.write_text(content)
    with pytest.raises(SystemExit) as stop:
        main(["judge", "--score", str(path)])
    error = capsys.readouterr().err
    assert stop.value.code == 1 and re.search(problem, error), error
    assert "download the answers again" in error and str(path) in error


def test_the_command_writes_the_page(run, tmp_path, capsys):
    main(["judge", str(run), "--n", "2", "--out", str(tmp_path / "j.html"), "--seed", "1", "--device", "cpu"])
    assert capsys.readouterr().out.strip() == f"wrote {tmp_path / 'j.html'}"
    assert len(_shown_images(tmp_path / "j.html")) == 4


def test_the_command_needs_a_run_or_answers(tmp_path, capsys):
    for argv in (["judge"], ["judge", "RUN", "--score", "a.json"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert "RUN_DIR" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["judge", "--score", str(tmp_path / "none.json")])
    assert "none.json does not exist" in capsys.readouterr().err


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by its chromedriver through Selenium (never Selenium Manager's downloads)."""
    if shutil.which("chromium") is None or shutil.which("chromedriver") is None:
        pytest.skip("chromium or chromedriver is not installed (.ci/run: apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)
    yield driver
    driver.quit()


FETCH = "var done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);"


def _judge_in_browser(driver, page, answer) -> tuple[str, dict]:
    """Open the page, answer every image with ``answer(position, truth, driver)``; the summary shown and the
    answers file downloaded from the page's link."""
    from selenium.webdriver.common.by import By

    driver.get(page.as_uri())
    assert driver.find_element(By.TAG_NAME, "body").get_attribute("data-ok") == "true"  # every picture decoded
    driver.find_element(By.ID, "start").click()
    for position, truth in enumerate(judge_order(N, SEED)):
        assert driver.find_element(By.ID, "progress").text == f"image {position + 1} of {2 * N}"
        visible = [image for image in driver.find_elements(By.CSS_SELECTOR, "#deck img") if image.is_displayed()]
        assert len(visible) == 1 and visible[0].size["width"] >= 320  # one at a time, enlarged
        answer(position, truth, driver)
    assert driver.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "done"
    link = driver.find_element(By.ID, "download")
    assert link.get_attribute("download") == "judge-answers.json"
    return driver.find_element(By.ID, "summary").text, json.loads(
        driver.execute_async_script(FETCH, link.get_attribute("href"))
    )


def test_a_person_judging_in_a_real_browser_gets_the_score_python_computes(browser, run, page, tmp_path, capsys):
    from selenium.webdriver.common.by import By

    def click_real(position, truth, driver):
        driver.find_element(By.ID, "real").click()

    def keys_pattern(position, truth, driver):  # right except at every third image, by the R and F keys
        right = position % 3 != 0
        key = "r" if (truth == "real") == right else "f"
        driver.find_element(By.TAG_NAME, "body").send_keys(key.upper() if position % 2 else key)

    order = judge_order(N, SEED)
    wrong = [order[i] for i in range(0, 2 * N, 3)]
    passes = (
        (click_real, (N, N, N)),  # all called real: half right, every fake called real
        (keys_pattern, (2 * N - len(wrong), wrong.count("fake"), N - wrong.count("real"))),
    )
    for answer, (correct, fakes_called_real, reals_called_real) in passes:
        shown, record = _judge_in_browser(browser, page, answer)
        assert record["truth"] == order and record["n"] == N and record["seed"] == SEED and record["run"] == str(run)
        assert len(record["seconds"]) == 2 * N and min(record["seconds"]) > 0
        expected = score(record["truth"], record["answers"], record["seconds"])
        assert (expected.correct, expected.fakes_called_real, expected.reals_called_real) == (
            correct,
            fakes_called_real,
            reals_called_real,
        )
        assert shown.splitlines() == expected.summary()
        path = tmp_path / "judge-answers.json"
        path.write_text(json.dumps(record))
        main(["judge", "--score", str(path)])
        assert capsys.readouterr().out.splitlines() == expected.summary()
    assert shown.startswith("accuracy: 8/12 = 66.7 % (95 % Wilson interval: 39.1 % to 86.2 %)")


def test_the_pages_rounding_is_pythons(browser):
    values = [0.125, 0.135, 2.675, 1.005, 0.05, 99.95, 12.345, 2 / 3, 1e-17]
    shown = browser.execute_script("return arguments[0].map(function (v) { return v.toFixed(2); });", values)
    assert shown == [_fixed(v, 2) for v in values]
