"""The latent-space commands on a trained run: interpolation, vector arithmetic, guided edits, latent directions,
and for autoencoders and VAEs embeddings, traversals and the AE-vs-VAE comparison.

Each opens a run folder, a checkpoint or a folder that ``genlab export`` wrote (:func:`open_model`), draws latents
from a seed, writes its figure to FOLDER/latent/ (or ``out``) and returns its numbers; the figures are image grids,
one generated image per cell. Classifier-based steps use the run's data set's shipped classifier unless
``classifier`` names a file from ``genlab classifier train``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from genlab.data import open_dataset
from genlab.data.base import fit_images, set_channels
from genlab.data.folder import read_image
from genlab.errors import GenlabError
from genlab.fileio import ensure_writable, write_json
from genlab.generators import OpenModel, open_model
from genlab.images import save_png
from genlab.latent.arithmetic import LabelledLatents, label_latents, pixel_arithmetic
from genlab.latent.arithmetic import arithmetic as latent_arithmetic
from genlab.latent.attributes import attribute_functions
from genlab.latent.directions import Method, direction_from_labels, entanglement, move
from genlab.latent.edit import class_log_prob, guided_edit
from genlab.latent.interpolate import Mode, latent_path
from genlab.latent.views import Projection, knn_accuracy, plot_embedding, project, sweep_codes
from genlab.metrics.features import DomainClassifier, load_classifier, shipped_classifiers
from genlab.metrics.prdc import realism_scores
from genlab.metrics.reference import real_subset
from genlab.models import Recipe
from genlab.models.autoencoder import AutoEncoder
from genlab.models.vae import VAE
from genlab.schema import COUNT, POSITIVE, SEED, Interval, check_arguments
from genlab.viz.samples import render_samples

PAIR = Interval(ge=2)
"""Counts that need two of a kind: the ends of a walk or a sweep, the two halves of a direction's draw."""
VARIATION_STD = 0.25
"""Noise added to an arithmetic result to show its neighbourhood (as in the DCGAN paper's figure)."""
REALISM_REAL = 2000
"""Real test images whose classifier features span the manifold an arithmetic result's realism is measured on."""


@dataclass
class LatentFigure:
    """A figure written by one of the commands, with the numbers it shows."""

    path: Path
    numbers: dict[str, object] = field(default_factory=dict)
    failure: str | None = None
    """Why the command did not do what was asked, though it wrote its figure and numbers; the CLI exits with it."""


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _figure_path(run: OpenModel, out: str | Path | None, name: str) -> Path:
    """Where a figure goes (``out``, else FOLDER/latent/NAME), checked to be writable before the work for it."""
    return ensure_writable(Path(out) if out else run.folder / "latent" / name)


def _figure(path: Path, images: torch.Tensor, per_row: int) -> Path:
    return save_png(render_samples(images, nrow=per_row), path)


def _numbers(figure: Path, numbers: dict[str, object]) -> LatentFigure:
    """Write a figure's numbers beside it (same name, .json)."""
    write_json(figure.with_suffix(".json"), numbers)
    return LatentFigure(figure, numbers)


def _generative(path: str | Path, device: str) -> OpenModel:
    run = open_model(path, device)
    if not run.recipe.generative:
        raise GenlabError(f"{run.source} holds a {run.config.model.recipe}, which has no latent space")
    return run


def _labels(recipe: Recipe, n: int, label: int | None) -> torch.Tensor | None:
    return recipe.check_labels(None if label is None else torch.full((n,), label), n)


def run_classifier(run: OpenModel, classifier: str | Path | None) -> DomainClassifier:
    """The classifier for a run: the file or shipped name given, else the run's data set's shipped one."""
    data = run.config.data.name
    if not classifier and data not in shipped_classifiers():
        raise GenlabError(
            f"genlab ships no classifier for '{data}'; train one with `genlab classifier train --data {data} "
            "--out clf.pt` and pass --classifier clf.pt"
        )
    return load_classifier(classifier or data, run.recipe.device)


