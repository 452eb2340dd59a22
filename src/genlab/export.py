"""``genlab export``: a GAN run's generator taken out as files other programs load without the run or genlab.

The folder holds model.safetensors and config.json (what :func:`genlab.load_generator` reads), model.onnx (latent
[and labels] in, images in [-1, 1] out, any batch size; checked against PyTorch with onnxruntime as it is written),
model.pt (TorchScript), samples.png, train-config.yaml and a README.md model card: the layout a Hugging Face model
repository has, so ``--push`` uploads it as it is.
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
from pathlib import Path

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
    needs_package,
    run_generator,
    save_generator,
)
from genlab.images import save_png
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
ONNX_NAME, TORCHSCRIPT_NAME, SAMPLES_NAME, CARD_NAME = "model.onnx", "model.pt", "samples.png", "README.md"
TOLERANCE = 1e-4
"""Largest difference allowed between an exported graph's images and PyTorch's (outputs lie in [-1, 1])."""
EXPORT_BATCH, CHECK_BATCH = 2, 5
"""The batch size graphs are traced with, and the other one they are checked at (so a fixed batch shows)."""


@dataclass
class ExportResult:
    folder: Path
    files: list[Path]
    info: GeneratorInfo


def export_generator(
    run_dir: str | Path,
    out: str | Path,
    formats: list[str] | tuple[str, ...] = FORMATS,
    *,
    ema: bool = True,
    push: str | None = None,
) -> ExportResult:
    """Write the generator of a GAN run (its EMA copy when it has one and ``ema``) into the folder ``out`` in the
    ``formats`` asked for, with config.json, samples.png and a README.md model card; ``push`` (a Hugging Face repo
    id) then uploads the folder with huggingface_hub."""
    formats = _check_formats(formats)
    if push is not None:
        needs_package(upload_folder, "huggingface_hub", "--push", "pip install huggingface_hub")
    folder = _check_out(Path(out))
    run = open_run(run_dir, "cpu")
    generator = run_generator(run, ema)
    save_generator(folder, generator, weights="safetensors" in formats)
    if "onnx" in formats:
        write_onnx(generator, folder / ONNX_NAME)
    if "torchscript" in formats:
        write_torchscript(generator, folder / TORCHSCRIPT_NAME)
    images = ExportedGenerator(generator).sample(64, generator=torch.Generator().manual_seed(0))
    save_png(render_samples(images), folder / SAMPLES_NAME)
    with atomic_write(folder / TRAIN_CONFIG_NAME, "w") as handle:
        handle.write(dump_config(run.config))
    with atomic_write(folder / CARD_NAME, "w") as handle:
        handle.write(model_card(run, generator.info, formats))
    if push is not None:
        upload_folder(repo_id=push, folder_path=str(folder), repo_type="model")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    return ExportResult(folder, files, generator.info)


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


def input_names(info: GeneratorInfo) -> list[str]:
    return ["z"] if info.num_classes is None else ["z", "labels"]


def write_onnx(generator: LoadedGenerator, path: Path) -> None:
    """Write the ONNX graph of ``generator`` with a dynamic batch, after checking with onnxruntime that it gives
    PyTorch's images at a batch size other than the traced one."""
    net, info = generator
    names = input_names(info)
    batch = torch.export.Dim("batch")
    try:
        with torch.no_grad(), _quiet_exporter():
            program = torch.onnx.export(
                net,
                example_inputs(info, EXPORT_BATCH),
                input_names=names,
                output_names=["images"],
                dynamic_shapes=tuple({0: batch} for _ in names),  # by position: forward's argument names vary
                dynamo=True,
                verbose=False,
            )
    except torch.onnx.OnnxExporterError as exc:
        raise GenlabError(
            f"the {info.arch} generator cannot be exported to ONNX ({one_line(exc.__cause__ or exc)}); leave the "
            "format out (--format safetensors,torchscript)"
        ) from None
    proto = program.model_proto
    onnx.checker.check_model(proto)
    graph = proto.SerializeToString()
    session = onnxruntime.InferenceSession(graph, providers=["CPUExecutionProvider"])
    check_matches(
        net,
        info,
        lambda *inputs: session.run(None, dict(zip(names, (x.numpy() for x in inputs), strict=True)))[0],
        "ONNX",
    )
    with atomic_write(path) as handle:
        handle.write(graph)


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


def write_torchscript(generator: LoadedGenerator, path: Path) -> None:
    """Write ``generator`` traced to TorchScript, after checking it gives PyTorch's images."""
    net, info = generator
    with torch.no_grad():
        traced = torch.jit.trace(net, example_inputs(info, EXPORT_BATCH))
    check_matches(net, info, traced, "TorchScript")
    buffer = io.BytesIO()
    torch.jit.save(traced, buffer)
    with atomic_write(path) as handle:
        handle.write(buffer.getbuffer())


def check_matches(net: nn.Module, info: GeneratorInfo, exported: Callable[..., object], kind: str) -> float:
    """The largest difference between ``exported``'s images and ``net``'s on a batch of :data:`CHECK_BATCH`; above
    :data:`TOLERANCE` it is a GenlabError (the graph would not be the trained generator)."""
    inputs = example_inputs(info, CHECK_BATCH, seed=1)
    with torch.no_grad():
        expected = net(*inputs)
        got = torch.as_tensor(exported(*inputs))
    difference = (got - expected).abs().max().item()
    if not difference <= TOLERANCE:
        raise GenlabError(
            f"the {kind} graph's images differ from PyTorch's by up to {difference:.3g} (more than {TOLERANCE}); "
            "leave that format out (--format) and report the architecture to genlab"
        )
    return difference


def model_card(run: OpenRun, info: GeneratorInfo, formats: tuple[str, ...]) -> str:
    """README.md of the export: what was trained on what for how long, its evaluation, and how to use it."""
    cfg = run.config
    data = cfg.data
    shape = "x".join(str(n) for n in info.shape)
    conditional = f", conditional on {info.num_classes} classes" if info.num_classes is not None else ""
    steps = f"--set train.steps={info.step}" if info.step != cfg.train.steps else ""
    lines = [
        "---",
        "library_name: genlab",
        "tags: [genlab, gan, image-generation]",
        "---",
        f"# {cfg.name}: a {info.arch} GAN generator",
        "",
        f"A {info.arch} generator ({'EMA copy' if info.ema else 'trained weights'}) trained with genlab "
        f"{info.genlab_version} for {info.step} steps on {data.name} ({shape} samples{conditional}), config "
        f"'{cfg.name}' ({TRAIN_CONFIG_NAME}), objective {cfg.model.objective.name}, from the run {run.run_dir.name}.",
        "",
        f"It maps z ~ {info.latent}(z_dim = {info.z_dim}) to samples in [-1, 1].",
        "",
        f"![samples]({SAMPLES_NAME})",
        "",
        "## Evaluation",
        "",
        *_evaluation(run.run_dir / "eval.json"),
        "",
        "## Files",
        "",
        f"- `{CONFIG_NAME}`: the architecture and its settings, z_dim, sample shape, classes, value range",
        *([f"- `{WEIGHTS_NAME}`: the weights (`genlab.load_generator(folder)`)"] if "safetensors" in formats else []),
        *(
            [f"- `{ONNX_NAME}`: inputs {', '.join(input_names(info))}, output images, any batch size"]
            if "onnx" in formats
            else []
        ),
        *([f"- `{TORCHSCRIPT_NAME}`: TorchScript (`torch.jit.load`)"] if "torchscript" in formats else []),
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
