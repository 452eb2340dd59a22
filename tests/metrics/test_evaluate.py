"""The evaluation suite end to end on the bundled digits: evaluator, reference cache, periodic eval, API, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from genlab import api
from genlab.cli import main
from genlab.data import DataConfig, load_dataset
from genlab.data.toy import MIXTURES
from genlab.errors import ConfigError, GenlabError
from genlab.metrics import EvalConfig, Evaluator
from genlab.metrics.features import load_classifier
from genlab.metrics.reference import reference_features
from genlab.train.logger import read_metrics
from tests.data.test_cifar10 import write_cifar10

DIGITS = DataConfig(name="digits", size=8)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def digits_test():
    return load_dataset(DataConfig(name="digits", size=8, split="test"))


def test_real_images_score_far_better_than_noise(digits_test):
    evaluator = Evaluator(EvalConfig(metrics=("fid", "kid", "is", "pr", "dc")), DIGITS)
    real = evaluator.evaluate(digits_test.images)
    noise = evaluator.evaluate(torch.rand(360, 1, 8, 8) * 2 - 1)
    assert real.values["fid"] * 20 < noise.values["fid"]
    assert real.values["kid"] < noise.values["kid"]
    assert real.values["is"] > 8 > noise.values["is"]
    assert real.values["precision"] > 0.7 > noise.values["precision"]
    assert real.values["recall"] > 0.7 > noise.values["recall"]
    assert set(real.values) == {"fid", "kid", "kid_std", "is", "is_std", "precision", "recall", "density", "coverage"}


def test_provenance_names_extractor_samples_and_small_sample_caveat(digits_test):
    result = Evaluator(EvalConfig(metrics=("fid",)), DIGITS).evaluate(digits_test.images[:100])
    clf = load_classifier("digits")
    p = result.provenance
    assert p["features"] == "classifier-digits" and p["weights_sha256"] == clf.digest
    assert "resize to 8x8" in p["preprocessing"]
    assert p["n_real"] == 1437 and p["n_fake"] == 100  # eval.n = 10000 capped by the 1,437 train images
    assert "digits train, 1437 of 1437" in p["real"]
    assert "100 < 10000" in p["note"]
    assert "fid" in result.table() and "note" in result.table()


def test_kid_without_an_error_bar_says_so_and_stays_valid_json(digits_test):
    # 50 real and 50 fake samples with subsets of up to 1000: every subset is both whole sets, no spread.
    evaluator = Evaluator(EvalConfig(metrics=("kid",), n=50, features="raw"), DIGITS)
    result = evaluator.evaluate(digits_test.images[:50])
    assert math.isnan(result.values["kid_std"]) and math.isfinite(result.values["kid"])
    assert "50 < 10000" in result.provenance["note"] and "no error bar" in result.provenance["note"]
    assert "kid_std  nan" in result.table()
    saved = json.loads(json.dumps(result.as_dict(), allow_nan=False))  # strict JSON: NaN is written as null
    assert saved["metrics"]["kid_std"] is None and set(saved["metrics"]) == {"kid", "kid_std"}


def test_reference_features_are_cached_under_a_key_that_follows_the_settings(tmp_path):
    extractor = load_classifier("digits")
    first = reference_features(DIGITS, 200, extractor)
    again = reference_features(DIGITS, 200, extractor)
    assert not first.cached and again.cached
    assert torch.equal(first.extracted.features, again.extracted.features)
    assert first.shape == again.shape == (1, 8, 8)  # what samples must match, also from the cache
    assert reference_features(DIGITS, 100, extractor).key != first.key
    resized = reference_features(DIGITS.model_copy(update={"size": 16}), 200, extractor)
    assert resized.key != first.key and not resized.cached
    # a damaged entry is recomputed, not trusted, and says so
    (entry,) = [p for p in (tmp_path / "cache" / "reference").iterdir() if first.key in p.name]
    entry.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match=r"\.pt cannot be loaded: it is not a PyTorch file.*Computing it again"):
        repaired = reference_features(DIGITS, 200, extractor)
    assert not repaired.cached and torch.equal(repaired.extracted.features, first.extracted.features)


def test_mode_counts_on_a_toy_mixture_use_raw_points():
    mixture = MIXTURES["grid25"]
    evaluator = Evaluator(EvalConfig(metrics=("modes", "fid"), n=2500), DataConfig(name="grid25"))
    points, _ = mixture.sample(2500, seed=1)
    one_mode = torch.as_tensor(mixture.means[:1]).float().expand(2500, 2)
    good, collapsed = evaluator.evaluate(torch.as_tensor(points).float()), evaluator.evaluate(one_mode)
    assert good.values["modes"] == 25 and collapsed.values["modes"] == 1
    assert good.values["fid"] < 0.05 < collapsed.values["fid"]


def test_metric_choices_that_cannot_apply_are_refused():
    with pytest.raises(ConfigError, match="'modes' counts modes"):
        Evaluator(EvalConfig(metrics=("modes",)), DIGITS)
    with pytest.raises(ConfigError, match="'is' needs a classifier"):
        Evaluator(EvalConfig(metrics=("is",)), DataConfig(name="ring8"))
    with pytest.raises(ConfigError, match="genlab classifier train"):
        Evaluator(EvalConfig(), DataConfig(name="folder", path="."))


def test_cifar10_evaluation_needs_a_classifier_of_its_own_which_classifier_train_makes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the classifier's run folder goes under runs/
    write_cifar10(tmp_path / "data")
    data = DataConfig(name="cifar10", path=str(tmp_path / "data"), split="test")
    with pytest.raises(ConfigError) as err:
        Evaluator(EvalConfig(), data)
    assert "no shipped feature extractor fits data set 'cifar10'" in str(err.value)
    assert f"`genlab classifier train --data cifar10 --set data.path={data.path} --out clf.pt`" in str(err.value)
    quick = [f"data.path={data.path}", "device=cpu", "train.steps=2", "train.batch_size=4", "train.progress=false"]
    trained = api.train_classifier("cifar10", [*quick, "train.loggers=[jsonl]"], out=tmp_path / "clf.pt")
    classifier = load_classifier(trained.weights)
    assert (classifier.net.channels, classifier.size, classifier.info["data"]) == (3, 32, "cifar10")
    real = load_dataset(data).images
    result = Evaluator(EvalConfig(features=str(trained.weights), metrics=("fid",), n=4), data).evaluate(real)
    assert math.isfinite(result.values["fid"])


def test_periodic_evaluation_is_logged_beside_the_losses(tiny_config, tmp_path):
    cfg = tiny_config("eval.every=10", "eval.n=64", "eval.metrics=[fid, pr]")
    api.fit(cfg, out=tmp_path / "run")
    records = [r for r in read_metrics(tmp_path / "run" / "metrics.jsonl") if "eval/fid" in r]
    assert [r["step"] for r in records] == [10, 20]
    assert all(r["eval/fid"] > 0 and 0 <= r["eval/recall"] <= 1 for r in records)


def test_evaluate_a_run_uses_the_ema_generator_and_writes_eval_json(tiny_config, tmp_path, capsys):
    cfg = tiny_config("model.tricks.ema.decay=0.9")
    api.fit(cfg, out=tmp_path / "run")
    main(["eval", str(tmp_path / "run"), "--metrics", "fid,is", "--n", "50", "--device", "cpu"])
    shown = capsys.readouterr().out
    saved = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert set(saved["metrics"]) == {"fid", "is", "is_std"}
    assert saved["provenance"]["generator"] == "generator_ema" and saved["provenance"]["step"] == 20
    assert f"{saved['metrics']['fid']:.6g}" in shown


def test_evaluate_refuses_an_output_it_cannot_write_before_computing(tiny_config, tmp_path, monkeypatch):
    api.fit(tiny_config("train.steps=2", "train.report=false"), out=tmp_path / "run")
    (tmp_path / "file.txt").write_text("not a folder")

    def compute(*args, **kwargs):
        raise AssertionError("evaluated although the result could not be written")

    monkeypatch.setattr(api, "Evaluator", compute)
    with pytest.raises(
        GenlabError, match=r"cannot write .*file\.txt/eval\.json \(.*file\.txt is a file, not a folder\)"
    ):
        api.evaluate(tmp_path / "run", out=tmp_path / "file.txt" / "eval.json", device="cpu")


def test_evaluate_any_two_image_sets_from_the_cli(digits_test, tmp_path, capsys, monkeypatch):
    fakes = tmp_path / "fakes.npz"
    np.savez(fakes, images=((digits_test.images[:, 0].numpy() + 1) * 127.5).astype(np.uint8))
    main(["eval", "--real", "digits", "--fake", str(fakes), "--metrics", "fid,pr", "--out", str(tmp_path / "e.json")])
    saved = json.loads((tmp_path / "e.json").read_text())
    assert saved["metrics"]["fid"] < 5 and saved["metrics"]["precision"] > 0.7
    assert "fakes.npz (360 images" in saved["provenance"]["fake"]
    # eval.n's 10,000 exceeds both sets: the provenance and stderr say that all images were used
    assert "360 images, fewer than n = 10000" in saved["provenance"]["n_note"]
    assert "compared with all 1437" in saved["provenance"]["n_note"]
    assert capsys.readouterr().err.count("note: ") == 2
    for n in ("0", "-3"):
        with pytest.raises(SystemExit):
            main(["eval", "--real", "digits", "--fake", str(fakes), "--n", n])
        assert f"n: must be >= 2 (got {n})" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    main(["eval", "--real", "digits", "--fake", str(fakes), "--metrics", "is"])
    assert json.loads((tmp_path / "eval.json").read_text())["metrics"]["is"] > 8
    with pytest.raises(SystemExit):
        main(["eval", "--real", "digits"])
    assert "give a RUN_DIR" in capsys.readouterr().err


def test_memorisation_and_discriminator_probe_from_a_run(tiny_config, tmp_path):
    api.fit(tiny_config(), out=tmp_path / "run")
    result = api.evaluate(tmp_path / "run", ["mem", "probe"], n=200, device="cpu")
    values = result.values
    assert 0 <= values["mem_fraction"] <= 1 and values["mem_median_heldout"] > 0
    assert 0.2 < values["probe_accuracy"] <= 1  # 10 labels per class on D's features: far above chance (0.1)
    figure = tmp_path / "run" / "closest-pairs.png"
    assert Image.open(figure).size[0] > 100 and result.provenance["closest_pairs"] == str(figure)


def test_a_copying_generator_is_flagged_as_memorising():
    evaluator = Evaluator(EvalConfig(metrics=("mem",), n=1437), DIGITS)
    train = load_dataset(DIGITS)
    held_out = load_dataset(DIGITS.model_copy(update={"split": "test"}))
    copies = evaluator.evaluate(train.images[:300]).values["mem_fraction"]
    fresh = evaluator.evaluate(held_out.images).values["mem_fraction"]
    assert copies > 0.9 and fresh < 0.05


@pytest.mark.slow
def test_stacked_mnist_mode_count_through_the_evaluator(mnist_dir):
    data = DataConfig(name="stacked-mnist", size=28, split="test", path=str(mnist_dir))
    evaluator = Evaluator(EvalConfig(metrics=("modes",)), data)
    real = load_dataset(data).images[:2000]
    spread = evaluator.evaluate(real).values
    collapsed = evaluator.evaluate(real[:1].expand(2000, -1, -1, -1)).values
    # 2,000 draws over 1,000 equally likely modes cover about 1 - e^-2 = 86 % of them
    assert 800 < spread["modes"] <= 1000 and spread["modes_kl"] < 0.6
    assert collapsed["modes"] == 1 and abs(collapsed["modes_kl"] - np.log(1000)) < 1e-9


def test_top_level_api_names_the_evaluation_functions():
    import genlab

    assert genlab.evaluate is api.evaluate and genlab.evaluate_images is api.evaluate_images
    assert genlab.train_classifier is api.train_classifier


def test_inception_features_without_weights_say_where_to_get_them(monkeypatch):
    monkeypatch.delenv("GENLAB_INCEPTION_WEIGHTS", raising=False)
    with pytest.raises(ConfigError, match="GENLAB_INCEPTION_WEIGHTS") as error:
        Evaluator(EvalConfig(features="inception"), DIGITS)
    assert "pt_inception-2015-12-05" in str(error.value)