def interpolate(
    path: str | Path,
    *,
    steps: int = 10,
    mode: Mode = "slerp",
    rows: int = 4,
    points: int = 2,
    seed: int = 0,
    label: int | None = None,
    images: tuple[str | Path, str | Path] | None = None,
    device: str = "auto",
    out: str | Path | None = None,
) -> LatentFigure:
    """``rows`` walks through ``points`` random latents each, ``steps`` images per leg; one walk per grid row.

    A conditional generator keeps one class along each walk (``label``, else classes 0, 1, ...). With ``images``
    (two image files) an autoencoder or VAE run walks between their codes instead.
    """
    check_arguments(steps=(steps, PAIR), rows=(rows, COUNT), points=(points, PAIR), seed=(seed, SEED))
    run = open_model(path, device) if images is not None else _generative(path, device)
    recipe = run.recipe
    figure = _figure_path(run, out, f"interpolate-{'images-' if images is not None else ''}{mode}.png")
    if images is not None:
        pictures = [_read_picture(p, run.shape) for p in images]
        walk = interpolate_images(recipe, *pictures, steps=steps, mode=mode)
        return _numbers(
            _figure(figure, walk, steps), {"mode": mode, "rows": 1, "frames": steps, "images": [str(p) for p in images]}
        )
    z = recipe.latents(rows * points, generator=_seeded(seed)).view(rows, points, -1)
    walks = torch.stack([latent_path(chosen, steps, mode) for chosen in z])  # (rows, frames, d)
    frames = walks.shape[1]
    labels = _labels(recipe, rows, label)
    per_image = None if labels is None else labels.repeat_interleave(frames)
    with torch.no_grad():
        decoded = recipe.decode(walks.flatten(0, 1), per_image)
    return _numbers(_figure(figure, decoded, frames), {"mode": mode, "rows": rows, "frames": frames, "seed": seed})


def _read_picture(path: str | Path, shape: tuple[int, ...]) -> torch.Tensor:
    """An image file as the run's samples are: (C, H, W) in [-1, 1] at the run's size and channels."""
    try:
        unit = read_image(Path(path), shape[-1], "resize")
    except (OSError, ValueError) as exc:
        raise GenlabError(f"cannot read image {path}: {exc}") from None
    return set_channels(unit[None], shape[0])[0] * 2 - 1


def interpolate_images(
    recipe: Recipe, first: torch.Tensor, second: torch.Tensor, steps: int = 10, mode: Mode = "slerp"
) -> torch.Tensor:
    """Encode two images (each (C, H, W) in [-1, 1]), walk between their codes and decode: (steps, C, H, W)."""
    codes = recipe.encode(torch.stack([first, second]).to(recipe.device))
    with torch.no_grad():
        return recipe.decode(latent_path(codes, steps, mode))


def label_samples(
    run: OpenModel, n: int, seed: int, classifier: DomainClassifier, attributes: Sequence[str] = ("ink", "slant")
) -> LabelledLatents:
    """``n`` latents from ``seed`` with the class and attributes of their images (requested classes for a
    conditional generator)."""
    recipe = run.recipe
    z = recipe.latents(n, generator=_seeded(seed))
    requested = recipe.default_labels(n)
    with torch.no_grad():
        images = recipe.decode(z, requested)
        classes = classifier.predict(images) if requested is None else requested.to(images.device)
    return label_latents(z, images, classes.to(z.device), attribute_functions(list(attributes), classifier), requested)


def _pad_row(images: torch.Tensor, width: int) -> torch.Tensor:
    """``images`` followed by black images up to ``width``, so every grid row starts a new figure row."""
    blank = -torch.ones(width - len(images), *images.shape[1:], dtype=images.dtype, device=images.device)
    return torch.cat([images, blank])


