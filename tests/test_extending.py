"""genlab is extended from outside the package, without editing it: a hook of one's own runs in the trainer, and
a metric registered by user code is accepted by eval.metrics and scored during training and by genlab eval."""

import pytest
import torch

import genlab
from genlab.build import build_trainer
from genlab.errors import ConfigError
from genlab.hooks import Hook, Moment
from genlab.metrics import METRICS, EvalConfig, Evaluator, Metric, MetricInputs
from genlab.train import RunDir, read_metrics


@METRICS.register("ink-gap")
class InkGap(Metric):
    """A user's metric: how far the samples' mean intensity is from the real images' (in [-1, 1] units)."""

    in_feature_space = False

    def __call__(self, inputs: MetricInputs) -> dict[str, float]:
        real = genlab.load_dataset(inputs.data).images
        return {"ink_gap": abs(float(inputs.samples.mean()) - float(real.mean()))}


class Milestones(Hook):
    """A user's hook: a record of its own every 10 steps, the learning rate in every interval record, a note at
    the end."""

    every = 10

    def __init__(self, recipe):
        self.recipe = recipe
        self.calls: list[tuple[str, int]] = []

    def start(self, moment: Moment) -> None:
        self.calls.append(("start", moment.step))

    def measure(self, record):
        return {"lr/g": self.recipe.optimizers["generator"].param_groups[0]["lr"]}

    def __call__(self, moment: Moment) -> None:
        self.calls.append(("call", moment.step))
        moment.log.write({"step": moment.step, "milestone": moment.step // 10})

    def finish(self, moment: Moment) -> None:
        self.calls.append(("finish", moment.step))


def test_a_users_hook_runs_when_due_and_writes_to_the_run(tiny_config, tmp_path):
    cfg = tiny_config("train.steps=25", "train.lr_decay=linear")
    trainer = build_trainer(cfg, RunDir.create(tmp_path / "run", cfg.name))
    mine = Milestones(trainer.recipe)
    trainer.hooks.append(mine)
    trainer.fit()
    assert mine.calls == [("start", 0), ("call", 10), ("call", 20), ("call", 25), ("finish", 25)]
    records = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert [r["milestone"] for r in records if "milestone" in r] == [1, 2, 2]
    lrs = [r["lr/g"] for r in records if "lr/g" in r]
    assert len(lrs) == 5 and lrs == sorted(lrs, reverse=True) and lrs[0] < cfg.model.g_optim.lr


def test_a_users_metric_is_validated_scored_in_training_and_by_genlab_eval(tiny_config, tmp_path):
    with pytest.raises(ConfigError, match=r"unknown metric ink-gaps.*ink-gap"):
        tiny_config("eval.metrics=[fid, ink-gaps]")
    assert "ink-gap" in EvalConfig(metrics=("ink-gap",)).metrics
    cfg = tiny_config("eval.every=10", "eval.n=64", "eval.metrics=[ink-gap, fid]")
    genlab.fit(cfg, out=tmp_path / "run")
    scored = [r for r in read_metrics(tmp_path / "run" / "metrics.jsonl") if "eval/ink_gap" in r]
    assert [r["step"] for r in scored] == [10, 20] and all("eval/fid" in r for r in scored)
    result = genlab.evaluate(tmp_path / "run", metrics=["ink-gap"], n=64, device="cpu")
    assert result.values["ink_gap"] == pytest.approx(scored[-1]["eval/ink_gap"])
    # A generator that draws the real mean image has no ink gap: the metric measures what it says.
    real = genlab.load_dataset(cfg.data).images
    evaluator = Evaluator(EvalConfig(metrics=("ink-gap",), n=64), cfg.data)
    copies = real.mean(0, keepdim=True).expand(64, -1, -1, -1)
    assert evaluator.evaluate(copies).values["ink_gap"] == pytest.approx(0.0, abs=1e-6)
    assert evaluator.evaluate(torch.ones_like(copies)).values["ink_gap"] > 0.5
