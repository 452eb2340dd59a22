"""``genlab export``: a run's trained model taken out as files other programs load without the run or genlab.

The folder holds model.safetensors and config.json (what :func:`genlab.load_export` and :func:`genlab.load_generator`
read; their layout: :mod:`genlab.generators`), one ONNX graph and one TorchScript file per part (any batch size;
each checked against PyTorch, the graph with onnxruntime, as it is written), samples.png (models that sample),
train-config.yaml and a README.md model card: the layout a Hugging Face model repository has, so ``--push``
uploads it as it is. The parts, by the kind of run:

* GAN: ``model.onnx`` and ``model.pt``, the generator: z [and labels] in, images in [-1, 1] out;
* autoencoder and VAE: ``encoder.onnx``/``.pt`` (images in; out the code, or a VAE's mean and logvar of q(z|x))
  and ``decoder.onnx``/``.pt`` (z in, images in [-1, 1] out, as the run decodes);
* CycleGAN: ``g_ab.onnx``/``.pt`` (domain A -> B) and ``g_ba.onnx``/``.pt`` (B -> A): images in, translated out;
* pix2pix: ``generator.onnx``/``.pt``, the U-Net: input images in, translated images out.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import shlex
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import nn

from genlab.config import dump_config
from genlab.errors import GenlabError, one_line
from genlab.fileio import atomic_write
from genlab.generators import (
    CONFIG_NAME,
    FORMAT,
    TRAIN_CONFIG_NAME,
    WEIGHTS_NAME,
    ExportedGenerator,
    GeneratorInfo,
    LoadedGenerator,
    ModelInfo,
    PartInfo,
    model_info,
    model_parts,
    needs_package,
    run_generator,
    save_generator,
    save_model,
)
from genlab.images import save_png
from genlab.models import Recipe
from genlab.registry import did_you_mean
from genlab.runs import OpenRun, open_run
from genlab.viz.samples import render_samples

try:
    import onnx
    import onnxruntime
    import onnxscript  # noqa: F401 (torch.onnx.export's exporter needs it)
except ImportError:  # the optional 'export' extra; needs_package() says how to install it
    onnx = onnxruntime = None

try:
    from huggingface_hub import upload_folder
except ImportError:  # only --push needs it
    upload_folder = None

FORMATS = ("safetensors", "onnx", "torchscript")
SAMPLES_NAME, CARD_NAME = "samples.png", "README.md"
TOLERANCE = 1e-4
"""Largest difference allowed between an exported graph's outputs and PyTorch's (images lie in [-1, 1])."""
EXPORT_BATCH, CHECK_BATCH = 2, 5
"""The batch size graphs are traced with, and the other one they are checked at (so a fixed batch shows)."""
GRAPH_STEMS = ("model", "encoder", "decoder", "g_ab", "g_ba")
"""The stems of every part's graph files, of every kind of export."""
SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt"}
"""The graph formats' file suffixes."""


@dataclass
class ExportResult:
    folder: Path
    files: list[Path]
    info: GeneratorInfo | ModelInfo


@dataclass(frozen=True)
class Graph:
    """One part of an export as its ONNX and TorchScript files: its network, its inputs and outputs by name and how
    to draw a batch of inputs for it."""

    name: str
    """The files' stem: model (a GAN's generator), encoder, decoder, g_ab or g_ba."""
    net: nn.Module
    inputs: list[str]
    outputs: list[str]
    example: Callable[[int, int], tuple[torch.Tensor, ...]]
    """(batch, seed) -> a batch of inputs."""
    what: str
    """The part in messages: 'the dcgan generator', 'the vae's decoder'."""


def export_generator(
    run_dir: str | Path,
    out: str | Path,
    formats: list[str] | tuple[str, ...] = FORMATS,
    *,
    ema: bool = True,
    push: str | None = None,
) -> ExportResult:
    """Write the model of a GAN, autoencoder, VAE, CycleGAN or pix2pix run into the folder ``out`` in the
    ``formats`` asked for, with config.json, samples.png (GAN and VAE) and a README.md model card; a GAN's generator
    is its EMA copy when it has one and ``ema``. ``push`` (a Hugging Face repo id) then uploads the folder with
    huggingface_hub."""
    formats = _check_formats(formats)
    if push is not None:
        needs_package(upload_folder, "huggingface_hub", "--push", "pip install huggingface_hub")
    folder = _check_out(Path(out))
    earlier = _export_files(folder)
    run = open_run(run_dir, "cpu")
    info, recipe, graphs = _save(run, folder, ema, "safetensors" in formats)
    for graph in graphs:
        if "onnx" in formats:
            write_onnx(graph, folder / f"{graph.name}{SUFFIXES['onnx']}")
        if "torchscript" in formats:
            write_torchscript(graph, folder / f"{graph.name}{SUFFIXES['torchscript']}")
    if recipe.generative:
        images = recipe.sample(64, generator=torch.Generator().manual_seed(0))
        save_png(render_samples(images), folder / SAMPLES_NAME)
    with atomic_write(folder / TRAIN_CONFIG_NAME, "w") as handle:
        handle.write(dump_config(run.config))
    with atomic_write(folder / CARD_NAME, "w") as handle:
        handle.write(model_card(run, info, formats, graphs, recipe.generative))
    for stale in earlier - _written(folder, formats, graphs, recipe.generative):
        stale.unlink()  # an earlier export's file this one did not replace (another kind of model, another format)
    if push is not None:
        upload_folder(repo_id=push, folder_path=str(folder), repo_type="model")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    return ExportResult(folder, files, info)


