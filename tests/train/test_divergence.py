import pytest
import torch

from genlab.build import build_trainer
from genlab.errors import TrainingDiverged
from genlab.train import RunDir


def test_nan_stops_training_naming_the_step_and_keeps_the_last_good_checkpoint(tiny_config, tmp_path):
    cfg = tiny_config("train.steps=40", "train.checkpoint_every=5", "train.log_every=5", "train.sample_every=0")
    trainer = build_trainer(cfg, RunDir.create(tmp_path / "run", cfg.name))
    train_step = trainer.recipe.train_step

    def poisoned(next_batch, step):
        if step == 6:  # the 7th step: its losses are the first non-finite values
            with torch.no_grad():
                for p in trainer.recipe.generator.parameters():
                    p.fill_(float("nan"))
        return train_step(next_batch, step)

    trainer.recipe.train_step = poisoned
    checkpoint = tmp_path / "run" / "checkpoints" / "ckpt-00000005.pt"
    with pytest.raises(TrainingDiverged, match=r"at step 7 .*ckpt-00000005.pt is the last good checkpoint") as err:
        trainer.fit()
    assert "lower learning rates" in str(err.value)
    assert trainer.step == 10  # detected at the first logging point after the NaN, no automatic reload loop
    assert [p.name for p in trainer.run.checkpoints()] == [checkpoint.name]
    assert all(
        torch.isfinite(t).all()
        for t in torch.load(checkpoint, weights_only=True)["recipe"]["networks"]["generator"].values()
    )