def arithmetic(
    path: str | Path,
    a: str,
    b: str,
    c: str,
    *,
    n: int = 2000,
    members: int = 3,
    variations: int = 8,
    seed: int = 0,
    rescale: bool = False,
    classifier: str | Path | None = None,
    device: str = "auto",
    out: str | Path | None = None,
) -> LatentFigure:
    """G(mean(a) − mean(b) + mean(c)) for three queries over ``n`` labelled samples (``members`` of each group used).

    Rows of the figure: the members of a, b and c with G of their mean last, then the result and ``variations``
    neighbours, then the baseline that z-arithmetic has to beat (seed 002): the same operation on the members'
    images, mean(G(a)) − mean(G(b)) + mean(G(c)) in pixel space (clipped to the image range). The numbers compare
    the result's class and attributes with those of G(mean c), and the classifier's reading (class, confidence) of
    the z result with that of the pixel result: an overlay of strokes rather than a new digit. A confident class
    does not make an image look real, so each also gets its realism score (Kynkäänniemi et al. 2019) in the
    classifier's features against :data:`REALISM_REAL` real test images: at least 1 inside the real manifold, below
    1 outside it. A conditional generator decodes each group with its members' classes and the result with the
    class of c.

    A mean of m independent latents is shorter than a typical latent (by √m for a Gaussian prior), and the
    generator has rarely been fed such points: ``rescale`` scales each group's mean and the result to the mean norm
    of the labelled latents before decoding (``genlab lab pixel-arithmetic`` measures what that does to its realism).
    """
    check_arguments(n=(n, COUNT), seed=(seed, SEED))
    run = _generative(path, device)
    recipe = run.recipe
    figure = _figure_path(run, out, "arithmetic.png")
    clf = run_classifier(run, classifier)
    samples = label_samples(run, n, seed, clf)
    chosen = {
        name: samples.select(query).nonzero().flatten()[:members] for name, query in zip("abc", (a, b, c), strict=True)
    }
    z = {name: samples.z[index] for name, index in chosen.items()}
    typical_norm = samples.z.norm(dim=1).mean()

    def point(v: torch.Tensor) -> torch.Tensor:
        """A mean or a result as decoded: at the latents' typical norm with ``rescale``."""
        return v * typical_norm / v.norm() if rescale else v

    result = point(latent_arithmetic(z["a"], z["b"], z["c"]))
    noise = torch.randn(variations, result.numel(), generator=_seeded(seed + 1)).to(result.device)
    width = max(members, variations) + 1

    def labels_of(name: str, count: int) -> torch.Tensor | None:
        """Classes for a group's row: its members' own, then its first member's for the remaining images."""
        if samples.requested is None:
            return None
        own = samples.requested[chosen[name]][:count]
        return torch.cat([own, own[:1].repeat(count - len(own))])

    rows, members_images = [], {}
    with torch.no_grad():
        for name in "abc":
            group = torch.cat([z[name], point(z[name].mean(0))[None]])
            decoded = recipe.decode(group, labels_of(name, len(group)))
            members_images[name] = decoded[: len(z[name])]
            rows.append(_pad_row(decoded, width))
        result_z = torch.cat([result[None], result + VARIATION_STD * noise])
        c_labels = labels_of("c", 1)
        result_images = recipe.decode(result_z, None if c_labels is None else c_labels.repeat(len(result_z)))
        rows.append(_pad_row(result_images, width))
        pixel_result = pixel_arithmetic(*(members_images[name] for name in "abc"))
        rows.append(_pad_row(pixel_result, width))
    mean_c = rows[2][len(z["c"]) : len(z["c"]) + 1]
    numbers: dict[str, object] = {"queries": {"a": a, "b": b, "c": c}, "members": members, "n": n, "seed": seed}
    numbers["rescale"] = rescale
    numbers["result_class"] = int(clf.predict(result_images[:1])[0])
    numbers["neighbour_classes"] = clf.predict(result_images[1:]).tolist()
    numbers["pixel_result_class"] = int(clf.predict(pixel_result)[0])
    confidence = clf(torch.cat([result_images[:1], pixel_result])).probabilities.max(dim=1).values
    numbers["result_confidence"], numbers["pixel_result_confidence"] = (float(p) for p in confidence)
    real_features = clf(_test_images(run, REALISM_REAL)[0].to(recipe.device)).features
    # every real ball kept (keep=1, so score ≥ 1 is precision's test): on MNIST 89 % of held-out test digits and
    # 70 % of a 1,500-step GAN's samples score ≥ 1, pixel means of 8 test digits none (measured, see RESULTS)
    results = torch.cat([result_images[:1], pixel_result, mean_c])
    realism = realism_scores(real_features, clf(results).features, keep=1.0)
    numbers["result_realism"], numbers["pixel_result_realism"], numbers["mean_c_realism"] = (float(r) for r in realism)
    for name, fn in attribute_functions(["ink", "slant"], clf).items():
        numbers[f"result_{name}"] = float(fn(result_images[:1])[0])
        numbers[f"mean_c_{name}"] = float(fn(mean_c)[0])
        numbers[f"pixel_result_{name}"] = float(fn(pixel_result)[0])
    return _numbers(_figure(figure, torch.cat(rows), width), numbers)