def _written(folder: Path, formats: tuple[str, ...], graphs: list[Graph], samples: bool) -> set[Path]:
    """The files an export in ``formats`` of a model with ``graphs`` (and ``samples``) writes into ``folder``."""
    names = {CONFIG_NAME, TRAIN_CONFIG_NAME, CARD_NAME} | ({WEIGHTS_NAME} if "safetensors" in formats else set())
    names |= {SAMPLES_NAME} if samples else set()
    names |= {f"{graph.name}{SUFFIXES[f]}" for graph in graphs for f in formats if f in SUFFIXES}
    return {folder / name for name in names}


def _export_files(folder: Path) -> set[Path]:
    """The files in ``folder`` that an export of any kind and format writes."""
    names = {CONFIG_NAME, WEIGHTS_NAME, SAMPLES_NAME, CARD_NAME, TRAIN_CONFIG_NAME}
    names |= {f"{stem}{suffix}" for stem in GRAPH_STEMS for suffix in SUFFIXES.values()}
    return {folder / name for name in names if (folder / name).is_file()}


def _save(
    run: OpenRun, folder: Path, ema: bool, weights: bool
) -> tuple[GeneratorInfo | ModelInfo, Recipe, list[Graph]]:
    """Write the run's config.json (and model.safetensors with ``weights``); returns its facts, the model that
    samples as the export will, and the parts to write as graphs."""
    if run.config.model.recipe == "gan":
        generator = run_generator(run, ema)
        save_generator(folder, generator, weights)
        return generator.info, ExportedGenerator(generator), [generator_graph(generator)]
    info = model_info(run)
    save_model(folder, info, run.recipe, weights)
    return info, run.recipe, part_graphs(info, model_parts(info.kind, run.recipe))


