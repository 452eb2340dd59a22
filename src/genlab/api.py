"""The Python API behind every CLI command: train, resume, load a run, sample, evaluate, train a classifier, demo,
a VAE's likelihood, and the latent-space tools (interpolate, arithmetic, edit, direction, embed, traverse,
ae_vs_vae from :mod:`genlab.latent.explore`)."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from genlab import __version__
from genlab.build import build_trainer, resume_trainer
from genlab.config import Config, dump_config, load_config, merge, presets, read_run_config, validate_config
from genlab.data import DATASETS, DataConfig, ImageSet, load_dataset, open_dataset
from genlab.data.base import set_channels
from genlab.data.custom import CUSTOM, as_image_set
from genlab.data.folder import EXTENSIONS, image_files, read_image, save_images
from genlab.data.npz import save_npz
from genlab.errors import DataError, GenlabError
from genlab.fileio import ensure_writable, write_json
from genlab.generators import load_model, open_model
from genlab.images import save_png, to_uint8
from genlab.lab.base import samples_of
from genlab.latent.explore import ae_vs_vae, arithmetic, direction, edit, embed, interpolate, traverse
from genlab.metrics import EvalConfig, EvalResult, Evaluator
from genlab.metrics.features import DomainClassifier, save_classifier
from genlab.metrics.reference import real_subset
from genlab.models import Recipe
from genlab.models.autoencoder import AutoEncoder
from genlab.models.classifier import Classifier
from genlab.models.cyclegan import CycleGAN, Direction
from genlab.models.finetune import pretrain_finetune as few_labels
from genlab.models.pix2pix import ONE_WAY, Pix2Pix
from genlab.models.prior import TruncationMode
from genlab.models.vae import VAE, estimate_nll
from genlab.registry import did_you_mean
from genlab.runs import open_run
from genlab.schema import COUNT, NONNEGATIVE, SEED, check_arguments, validate_section
from genlab.train import RunDir, TrainResult, resolve_device
from genlab.train.distributed import process_group, shared_value
from genlab.train.evaluation import evaluate_recipe
from genlab.viz.closest_pairs import plot_closest_pairs
from genlab.viz.judge import JudgeScore, read_answers, write_judge_page
from genlab.viz.report import write_comparison, write_report
from genlab.viz.samples import render_samples

DEMO_PRESET = "dcgan-digits"
__all__ = [
    "ae_vs_vae",
    "arithmetic",
    "compare",
    "demo",
    "direction",
    "edit",
    "embed",
    "evaluate",
    "evaluate_images",
    "export_classifier",
    "fit",
    "interpolate",
    "judge",
    "judge_score",
    "likelihood",
    "load_run",
    "pretrain_finetune",
    "report",
    "resume",
    "sample",
    "train_classifier",
    "traverse",
]


def report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write RUN_DIR/report.html (or ``out``): one self-contained page about the run."""
    return write_report(run_dir, out)


def compare(run_dirs: list[str | Path], out: str | Path = "compare.html") -> Path:
    """Write one self-contained page comparing runs: overlaid curves, last samples, metrics with the best marked."""
    return write_comparison(run_dirs, out)


def judge(
    run_dir: str | Path, n: int = 50, *, out: str | Path = "judge.html", seed: int = 0, device: str = "auto"
) -> Path:
    """Write a self-contained "real or fake?" page for a person: ``n`` real images, the ones ``genlab eval``
    compares with (the run's ``eval.real_split``, the fixed subset), and ``n`` of the run's generator (its EMA copy
    when it has one, latent seed ``seed``), in an order that ``seed`` fixes (:mod:`genlab.viz.judge`)."""
    check_arguments(n=(n, COUNT), seed=(seed, SEED))
    target = ensure_writable(out)
    run = open_run(run_dir, device)
    cfg = run.config
    if not run.recipe.generative:
        raise GenlabError(
            f"{run.checkpoint} holds a {cfg.model.recipe}, which generates no images to judge; give the folder of "
            "a run that trained a generator (a GAN, VAE, ...)"
        )
    data = open_dataset(cfg.data.model_copy(update={"split": cfg.eval.real_split}))[0]
    where = f"{cfg.data.name} ({cfg.eval.real_split} split)"
    if len(data.shape) != 3:
        raise DataError(f"{where} holds {data.shape[0]}-d points, not images: a person judges images")
    if n > len(data):
        raise DataError(f"n = {n} is more than the {len(data)} real images of {where}: give n = {len(data)} or less")
    real, _ = real_subset(data, n)
    return write_judge_page(real, samples_of(run, n, seed), target, run=str(run.run_dir), seed=seed)