def edit(
    path: str | Path,
    to_class: int,
    *,
    n: int = 64,
    lr: float = 0.5,
    p: float = 0.9,
    max_steps: int = 200,
    normalize: bool = True,
    seed: int = 0,
    classifier: str | Path | None = None,
    show: int = 16,
    device: str = "auto",
    out: str | Path | None = None,
) -> LatentFigure:
    """Edit ``n`` random latents towards class ``to_class`` by the classifier's gradient; report how it went.

    Steps have length ``lr`` along the gradient (``normalize``), or are ``lr`` times the gradient itself.
    The figure shows ``show`` edited samples: before in the top row, after in the row below (samples that already
    were the target are skipped). When no edit reaches the target, the returned figure's ``failure`` says so.
    """
    check_arguments(n=(n, COUNT), seed=(seed, SEED))
    run = _generative(path, device)
    recipe = run.recipe
    figure = _figure_path(run, out, f"edit-to-{to_class}.png")
    clf = run_classifier(run, classifier)
    if not 0 <= to_class < clf.net.num_classes:
        raise GenlabError(f"--to-class {to_class}: the classifier knows classes 0..{clf.net.num_classes - 1}")
    if recipe.num_classes is not None:
        raise GenlabError("edits steer unconditional generators; a conditional one draws a class directly (--class)")
    z = recipe.latents(n, generator=_seeded(seed))
    log_prob = class_log_prob(clf.logits, to_class)
    result = guided_edit(recipe.decode, log_prob, z, lr=lr, p=p, max_steps=max_steps, normalize=normalize)
    numbers = {"to_class": to_class, "n": n, "lr": lr, "normalize": normalize, "p": p, "max_steps": max_steps}
    numbers["seed"] = seed
    numbers |= result.summary()
    shown = (~result.already).nonzero().flatten()[:show]
    with torch.no_grad():
        before, after = recipe.decode(result.z_before[shown]), recipe.decode(result.z_after[shown])
    figure = _figure(figure, torch.cat([before, after]), max(len(shown), 1))
    written = _numbers(figure, numbers)
    if numbers["edited"] and not numbers["succeeded"]:
        written.failure = (
            f"none of the {numbers['edited']} edited samples reached class {to_class} with probability {p} within "
            f"{max_steps} steps; try more --max-steps, a larger --lr or a lower --p (figure and numbers: {figure} "
            f"and {figure.with_suffix('.json')})"
        )
    return written