def _check_formats(formats: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        hint = did_you_mean(unknown[0], FORMATS) if unknown else ""
        raise GenlabError(
            f"unknown export format {', '.join(unknown) or '(none)'}{hint}; choose from {', '.join(FORMATS)}"
        )
    if "onnx" in formats:
        needs_package(onnxruntime, "onnx, onnxruntime and onnxscript", "the onnx format")
    return tuple(formats)


def _check_out(folder: Path) -> Path:
    """``folder``, made; an existing one must be empty or an earlier export, whose files are then replaced."""
    if folder.exists() and not folder.is_dir():
        raise GenlabError(f"cannot export to {folder}: it is a file; choose a folder (--out DIR)")
    earlier = folder / CONFIG_NAME
    if folder.is_dir() and any(folder.iterdir()) and FORMAT not in _text(earlier):
        raise GenlabError(
            f"cannot export to {folder}: the folder holds other files (it is no earlier genlab export); "
            "choose a new or empty folder (--out DIR)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return ""


def example_inputs(info: GeneratorInfo, batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Latents (and labels for a conditional generator) for a batch of ``batch`` samples."""
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn(batch, info.z_dim, generator=rng)
    if info.num_classes is None:
        return (z,)
    return z, torch.randint(info.num_classes, (batch,), generator=rng)


def part_inputs(part: PartInfo, batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """A batch of ``batch`` inputs of a part: latents z from N(0, I), images uniform in [-1, 1]."""
    rng = torch.Generator().manual_seed(seed)
    return tuple(
        torch.randn(batch, *shape, generator=rng) if name == "z" else torch.rand(batch, *shape, generator=rng) * 2 - 1
        for name, shape in part.inputs.items()
    )


def input_names(info: GeneratorInfo) -> list[str]:
    return ["z"] if info.num_classes is None else ["z", "labels"]


def generator_graph(generator: LoadedGenerator) -> Graph:
    net, info = generator
    return Graph(
        "model", net, input_names(info), ["images"], partial(example_inputs, info), f"the {info.arch} generator"
    )


def part_graphs(info: ModelInfo, parts: dict[str, nn.Module]) -> list[Graph]:
    """The graphs of an autoencoder, VAE or translator export, one per part."""
    return [
        Graph(
            name,
            parts[name],
            list(part.inputs),
            list(part.outputs),
            partial(part_inputs, part),
            f"the {info.kind}'s {name}",
        )
        for name, part in info.parts.items()
    ]


def write_onnx(graph: Graph, path: Path) -> None:
    """Write the ONNX graph of ``graph``'s network with a dynamic batch, after checking with onnxruntime that it
    gives PyTorch's outputs at a batch size other than the traced one."""
    batch = torch.export.Dim("batch")
    try:
        with torch.no_grad(), _quiet_exporter():
            program = torch.onnx.export(
                graph.net,
                graph.example(EXPORT_BATCH, 0),
                input_names=graph.inputs,
                output_names=graph.outputs,
                dynamic_shapes=tuple({0: batch} for _ in graph.inputs),  # by position: forward's argument names vary
                dynamo=True,
                verbose=False,
            )
    except torch.onnx.OnnxExporterError as exc:
        raise GenlabError(
            f"{graph.what} cannot be exported to ONNX ({one_line(exc.__cause__ or exc)}); leave the format out "
            "(--format safetensors,torchscript)"
        ) from None
    proto = program.model_proto
    onnx.checker.check_model(proto)
    serialized = proto.SerializeToString()
    session = onnxruntime.InferenceSession(serialized, providers=["CPUExecutionProvider"])
    check_matches(
        graph,
        lambda *inputs: session.run(None, dict(zip(graph.inputs, (x.numpy() for x in inputs), strict=True))),
        "ONNX",
    )
    with atomic_write(path) as handle:
        handle.write(serialized)


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence what torch.onnx.export says about its own internals (deprecations, the absent torchvision's
    operators), which is nothing a user of genlab can act on."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.filterwarnings("ignore", "# The axis name", UserWarning)  # one batch axis shared by two inputs
            yield
    finally:
        logger.setLevel(level)


def write_torchscript(graph: Graph, path: Path) -> None:
    """Write ``graph``'s network traced to TorchScript, after checking it gives PyTorch's outputs."""
    with torch.no_grad():
        traced = torch.jit.trace(graph.net, graph.example(EXPORT_BATCH, 0))
    check_matches(graph, traced, "TorchScript")
    buffer = io.BytesIO()
    torch.jit.save(traced, buffer)
    with atomic_write(path) as handle:
        handle.write(buffer.getbuffer())


def check_matches(graph: Graph, exported: Callable[..., Any], kind: str) -> float:
    """The largest difference between ``exported``'s outputs and those of ``graph``'s network on a batch of
    :data:`CHECK_BATCH`; above :data:`TOLERANCE` it is a GenlabError (the file would not be the trained part)."""
    inputs = graph.example(CHECK_BATCH, 1)
    with torch.no_grad():
        expected, got = _outputs(graph.net(*inputs)), _outputs(exported(*inputs))
    difference = max((torch.as_tensor(g) - e).abs().max().item() for g, e in zip(got, expected, strict=True))
    if not difference <= TOLERANCE:
        raise GenlabError(
            f"the {kind} graph's outputs differ from PyTorch's for {graph.what} by up to {difference:.3g} (more than "
            f"{TOLERANCE}); leave that format out (--format) and report the architecture to genlab"
        )
    return difference


def _outputs(result: Any) -> tuple[Any, ...]:
    """A network's or graph's outputs as a tuple (one output is a tensor of its own)."""
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


def model_card(
    run: OpenRun, info: GeneratorInfo | ModelInfo, formats: tuple[str, ...], graphs: list[Graph], samples: bool
) -> str:
    """README.md of the export: what was trained on what for how long, its evaluation, and what each file maps."""
    cfg = run.config
    steps = f"--set train.steps={info.step}" if info.step != cfg.train.steps else ""
    title, tag, summary = _summary(run, info)
    generator = isinstance(info, GeneratorInfo)
    loader = "genlab.load_generator(folder)" if generator else "genlab.load_export(folder)"
    prefixes = "" if generator else f" of every part, under the prefixes {', '.join(f'{p}.' for p in info.parts)}"
    lines = [
        "---",
        "library_name: genlab",
        f"tags: [genlab, {tag}]",
        "---",
        f"# {cfg.name}: {title}",
        "",
        *summary,
        "",
        *(
            [f"![samples]({SAMPLES_NAME})", "", "## Evaluation", "", *_evaluation(run.run_dir / "eval.json"), ""]
            if samples
            else []
        ),
        "## Files",
        "",
        f"- `{CONFIG_NAME}`: what the weights are: the architecture and its settings, shapes, value range",
        *([f"- `{WEIGHTS_NAME}`: the weights{prefixes} (`{loader}`)"] if "safetensors" in formats else []),
        *(line for graph in graphs for line in _graph_files(graph, formats)),
        f"- `{TRAIN_CONFIG_NAME}`: the config that trained it",
        "",
        "## Reproduce",
        "",
        "```",
        f"pip install genlab=={info.genlab_version}",
        " ".join(part for part in (f"genlab train {TRAIN_CONFIG_NAME}", steps) if part),
        "```",
        "",
    ]
    return "\n".join(lines)


def _summary(run: OpenRun, info: GeneratorInfo | ModelInfo) -> tuple[str, str, list[str]]:
    """The model card's title, tag and opening paragraphs: what the model is and what it maps."""
    cfg = run.config
    shape = "x".join(str(n) for n in info.shape)
    classes = info.num_classes if isinstance(info, GeneratorInfo) else None
    conditional = f", conditional on {classes} classes" if classes is not None else ""
    made = (
        f"trained with genlab {info.genlab_version} for {info.step} steps on {cfg.data.name} ({shape} samples"
        f"{conditional}), config '{cfg.name}' ({TRAIN_CONFIG_NAME}), from the run {run.run_dir.name}."
    )
    if isinstance(info, GeneratorInfo):
        kept = "EMA copy" if info.ema else "trained weights"
        return (
            f"a {info.arch} GAN generator",
            "gan, image-generation",
            [
                f"A {info.arch} generator ({kept}) {made} Objective {cfg.model.objective.name}.",
                "",
                f"It maps z ~ {info.latent}(z_dim = {info.z_dim}) to samples in [-1, 1].",
            ],
        )
    coder = info.model.get("coder", {}).get("arch")
    if info.kind == "paired":
        return (
            "a pix2pix translator",
            "pix2pix, image-to-image",
            [
                f"The U-Net generator of a pix2pix run {made}",
                "",
                f"`generator` translates inputs ({cfg.data.name}, data.pair: {cfg.data.pair}) into targets; images "
                "in [-1, 1] in and out.",
            ],
        )
    if info.kind == "translator":
        return (
            "CycleGAN translators",
            "cyclegan, image-to-image",
            [
                f"The two translators of a CycleGAN {made}",
                "",
                f"`g_ab` translates domain A ({cfg.data.name}) into domain B ({cfg.model.domain_b.name}), `g_ba` back; "
                "images in [-1, 1] in and out.",
            ],
        )
    z = info.parts["decoder"].inputs["z"][0]
    if info.kind == "vae":
        return (
            "a VAE",
            "vae, image-generation",
            [
                f"A VAE ({coder} encoder and decoder, z_dim = {z}) {made}",
                "",
                "The encoder maps images in [-1, 1] to the mean and log-variance of q(z|x); the decoder maps "
                f"z ~ normal(z_dim = {z}) to images in [-1, 1] (the mean of p(x|z)).",
            ],
        )
    return (
        "an autoencoder",
        "autoencoder",
        [
            f"An autoencoder ({coder} encoder and decoder, {z} numbers a code) {made}",
            "",
            "The encoder maps images in [-1, 1] to codes; the decoder maps codes back to images in [-1, 1].",
        ],
    )


def _graph_files(graph: Graph, formats: tuple[str, ...]) -> list[str]:
    """The model card's lines on the ONNX and TorchScript files of one part."""
    lines = []
    if "onnx" in formats:
        lines.append(
            f"- `{graph.name}.onnx`: {graph.what}; inputs {', '.join(graph.inputs)}, outputs "
            f"{', '.join(graph.outputs)}, any batch size"
        )
    if "torchscript" in formats:
        lines.append(f"- `{graph.name}.pt`: {graph.what} in TorchScript (`torch.jit.load`)")
    return lines


def _evaluation(path: Path) -> list[str]:
    """The metrics of the run's eval.json as a table with their provenance; a line saying there are none."""
    try:
        result = json.loads(path.read_text())
        metrics, provenance = result["metrics"], result["provenance"]
    except (OSError, ValueError, KeyError, TypeError):
        return [f"No evaluation: `genlab eval RUN_DIR` writes one ({shlex.quote(str(path))} is missing or unreadable)."]
    rows = [
        "| metric | value |",
        "| --- | --- |",
        *(f"| {k} | {v:.6g} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in metrics.items()),
    ]
    return [*rows, "", "Provenance:", "", *(f"- {k}: {v}" for k, v in provenance.items())]