def judge_score(answers: str | Path) -> JudgeScore:
    """The score of an answers file that a :func:`judge` page offered: accuracy with its Wilson interval, fakes and
    reals called real, median time (``.summary()``: the lines the page showed)."""
    return read_answers(answers)[1]


def fit(
    config: Config | str | Path | dict[str, Any] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    *,
    out: str | Path | None = None,
    data: ImageSet | torch.Tensor | Dataset | None = None,
    generator: nn.Module | None = None,
    discriminator: nn.Module | None = None,
) -> TrainResult:
    """Train into a new run folder from a config (object, YAML file, preset name or mapping; default: genlab's
    defaults) with ``overrides`` applied, and from Python on data and with networks of your own.

    ``data`` (a tensor of images in [-1, 1] or uint8, or a map-style ``torch.utils.data.Dataset``; see
    :func:`genlab.data.custom.as_image_set`) replaces the config's data set. ``generator`` and ``discriminator``
    replace the GAN recipe's networks: G maps latents (B, ``model.z_dim``) to samples shaped like the data, D
    samples to one score each, shape (B,) or (B, 1); the objective, optimisers, tricks and schedule still come from
    the config. config.yaml records them as ``data.name: custom`` and ``arch: custom``, so such a run resumes from
    Python (:func:`resume` with the same objects). Under torchrun every process calls this; they train one model
    data-parallel and rank 0 makes the run folder.
    """
    networks = _networks(generator, discriminator)
    images = None if data is None else as_image_set(data)
    cfg = _with_objects(
        config if config is not None else {},
        overrides,
        custom_data=images is not None,
        custom_networks=networks is not None,
    )
    with process_group(cfg.device) as world:
        created = RunDir.create(out, cfg.name) if world.main else None  # locked until training stops
        path = shared_value(str(created.path) if created else "", world)
        return build_trainer(cfg, created or RunDir(path), data=images, networks=networks).fit()


def resume(
    run_dir: str | Path,
    overrides: list[str] | tuple[str, ...] = (),
    *,
    data: ImageSet | torch.Tensor | Dataset | None = None,
    generator: nn.Module | None = None,
    discriminator: nn.Module | None = None,
) -> TrainResult:
    """Continue a run from its latest checkpoint; ``overrides`` may change ``train.*``, ``doctor.*``, ``eval.*`` and
    ``accel.*`` only (under torchrun, every process resumes the same run). A run that :func:`fit` trained on your own
    data or networks needs the same ``data``, ``generator`` and ``discriminator`` again."""
    images = None if data is None else as_image_set(data)
    with process_group(read_run_config(RunDir.open(run_dir)).device):
        trainer = resume_trainer(run_dir, overrides, data=images, networks=_networks(generator, discriminator))
        return trainer.fit()


def _networks(generator: nn.Module | None, discriminator: nn.Module | None) -> tuple[nn.Module, nn.Module] | None:
    if (generator is None) != (discriminator is None):
        raise GenlabError("pass both a generator and a discriminator of your own, or neither")
    return None if generator is None else (generator, discriminator)


def _with_objects(
    config: Config | str | Path | dict[str, Any],
    overrides: list[str] | tuple[str, ...],
    *,
    custom_data: bool,
    custom_networks: bool,
) -> Config:
    """The config with ``overrides``, recording data and networks handed in from Python as ``custom``."""
    source = config.model_dump(mode="json") if isinstance(config, Config) else config
    cfg = load_config(source, overrides)
    changes: dict[str, Any] = {}
    if custom_data:
        changes["data"] = {"name": CUSTOM}
    if custom_networks and cfg.model.recipe == "gan":  # other recipes refuse user networks when built
        changes["model"] = {"generator": {"arch": "custom"}, "discriminator": {"arch": "custom"}}
    return cfg if not changes else validate_config(merge(cfg.model_dump(mode="json"), changes))


