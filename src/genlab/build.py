"""Building a trainer from a config: the one place where a run's config (and, from Python, the user's own data or
networks) becomes the built objects :class:`genlab.train.Trainer` takes.

    trainer = build_trainer(load_config("dcgan-digits"), RunDir.create("runs/try", "try"))
    trainer.fit()
    trainer = resume_trainer("runs/try", ["train.steps=4000"])        # continue it exactly

It loads the data, builds the recipe, lays out and wraps its networks (channels_last, DistributedDataParallel,
torch.compile), makes the sampler and the learning-rate decay, and assembles the hooks the config asks for: the
training doctor, the recipe's own hooks, sample pictures, evaluation, checkpoints, and the curves and report when
the run stops.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import torch
from torch import nn

from genlab.config import Config, TrainConfig, check_resumable, read_run_config, write_run_config
from genlab.data import ImageSet, LoaderChoice, Sampler, TrainingSet, open_dataset
from genlab.data.custom import CUSTOM
from genlab.data.toy import MIXTURES
from genlab.errors import ConfigError
from genlab.hooks import Hook
from genlab.metrics.modes import MODE_SAMPLES
from genlab.metrics.reference import real_subset
from genlab.models import Recipe
from genlab.models.base import HookContext
from genlab.models.gan import GANConfig
from genlab.train import Acceleration, Checkpoints, LRDecay, RunDir, Trainer, load_checkpoint, resolve_device
from genlab.train.distributed import World, current_world, data_parallel
from genlab.train.doctor import SAMPLE_CHECK_N, TrainingDoctor, doctor_features
from genlab.train.evaluation import Evaluation
from genlab.train.sinks import MlflowSink, SinkOpener, TensorBoardSink, WandbSink, installed
from genlab.viz.hooks import RunReport, SamplePictures

Networks = tuple[nn.Module, nn.Module]
"""A (generator, discriminator) pair of the user's."""


def build_trainer(
    config: Config,
    run: RunDir,
    *,
    resume: bool = False,
    data: ImageSet | None = None,
    networks: Networks | None = None,
) -> Trainer:
    """A trainer for ``config`` writing into ``run``; with ``resume``, restored from the run's latest checkpoint.

    ``data`` replaces the data set the config names (the config then says ``data.name: custom``), ``networks``
    the generator and discriminator it describes (``arch: custom``); see :func:`genlab.fit`. The process that
    writes the run folder locks it first (:meth:`RunDir.lock`); the trainer's ``fit`` unlocks it when it stops.
    """
    world = current_world()
    with _locked_until_training(run, world):
        return _build_trainer(config, run, world, resume, data, networks)


@contextlib.contextmanager
def _locked_until_training(run: RunDir, world: World) -> Iterator[None]:
    """Lock ``run`` on the process that writes it (it stays locked until the trainer's ``fit`` stops), and unlock it
    again when what follows fails before a trainer exists."""
    if world.main:
        run.lock()
    try:
        yield
    except BaseException:
        run.unlock()
        raise


def _build_trainer(
    config: Config, run: RunDir, world: World, resume: bool, data: ImageSet | None, networks: Networks | None
) -> Trainer:
    if world.distributed and config.doctor.enabled and config.doctor.action == "stop":
        raise ConfigError(
            "doctor.action 'stop' would stop rank 0 alone in multi-process training; use doctor.action: warn"
        )
    if config.eval.every > 0 and config.data.name == CUSTOM:
        raise ConfigError(
            "eval.every: evaluation during training compares samples with real data that genlab loads by name, and "
            "data handed in from Python has none; set eval.every=0 and evaluate afterwards with genlab.evaluate_images"
        )
    sinks = logging_sinks(config.train) if world.main else []  # a missing package is refused before data loads
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)  # network initialisation: the same on every process
    data, choice = open_dataset(config.data) if data is None else (data, LoaderChoice("memory", None))
    if world.main and choice.message:
        print(choice.message, file=sys.stderr)
    recipe = build_recipe(config, data, device, networks)
    accel = Acceleration(config.accel, device, images=len(data.shape) == 3)
    accel.prepare(recipe.networks.values())
    if world.distributed:
        recipe.distribute(lambda net: data_parallel(net, device), world.rank, world.size)
    if accel.compile:
        for note in recipe.compile(accel.compiled):
            if world.main:
                print(f"note: {note}", file=sys.stderr)
    train = config.train
    sampler = Sampler(
        data,
        train.batch_size,
        config.seed,
        device,
        memory_format=accel.memory_format,
        rank=world.rank,
        world=world.size,
        flip=config.data.flip,
        crop=config.data.random_crop,
    )
    trainer = Trainer(
        recipe,
        sampler,
        run,
        standard_hooks(config, recipe, data, device) if world.main else [],
        steps=train.steps,
        log_every=train.log_every,
        keep_checkpoints=train.keep_checkpoints,
        lr_decay=LRDecay(recipe.optimizers, train.steps, train.lr_decay, train.lr_decay_start),
        accel=accel,
        world=world,
        progress=train.progress,
        sinks=sinks,
        checkpoint_meta={
            "config": config.model_dump(mode="json"),
            "run": str(run.path.resolve()),  # so a checkpoint copied into another run's folder can say where it is from
            "data": {"shape": list(data.shape), "num_classes": data.num_classes, "loader": choice.loader},
        },
    )
    if resume:
        trainer.restore()
    if world.main:
        write_run_config(run, config)
    return trainer


