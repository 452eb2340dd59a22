"""The latent-space commands on a generator trained on the bundled digits, through the API and the CLI."""

import json

import pytest
import torch
from PIL import Image

import genlab
from genlab.cli import main
from genlab.errors import GenlabError
from genlab.latent import explore
from genlab.models.gan import GAN

SIDE = 16


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A DCGAN trained briefly on the digits at 16 px: good enough for the digits classifier to read."""
    out = tmp_path_factory.mktemp("explore") / "run"
    overrides = [
        "device=cpu",
        f"data.size={SIDE}",
        "model.z_dim=16",
        "model.generator.width=32",
        "model.discriminator.width=32",
        "train.steps=400",
        "train.sample_every=0",
        "train.progress=false",
        "train.loggers=[jsonl]",
    ]
    genlab.fit("dcgan-digits", overrides, out=out)
    return out


def test_a_figure_that_cannot_be_written_is_refused_before_the_work(tiny_config, tmp_path, monkeypatch):
    genlab.fit(tiny_config("train.steps=2", "train.report=false"), out=tmp_path / "run")
    (tmp_path / "file.txt").write_text("not a folder")

    def compute(*args, **kwargs):
        raise AssertionError("computed although the figure could not be written")

    monkeypatch.setattr(explore, "latent_path", compute)
    with pytest.raises(GenlabError, match=r"file\.txt is a file, not a folder"):
        genlab.interpolate(tmp_path / "run", device="cpu", out=tmp_path / "file.txt" / "walk.png")


def test_interpolation_figure_has_one_walk_per_row(digits_run, tmp_path):
    figure = genlab.interpolate(digits_run, steps=5, rows=2, points=3, device="cpu", out=tmp_path / "walk.png")
    width, height = Image.open(figure.path).size
    frames = 2 * (5 - 1) + 1
    assert figure.numbers["frames"] == frames
    scale = 64 // SIDE  # small images are enlarged like every sample grid
    assert (width, height) == (scale * (frames * (SIDE + 2) + 2), scale * (2 * (SIDE + 2) + 2))


def test_guided_edits_reach_the_target_class_and_a_zero_budget_does_not(digits_run):
    done = genlab.edit(digits_run, 3, n=48, max_steps=200, device="cpu")
    assert done.path == digits_run / "latent" / "edit-to-3.png" and done.path.is_file()
    assert done.numbers["success_rate"] >= 0.9 and done.numbers["mean_dz"] > 0, done.numbers
    assert json.loads(done.path.with_suffix(".json").read_text())["success_rate"] == done.numbers["success_rate"]
    assert done.failure is None
    none = genlab.edit(digits_run, 3, n=48, max_steps=0, device="cpu")
    assert none.numbers["success_rate"] == 0 and none.numbers["edited"] == done.numbers["edited"]
    assert none.numbers["succeeded"] == 0 and none.numbers["mean_dz"] is None
    assert "reached class 3" in none.failure and "--max-steps" in none.failure


def test_an_ink_direction_changes_ink_more_than_anything_else(digits_run):
    found = genlab.direction(digits_run, "ink=high", "ink=low", n=1000, device="cpu")
    changes = found.numbers["changes"]
    assert found.numbers["target"] == "ink"
    assert changes["ink"][-1] > 1.0 and changes["ink"][-1] > changes["slant"][-1], changes
    assert 0 <= found.numbers["score"] < 1


def test_arithmetic_keeps_the_class_of_c_and_adds_the_ink_of_a_minus_b(digits_run):
    found = genlab.arithmetic(digits_run, "ink=high", "ink=low", "class=1", n=1000, members=8, device="cpu")
    assert found.numbers["result_ink"] > found.numbers["mean_c_ink"], found.numbers
    assert found.path.is_file()
    # the pixel-space baseline is a last row of one image, read by the classifier like the z result
    assert 0 <= found.numbers["pixel_result_class"] < 10
    assert all(0.1 <= found.numbers[key] <= 1 for key in ("result_confidence", "pixel_result_confidence"))
    with Image.open(found.path) as figure:
        rows_of_16 = figure.size[1] / (figure.size[0] / (8 + 1))  # 9 images per row, square cells
    assert round(rows_of_16) == 5


def test_arithmetic_reads_realism_and_rescales_the_means_it_decodes(digits_run, monkeypatch):
    decoded = []
    decode = GAN.decode

    def recording(self, z, labels=None):
        decoded.append(z.norm(dim=1))
        return decode(self, z, labels)

    monkeypatch.setattr(GAN, "decode", recording)
    found = {
        flag: genlab.arithmetic(digits_run, "ink=high", "ink=low", "class=1", n=400, members=8, rescale=flag)
        for flag in (False, True)
    }
    plain, rescaled = decoded[1:4], decoded[6:9]  # rows a, b, c (members, then G of their mean); draw 0 labels
    typical = float(decoded[0].mean())  # the labelled latents
    for row in plain:
        assert row[-1] < 0.8 * typical  # a mean of 8 latents is shorter (sqrt(8) times for independent ones)
    for row, before in zip(rescaled, plain, strict=True):
        assert row[-1] == pytest.approx(typical, rel=1e-4) and torch.equal(row[:-1], before[:-1])  # members as they are
    assert decoded[9][0] == pytest.approx(typical, rel=1e-4)  # the result, before its neighbours' noise
    assert found[True].numbers["rescale"] and not found[False].numbers["rescale"]
    realism = [found[False].numbers[f"{name}_realism"] for name in ("result", "pixel_result", "mean_c")]
    assert all(0 < r < float("inf") for r in realism)  # which of them looks real: the pixel-arithmetic lab's test


def test_sampling_with_truncation_stays_near_the_average_image(digits_run):
    # The truncated prior concentrates samples near G(0): their spread over the batch shrinks with psi.
    spread = {}
    for psi in (None, 0.25):
        images = genlab.sample(digits_run, 256, truncation=psi, device="cpu")
        spread[psi] = images.std(dim=0).mean().item()
    assert spread[0.25] < 0.8 * spread[None], spread


def test_latent_commands_from_the_cli(digits_run, tmp_path, capsys):
    cases = [
        ["interpolate", str(digits_run), "--steps", "4", "--mode", "lerp", "--out", str(tmp_path / "i.png")],
        ["edit", str(digits_run), "--to-class", "0", "--n", "8", "--max-steps", "20", "--out", str(tmp_path / "e.png")],
        ["direction", str(digits_run), "--positive", "slant=high", "--n", "400", "--out", str(tmp_path / "d.png")],
        [
            "arithmetic",
            str(digits_run),
            "--a",
            "ink=high",
            "--b",
            "ink=low",
            "--c",
            "ink=low",
            "--n",
            "400",
            "--out",
            str(tmp_path / "a.png"),
        ],
        ["sample", str(digits_run), "--truncation", "0.5", "--n", "4", "--out", str(tmp_path / "s.png")],
    ]
    for argv in cases:
        main(argv)
        assert "wrote" in capsys.readouterr().out
    for name in ("i", "e", "d", "a", "s"):
        assert (tmp_path / f"{name}.png").is_file()
    with pytest.raises(SystemExit) as exit_:
        main(["sample", str(digits_run), "--class", "3", "--out", str(tmp_path / "c.png")])
    assert exit_.value.code == 1 and "unconditional" in capsys.readouterr().err
    with pytest.raises(GenlabError, match="--to-class 12"):
        genlab.edit(digits_run, 12, n=4, device="cpu")


def test_classifier_steps_ask_for_a_classifier_where_none_ships(tmp_path):
    overrides = ["device=cpu", "train.steps=2", "train.progress=false", "train.loggers=[jsonl]"]
    genlab.fit("nonsaturating-ring8", overrides, out=tmp_path / "ring")
    with pytest.raises(GenlabError, match=r"ships no classifier for 'ring8'.*--classifier clf\.pt"):
        genlab.edit(tmp_path / "ring", 0, n=4, device="cpu")


def test_conditional_runs_keep_their_labels_in_every_command(tmp_path, tiny_config):
    cfg = tiny_config("model.condition=channels", "train.steps=4", "data.size=16")
    genlab.fit(cfg, out=tmp_path / "cgan")
    run = tmp_path / "cgan"
    sevens = genlab.sample(run, 3, label=7, device="cpu")
    assert sevens.shape == (3, 1, 16, 16)
    walk = genlab.interpolate(run, steps=3, rows=2, label=7, device="cpu")
    assert walk.path.is_file()
    found = genlab.arithmetic(run, "class=1", "class=2", "class=3", n=60, device="cpu")
    assert found.numbers["queries"]["c"] == "class=3" and found.path.is_file()
    with pytest.raises(GenlabError, match="conditional"):
        genlab.edit(run, 3, n=4, device="cpu")