def load_run(path: str | Path, device: str = "auto") -> Recipe:
    """The trained model of a run folder (its latest checkpoint) or of a checkpoint file, ready to sample."""
    return open_run(path, device).recipe


def sample(
    path: str | Path,
    n: int = 64,
    *,
    seed: int = 0,
    label: int | None = None,
    truncation: float | None = None,
    truncation_mode: TruncationMode = "resample",
    out: str | Path | None = None,
    device: str = "auto",
) -> torch.Tensor:
    """``n`` samples from a trained run (or a generator that genlab export wrote); also written to ``out`` when
    given, by its name: ``X.png`` one picture (an image grid, or a scatter plot of 2-D points), ``X.npz`` an array
    file and ``DIR/`` (a trailing slash, an existing folder or a name without suffix) numbered PNGs, the two that
    ``genlab eval --fake`` reads.

    ``label`` picks the class of a conditional generator (default: classes 0, 1, ... in turn; the .npz file holds
    them as 'labels'); ``truncation`` ψ keeps every latent component within [-ψ, ψ] (resampled, or clamped with
    ``truncation_mode="clamp"``); a style generator instead moves w towards its tracked mean, w̄ + ψ (w - w̄), and
    takes ψ = 0 (the mean image).
    """
    check_arguments(n=(n, COUNT), seed=(seed, SEED), truncation=(truncation, NONNEGATIVE))
    kind = None if out is None else _sample_format(out)
    if kind in ("png", "npz"):
        ensure_writable(out)
    recipe = load_model(path, device)
    labels = recipe.check_labels(None if label is None else torch.full((n,), label), n)
    images = recipe.sample(
        n,
        generator=torch.Generator().manual_seed(seed),
        labels=labels,
        truncation=truncation,
        truncation_mode=truncation_mode,
    )
    if out is None:
        return images
    if kind == "png":
        save_png(render_samples(images), out)
    elif images.ndim != 4:
        raise GenlabError(f"this run generates {images.shape[1]}-d points: write them to a .png scatter plot")
    elif kind == "npz":
        save_npz(out, images, labels)
    else:
        save_images(images, Path(out))
    return images


def _sample_format(out: str | Path) -> str:
    """How samples are written to ``out``: "png", "npz" or "folder" (a trailing slash, an existing folder or a
    name without suffix)."""
    text, path = str(out), Path(out)
    if text.endswith(("/", os.sep)) or path.is_dir() or not path.suffix:
        return "folder"
    if path.suffix.lower() in (".png", ".npz"):
        return path.suffix.lower()[1:]
    raise GenlabError(
        f"cannot write samples to {out}: give a .png file (a picture of them), a .npz file (an array file) or a "
        "folder (DIR/, one numbered PNG per sample)"
    )


def evaluate(
    path: str | Path,
    metrics: list[str] | tuple[str, ...] | None = None,
    n: int | None = None,
    *,
    features: str | None = None,
    device: str = "auto",
    out: str | Path | None = None,
) -> EvalResult:
    """Evaluate a run's generator (its EMA copy when it has one) with the evaluation suite; writes ``eval.json``.

    Unset arguments take the run's ``eval`` config section. A real set smaller than ``n`` is used whole, as the
    provenance and a note on stderr say. The JSON goes to ``out`` or the run folder.
    """
    run = open_run(path, device)
    checkpoint, state, cfg, recipe = run
    if not recipe.generative:
        raise GenlabError(f"{checkpoint} holds a {cfg.model.recipe}, which does not generate samples to evaluate")
    changes = {"metrics": metrics, "n": n, "features": features}
    given = {k: v for k, v in changes.items() if v is not None}
    eval_cfg = validate_section(EvalConfig, {**cfg.eval.model_dump(), **given})
    target = ensure_writable(Path(out) if out else run.run_dir / "eval.json")
    pairs_figure = ensure_writable(run.run_dir / "closest-pairs.png") if "mem" in eval_cfg.metrics else None
    evaluator = Evaluator(eval_cfg, cfg.data, resolve_device(device))
    result, samples = evaluate_recipe(evaluator, recipe)
    if pairs_figure is not None:
        pairs, real_images = evaluator.closest_pairs(samples)
        result.provenance["closest_pairs"] = str(plot_closest_pairs(samples.cpu(), real_images, pairs, pairs_figure))
    result.provenance |= {
        "checkpoint": str(checkpoint),
        "step": state["step"],
        "generator": "generator_ema" if "generator_ema" in recipe.networks else "generator",
        "latent_seed": eval_cfg.seed,
    }
    _note_short_sets(result, eval_cfg.n)
    write_json(target, result.as_dict())
    return result