def direction(
    path: str | Path,
    positive: str,
    negative: str | None = None,
    *,
    method: Method = "mean",
    strengths: Sequence[float] = (-3, -2, -1, 0, 1, 2, 3),
    n: int = 2000,
    show: int = 8,
    seed: int = 0,
    classifier: str | Path | None = None,
    device: str = "auto",
    out: str | Path | None = None,
) -> LatentFigure:
    """A latent direction from samples matching ``positive`` (a query such as ``ink=high`` or ``class=7``) against
    those matching ``negative`` (default: all others), applied with ``strengths``, and its entanglement.

    The target attribute is the class probability for a class query, else the query's first attribute; the others
    measured are ink, slant and the target class's probability. Rows of the figure: ``show`` samples (of the held-out
    second half of the draw), columns: the strengths.
    """
    check_arguments(n=(n, PAIR), seed=(seed, SEED))
    run = _generative(path, device)
    recipe = run.recipe
    figure = _figure_path(run, out, "direction.png")
    if recipe.num_classes is not None:
        raise GenlabError("directions are found in the z of unconditional generators; use --class for a class")
    clf = run_classifier(run, classifier)
    samples = label_samples(run, n, seed, clf)
    fit_half = torch.arange(n, device=samples.z.device) < n // 2  # directions from one half, measured on the other
    pos = samples.select(positive) & fit_half
    neg = (samples.select(negative) if negative else ~samples.select(positive)) & fit_half
    chosen = pos | neg
    d = direction_from_labels(samples.z[chosen], pos[chosen], method)
    keys = [part.partition("=") for part in positive.split(",")]
    target_class = next((int(v) for k, _, v in keys if k.strip() == "class"), None)
    target = f"p{target_class}" if target_class is not None else keys[0][0].strip()
    names = sorted({"ink", "slant", target})
    functions = attribute_functions(names, clf)
    held_out = samples.z[~fit_half]
    measured = entanglement(recipe.decode, held_out, d, functions, target, [s for s in strengths if s != 0])
    with torch.no_grad():
        grid = recipe.decode(move(held_out[:show], d, strengths).transpose(0, 1).flatten(0, 1))
        strongest = max(strengths, key=abs)
        moved_class = clf.predict(recipe.decode(held_out + strongest * d))
    numbers = {
        "positive": positive,
        "negative": negative or f"not ({positive})",
        "method": method,
        "n_fit": int(chosen.sum()),
        **measured.as_dict(),
        "class_changed": float((moved_class != samples.classes[~fit_half]).float().mean()),
    }
    return _numbers(_figure(figure, grid, len(strengths)), numbers)


