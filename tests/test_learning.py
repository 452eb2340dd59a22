"""Training must measurably improve samples: the end-to-end check that the pieces work together."""

import torch

import genlab
from genlab.data import load_dataset
from genlab.metrics import nearest_neighbour_scores

STEPS = 300


def test_short_digits_run_beats_the_untrained_generator_by_a_margin(tmp_path):
    result = genlab.fit(
        "dcgan-digits",
        [
            f"train.steps={STEPS}",
            "model.generator.width=32",
            "model.discriminator.width=32",
            "device=cpu",
            "train.progress=false",
            "train.loggers=[jsonl]",
            "train.sample_every=0",
            "train.checkpoint_every=0",
        ],
        out=tmp_path / "run",
    )
    assert result.step == STEPS
    cfg = genlab.load_config(tmp_path / "run" / "config.yaml")
    real = load_dataset(cfg.data).images
    torch.manual_seed(cfg.seed)  # the same initial weights the run started from
    untrained = cfg.model.build(tuple(real.shape[1:]), 10, torch.device("cpu"))
    trained = genlab.load_run(tmp_path / "run", device="cpu")

    noise = torch.Generator().manual_seed(1)
    before = nearest_neighbour_scores(untrained.sample(500, generator=noise), real)
    after = nearest_neighbour_scores(trained.sample(500, generator=torch.Generator().manual_seed(1)), real)
    mean_image = nearest_neighbour_scores(real.mean(0, keepdim=True).expand(500, -1, -1, -1), real)
    # Fidelity: generated digits lie close to real ones.  Coverage: real digits have generated ones nearby,
    # better than the best single image (the data mean) can do, which rules out a collapsed generator.
    assert after["nn_fake_to_real"] < 0.6 * before["nn_fake_to_real"], (before, after)
    assert after["nn_real_to_fake"] < 0.6 * before["nn_real_to_fake"], (before, after)
    assert after["nn_real_to_fake"] < 0.85 * mean_image["nn_real_to_fake"], (mean_image, after)