def likelihood(
    path: str | Path,
    k: int = 5000,
    n: int | None = None,
    *,
    seed: int = 0,
    device: str = "auto",
    out: str | Path | None = None,
) -> dict[str, object]:
    """Test-set -log p(x) in nats of a VAE run by the importance-weighted estimate with ``k`` samples (the
    published protocol: k = 5000, MNIST test set binarised once), plus the ELBO and the active latent units.

    ``n`` limits the test images (default: all). Writes ``likelihood.json`` into the run folder (or ``out``).
    """
    check_arguments(k=(k, COUNT), n=(n, COUNT), seed=(seed, SEED))
    run = open_run(path, device)
    if not isinstance(run.recipe, VAE):
        raise GenlabError(f"{run.checkpoint} holds a {run.config.model.recipe}; the likelihood needs a VAE run")
    target = ensure_writable(Path(out) if out else run.run_dir / "likelihood.json")
    test = load_dataset(run.config.data.model_copy(update={"split": "test", "limit": n}))
    start = time.perf_counter()
    result = estimate_nll(run.recipe, test.images, k, seed)
    result |= {"seconds": round(time.perf_counter() - start, 1), "checkpoint": str(run.checkpoint)}
    result["step"] = run.state["step"]
    write_json(target, result)
    return result


def translate(
    path: str | Path, source: str | Path, out: str | Path, *, direction: Direction = "a2b", device: str = "auto"
) -> list[Path]:
    """Translate every image file under the folder ``source`` with a CycleGAN run or its export (``a2b``: G from
    the run's data domain to domain_b; ``b2a``: F back), or a pix2pix run (``a2b`` only: inputs into targets), and
    write PNGs under ``out`` with the same relative names. Images are loaded at the run's size and channels, as the
    source domain was."""
    run = open_model(path, device)
    if not isinstance(run.recipe, CycleGAN | Pix2Pix):
        raise GenlabError(
            f"{run.source} holds a {run.config.model.recipe}; translating needs a CycleGAN or pix2pix run"
        )
    if isinstance(run.recipe, Pix2Pix) and direction != "a2b":
        raise GenlabError(ONE_WAY)
    domain = run.config.data if direction == "a2b" else run.config.model.domain_b
    channels = run.recipe.channels["a" if direction == "a2b" else "b"]
    root, target = Path(source).expanduser(), Path(out).expanduser()
    files = image_files(root)
    if not files:
        raise GenlabError(f"no images ({', '.join(EXTENSIONS)}) under {root}")
    written = []
    for chunk in range(0, len(files), 256):
        names = files[chunk : chunk + 256]
        images = torch.stack([set_channels(read_image(f, domain.size, domain.fit)[None], channels)[0] for f in names])
        for name, picture in zip(names, to_uint8(run.recipe.translate(images * 2 - 1, direction)), strict=True):
            written.append(save_png(picture, (target / name.relative_to(root)).with_suffix(".png")))
    return written