def _test_images(run: OpenModel, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` images of the run's data set's test split (a fixed choice), with their labels."""
    data = open_dataset(run.config.data.model_copy(update={"split": "test"}))[0]  # a large folder: only n files read
    return real_subset(data, n)


def _resized(images: torch.Tensor, size: int) -> torch.Tensor:
    """Images in [-1, 1] brought to ``size`` x ``size`` the way data sets are (bilinear)."""
    return fit_images((images + 1) / 2, size, "resize") * 2 - 1


def _encode(recipe: Recipe, images: torch.Tensor) -> torch.Tensor:
    return torch.cat([recipe.encode(part.to(recipe.device)) for part in images.split(500)])


def embed(
    path: str | Path,
    *,
    method: Projection = "auto",
    n: int = 2000,
    seed: int = 0,
    device: str = "auto",
    out: str | Path | None = None,
) -> LatentFigure:
    """Plot the codes of ``n`` test images in 2-D, coloured by label, with the k-NN accuracy of labels from the
    codes (autoencoder and VAE runs: the encoder's output or posterior mean)."""
    check_arguments(n=(n, COUNT), seed=(seed, SEED))
    run = open_model(path, device)
    _figure_path(run, out, f"embedding-{method}.png")  # the folder; the file is named after the method used
    images, labels = _test_images(run, n)
    codes = _encode(run.recipe, images).cpu().numpy()
    points, used = project(codes, method, seed)
    numbers: dict[str, object] = {"method": used, "n": len(codes), "code_dim": codes.shape[1], "seed": seed}
    if labels is not None:
        numbers["knn_accuracy"] = knn_accuracy(codes, labels.numpy())
    figure = Path(out) if out else run.folder / "latent" / f"embedding-{used}.png"
    title = f"{run.config.name}: {codes.shape[1]}-d codes of {len(codes)} test images ({used})"
    plot_embedding(points, None if labels is None else labels.numpy(), figure, title)
    return _numbers(figure, numbers)


def traverse(
    path: str | Path,
    *,
    dims: list[int] | None = None,
    span: float = 3.0,
    steps: int = 9,
    seed: int = 0,
    device: str = "auto",
    out: str | Path | None = None,
) -> LatentFigure:
    """One grid row per latent coordinate: the code of one test image (chosen by ``seed``) with that coordinate
    moved over +-``span`` times its spread over the test set, the others fixed. Default rows: the 8 coordinates
    that vary most. Reports each row's mean absolute pixel change from its first to its last image."""
    check_arguments(span=(span, POSITIVE), steps=(steps, PAIR), seed=(seed, SEED))
    run = open_model(path, device)
    recipe = run.recipe
    figure = _figure_path(run, out, "traverse.png")
    codes = _encode(recipe, _test_images(run, 1000)[0])
    spread = codes.std(0)
    chosen = dims if dims is not None else spread.argsort(descending=True)[: min(8, len(spread))].tolist()
    if any(not 0 <= d < codes.shape[1] for d in chosen):
        raise GenlabError(f"dims must be in 0..{codes.shape[1] - 1}, got {chosen}")
    base = codes[torch.randint(len(codes), (1,), generator=_seeded(seed))][0]
    offsets = torch.linspace(-span, span, steps, device=codes.device) * spread[chosen, None]
    with torch.no_grad():
        images = recipe.decode(sweep_codes(base, chosen, offsets))
    rows = images.view(len(chosen), steps, *images.shape[1:])
    change = (rows[:, -1] - rows[:, 0]).abs().flatten(1).mean(1)
    figure = _figure(figure, images, steps)
    numbers = {"dims": chosen, "span": span, "spread": spread[chosen].tolist(), "pixel_change": change.tolist()}
    return _numbers(figure, numbers)


def ae_vs_vae(
    ae_path: str | Path,
    vae_path: str | Path,
    *,
    n: int = 8,
    seed: int = 0,
    device: str = "auto",
    out: str | Path = "ae-vs-vae.png",
) -> LatentFigure:
    """Why VAEs sample and autoencoders do not: rows of test images, the AE's and the VAE's reconstructions, the
    AE decoding random codes (a Gaussian fitted to its codes of the test set) and VAE prior samples. The numbers
    give each model's reconstruction error and the share of 1,000 random decodes that the data set's classifier
    recognises with probability > 0.9. The runs must share a data set, not a size: each sees the test images at
    its own size, and the figure shows everything at the VAE's."""
    check_arguments(n=(n, COUNT), seed=(seed, SEED))
    ae, vae = open_model(ae_path, device), open_model(vae_path, device)
    if not isinstance(ae.recipe, AutoEncoder) or not isinstance(vae.recipe, VAE):
        raise GenlabError(
            f"ae-vs-vae compares an autoencoder run with a VAE run, in that order; {ae.source} holds "
            f"model.recipe: {ae.config.model.recipe} and {vae.source} model.recipe: {vae.config.model.recipe}"
        )
    if ae.config.data.name != vae.config.data.name:
        raise GenlabError(
            f"the two runs were trained on different data sets ({ae.config.data.name}, {vae.config.data.name}); "
            "compare runs on the same data"
        )
    figure = ensure_writable(out)
    size = vae.shape[-1]
    images = _test_images(vae, 1000)[0]
    rows = [images[:n]]
    numbers: dict[str, object] = {"n": n, "seed": seed}
    classifier = run_classifier(vae, None)
    for name, run in (("ae", ae), ("vae", vae)):
        own_size = _resized(images, run.shape[-1])  # each run sees the data at its own size
        codes = _encode(run.recipe, own_size)
        recon = _resized(run.recipe.reconstruct(own_size.to(run.recipe.device)).cpu(), size)
        rows.append(recon[:n])
        numbers[f"{name}_reconstruction_mse"] = (recon - images).square().mean().item()
        # Random codes: the VAE's prior; for the AE, the Gaussian that best fits its codes (it has no prior).
        noise = torch.randn(1000, codes.shape[1], generator=_seeded(seed)).to(codes.device)
        z = noise if name == "vae" else codes.mean(0) + codes.std(0) * noise
        with torch.no_grad():
            decoded = _resized(run.recipe.decode(z).cpu(), size)
        confidence = classifier(decoded).probabilities.max(1).values
        numbers[f"{name}_confident_decodes"] = (confidence > 0.9).float().mean().item()
        rows.append(decoded[:n])
    ordered = [rows[0], rows[1], rows[3], rows[2], rows[4]]  # images, AE recon, VAE recon, AE decodes, VAE samples
    save_png(render_samples(torch.cat(ordered), nrow=n), figure)
    numbers["rows"] = ["test images", "AE reconstructions", "VAE reconstructions", "AE random codes", "VAE samples"]
    return _numbers(figure, numbers)