def resume_trainer(
    run_dir: str | Path,
    overrides: list[str] | tuple[str, ...] = (),
    *,
    data: ImageSet | None = None,
    networks: Networks | None = None,
) -> Trainer:
    """A trainer that continues a run from its latest checkpoint; ``overrides`` may change ``train.*``,
    ``doctor.*``, ``eval.*`` and ``accel.*``, and so may an edit of RUN/config.yaml (checked against the config the
    checkpoint stores). A run trained on data or networks handed in from Python needs them again."""
    run = RunDir.open(run_dir)
    with _locked_until_training(run, current_world()):  # first: another process may be writing its checkpoints
        config = read_run_config(run, overrides)
        checkpoint = run.latest_checkpoint()
        # Read twice (here, then by Trainer.restore), so that a refused resume loads no data and builds nothing.
        check_resumable(config, load_checkpoint(checkpoint)["config"], run, checkpoint)
        return build_trainer(config, run, resume=True, data=data, networks=networks)


def build_recipe(config: Config, data: TrainingSet, device: torch.device, networks: Networks | None = None) -> Recipe:
    """The config's recipe for ``data``'s sample shape and classes; with ``networks``, a GAN that trains them."""
    if networks is None:
        return config.model.build(data.shape, data.num_classes, device)
    if type(config.model) is not GANConfig:
        raise ConfigError(
            f"a generator and discriminator of your own train in the GAN recipe (model.recipe: gan), not in the "
            f"'{config.model.recipe}' recipe"
        )
    return config.model.build(data.shape, data.num_classes, device, networks=networks)


def logging_sinks(train: TrainConfig) -> list[SinkOpener]:
    """The backends train.loggers names besides metrics.jsonl, with their settings; a missing package is a
    ConfigError (tensorboard's a note), raised before anything is built."""
    openers: dict[str, SinkOpener] = {
        TensorBoardSink.name: TensorBoardSink,
        WandbSink.name: partial(WandbSink, settings=train.wandb),
        MlflowSink.name: partial(MlflowSink, settings=train.mlflow),
    }
    return [openers[name] for name in installed(train.loggers)]


def standard_hooks(config: Config, recipe: Recipe, data: TrainingSet, device: torch.device) -> list[Hook]:
    """The periodic actions a config asks for, in the order they run at a step."""
    train = config.train
    hooks: list[Hook] = []
    if recipe.generative and config.doctor.enabled:
        real = real_subset(data, SAMPLE_CHECK_N)[0].to(device)
        hooks.append(
            TrainingDoctor(
                config.doctor,
                recipe.signals,
                recipe.sample,
                real,
                lambda: doctor_features(data.name, device),
                every=train.log_every,
                seed=config.seed,
            )
        )
    hooks += recipe.hooks(HookContext(data, train.sample_every, config.seed))
    vectors = len(data.shape) == 1
    if recipe.generative and (not vectors or data.shape == (2,)):
        # On a mixture the picture shows the points of the mode statistics: the same number, from the same seed.
        n = MODE_SAMPLES if data.name in MIXTURES else train.n_samples
        # The same real points under every scatter plot fix its axes, so frames of a run are comparable.
        reference = data.images[:MODE_SAMPLES].clone() if vectors else None
        hooks.append(SamplePictures(recipe.sample, n, train.sample_every, config.seed, reference))
    if recipe.generative and config.eval.every > 0:
        hooks.append(Evaluation(recipe, config.eval, config.data, device))
    hooks.append(Checkpoints(train.checkpoint_every))
    if train.report:
        hooks.append(RunReport())
    return hooks