def pretrain_finetune(
    path: str | Path,
    n_per_class: list[int] | tuple[int, ...] = (10, 100),
    seeds: list[int] | tuple[int, ...] = (0, 1, 2),
    *,
    steps: int = 300,
    device: str = "auto",
    out: str | Path | None = None,
) -> dict[str, object]:
    """Few-label classification with and without the encoder of an autoencoder run: for every N in
    ``n_per_class`` and seed, the test accuracy of encoder + linear head fine-tuned on N labelled images per class,
    and of the same classifier trained from scratch. Writes RUN_DIR/pretrain-finetune.json (or ``out``)."""
    check_arguments(n_per_class=(n_per_class, COUNT), seeds=(seeds, SEED), steps=(steps, COUNT))
    run = open_run(path, device)
    if not isinstance(run.recipe, AutoEncoder):
        raise GenlabError(f"{run.checkpoint} holds a {run.config.model.recipe}; pre-training needs an autoencoder run")
    target = ensure_writable(Path(out) if out else run.run_dir / "pretrain-finetune.json")
    rows = [few_labels(run.recipe, run.config.data, n, seed, steps).as_dict() for n in n_per_class for seed in seeds]
    summary = {}
    for n in n_per_class:
        for kind in ("pretrained", "scratch"):
            values = torch.tensor([r[f"{kind}_accuracy"] for r in rows if r["n_per_class"] == n])
            std = values.std().item() if len(values) > 1 else 0.0
            summary[f"{kind}/{n}"] = {"mean": values.mean().item(), "std": std}
    result = {"run": str(run.run_dir), "steps": steps, "rows": rows, "summary": summary}
    write_json(target, result)
    return result


def evaluate_images(
    real: str | Path,
    fake: str | Path,
    metrics: list[str] | tuple[str, ...] = ("fid", "kid", "pr"),
    *,
    features: str = "auto",
    n: int | None = None,
    size: int | None = None,
    real_split: str = "train",
    device: str = "auto",
    out: str | Path | None = None,
) -> EvalResult:
    """Compare any two image sets: ``real`` a data set name or an image folder / .npz, ``fake`` a folder or .npz.

    Up to ``n`` images of each (default: eval.n's, 10,000) are compared; a set with fewer is used whole, as the
    result's provenance and a note on stderr say. Both are loaded at ``size`` (default: the classifier's input
    size, 128 for Inception and raw pixels) and then pass the same extractor. Fakes with another channel count than
    the real set are converted to it (grey repeated to RGB, RGB to luma), as the provenance notes. The real
    features are cached like a run's reference statistics.
    """
    if out is not None:
        ensure_writable(out)
    real_cfg = image_source(real, size or 128, real_split)
    fake_cfg = image_source(fake, size or 128, "all")
    settings = {"metrics": list(metrics), "features": features, "real_split": real_split}
    eval_cfg = validate_section(EvalConfig, settings | ({} if n is None else {"n": n}))
    n = eval_cfg.n
    evaluator = Evaluator(eval_cfg, real_cfg, resolve_device(device))
    if size is None and isinstance(evaluator.extractor, DomainClassifier):
        # The real images are only read when the reference is first needed, so the size can still change.
        evaluator.data = evaluator.data.model_copy(update={"size": evaluator.extractor.size})
    fake_set = load_dataset(fake_cfg.model_copy(update={"size": evaluator.data.size}))
    if fake_set.images.ndim != 4:
        raise DataError(f"{fake} holds vectors, not images")
    real_shape = evaluator.reference().shape
    if len(real_shape) != 3:
        raise DataError(f"{real} holds vectors, not images")
    images = fake_set.images[:n]
    converted = images.shape[1] != real_shape[0]
    if converted:
        images = set_channels((images + 1) / 2, real_shape[0]) * 2 - 1
    result = evaluator.evaluate(images)
    result.provenance["fake"] = f"{fake} ({len(fake_set)} images, {len(images)} used)"
    if converted:
        result.provenance["fake"] += f", converted from {fake_set.shape[0]} to the real set's {real_shape[0]} channels"
    _note_short_sets(result, n, fake)
    if out is not None:
        write_json(Path(out), result.as_dict())
    return result


def _note_short_sets(result: EvalResult, n: int, fake: str | Path | None = None) -> None:
    """Say, in the provenance and on stderr, when the generated (``fake``) or the real set held fewer than the
    ``n`` images asked for: the metrics then used all there were, and values from fewer samples compare only with
    values at the same counts."""
    provenance = result.provenance
    notes = []
    if fake is not None and provenance["n_fake"] < n:
        notes.append(f"{fake} holds {provenance['n_fake']} images, fewer than n = {n}: all of them were evaluated")
    if provenance.get("n_real", n) < n:
        notes.append(
            f"the real set ({provenance['real']}) has fewer than n = {n} images: compared with all "
            f"{provenance['n_real']}"
        )
    provenance["n_requested"] = n
    if notes:
        provenance["n_note"] = "; ".join(notes)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def image_source(source: str | Path, size: int, split: str) -> DataConfig:
    """A data config for a data set name, an image folder or a .npz file."""
    text = str(source)
    if text in DATASETS:
        return DataConfig(name=text, size=size, split=split)
    path = Path(text).expanduser()
    if path.is_dir():
        return DataConfig(name="folder", path=str(path), size=size)
    if path.suffix == ".npz" and path.is_file():
        return DataConfig(name="npz", path=str(path), size=size)
    names = DATASETS.names()
    raise DataError(
        f"{source} is neither a data set ({', '.join(names)}) nor an existing image folder or .npz file"
        f"{did_you_mean(text, names)}; check the name or path"
    )


@dataclass
class ClassifierResult:
    weights: Path
    test_accuracy: float
    run_dir: Path


def train_classifier(
    data: str = "mnist", overrides: list[str] | tuple[str, ...] = (), *, out: str | Path | None = None
) -> ClassifierResult:
    """Train a domain classifier with the shared trainer and export its weights file for the metrics.

    ``data`` picks the ready config ``classifier-DATA`` when there is one, else the MNIST one with
    ``data.name=DATA`` (add ``--set data.path=...`` for folders).
    """
    if out is not None:
        ensure_writable(out)
    preset = f"classifier-{data}"
    if preset in presets():
        cfg = load_config(preset, overrides)
    else:
        cfg = load_config("classifier-mnist", [f"name={preset}", f"data.name={data}", *overrides])
    return export_classifier(fit(cfg).run_dir, out)


def export_classifier(run_dir: str | Path, out: str | Path | None = None) -> ClassifierResult:
    """Measure a trained classifier run on its data set's test split and write the weights file the metrics load.

    The file records the test accuracy, the config that trained it and the genlab version; it goes to ``out`` or
    RUN_DIR/classifier.pt.
    """
    run = open_run(run_dir, "auto")
    checkpoint, state, cfg, recipe = run
    if not isinstance(recipe, Classifier):
        raise GenlabError(f"{checkpoint} holds a {cfg.model.recipe}, not a classifier")
    weights = ensure_writable(Path(out) if out else run.run_dir / "classifier.pt")
    test = load_dataset(cfg.data.model_copy(update={"split": "test", "limit": None}))
    if test.labels is None:
        raise GenlabError(f"data set '{cfg.data.name}' has no labels to test the classifier on")
    accuracy = recipe.accuracy(test.images.to(recipe.device), test.labels.to(recipe.device))
    info = {
        "data": cfg.data.name,
        "test_accuracy": accuracy,
        "test_images": len(test),
        "steps": state["step"],
        "seed": cfg.seed,
        "config": dump_config(cfg),
        "genlab_version": __version__,
    }
    save_classifier(weights, recipe.net, cfg.data.size, info)
    return ClassifierResult(weights, accuracy, run.run_dir)


@dataclass
class DemoResult:
    run_dir: Path
    samples: Path
    curves: Path
    result: TrainResult


def demo(out: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> DemoResult:
    """Train the DCGAN on the bundled digits (about a minute on 2 CPU cores) and return where the pictures are."""
    cfg = load_config(DEMO_PRESET, ["name=demo", *overrides])
    result = fit(cfg, out=out)
    run = RunDir(result.run_dir)
    return DemoResult(run.path, run.samples_dir / f"step-{result.step:08d}.png", run.path / "curves.png", result)
