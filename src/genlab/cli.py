"""The ``genlab`` command line: a thin layer over :mod:`genlab.api`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from genlab.errors import GenlabError, TrainingInterrupted
from genlab.fileio import WRITE_FAULTS

if TYPE_CHECKING:
    from genlab.latent.explore import LatentFigure

MAIN_EXAMPLES = """examples:
  genlab demo                                   train a DCGAN on the bundled digits (about a minute on CPU)
  genlab train dcgan-mnist --set train.steps=5000
  genlab train --resume runs/dcgan-mnist-20261123-101500
  genlab sample runs/dcgan-mnist-20261123-101500 --n 64 --out grid.png
  genlab eval runs/dcgan-mnist-20261123-101500 --metrics fid,kid,pr
  genlab interpolate runs/dcgan-mnist-20261123-101500 --mode slerp   also: arithmetic, edit, direction
  genlab lab critic-field --out lab/              a toy-lab experiment of the lecture notes (genlab lab --list)
  genlab config dcgan-digits --set model.z_dim=64   print the resolved config
"""

TRAIN_EXAMPLES = """examples:
  genlab train dcgan-digits                     a ready config by name (genlab config --list)
  genlab train my.yaml --set train.steps=500 --set model.d_optim.lr=1e-4 --out runs/try1
  genlab train --resume runs/try1               continue exactly where it stopped
  genlab train --resume runs/try1 --set train.steps=4000   train longer

Ctrl-C (or SIGTERM) saves a checkpoint and exits; --resume continues from it.
"""

SAMPLE_EXAMPLES = """examples:
  genlab sample runs/try1 --n 64 --out grid.png --seed 3
  genlab sample runs/try1/checkpoints/ckpt-00002000.pt --out early.png
  genlab sample runs/try1 --n 10000 --out fakes.npz  an array file (or --out fakes/: numbered PNGs) for:
  genlab eval --real mnist --fake fakes.npz
  genlab sample runs/try1 --truncation 0.7          every latent component within +-0.7 (quality over diversity)
  genlab sample runs/cgan --class 7                 a conditional generator's sevens
  genlab sample exported/dcgan --n 16 --out grid.png  a generator (or VAE) genlab export wrote
"""

EXPORT_EXAMPLES = """examples:
  genlab export runs/try1 --out exported/dcgan      model.safetensors, config.json, model.onnx, model.pt, README.md
  genlab export runs/try1 --out onnx-only --format onnx --no-ema    the trained G itself, not its EMA copy
  genlab export runs/try1 --out exported/dcgan --push me/dcgan-mnist  and upload it (pip install huggingface_hub)
  genlab export runs/vae --out exported/vae         encoder.onnx, decoder.onnx (.pt): also autoencoders, CycleGAN
"""

LATENT_EXAMPLES = """examples:
  genlab interpolate runs/try1 --steps 10 --mode slerp --out interp.png
  genlab interpolate runs/try1 --points 4 --rows 2  walks through 4 random latents
  genlab arithmetic runs/try1 --a class=7,ink=high --b class=7,ink=low --c class=1,ink=low
  genlab edit runs/try1 --to-class 8                move z along the classifier's gradient until it sees an 8
  genlab direction runs/try1 --positive ink=high --negative ink=low
  genlab embed runs/vae --method tsne               autoencoder/VAE codes of test images in 2-D, by label
  genlab traverse runs/vae --dims 0,1,2 --span 3    one coordinate varied per row
  genlab ae-vs-vae runs/ae runs/vae --out ae-vs-vae.png

Figures go to RUN_DIR/latent/ (or --out), numbers beside them as JSON. Queries: class=K, ink=high|low,
slant=high|low (top or bottom quarter), comma-separated; classes and attributes come from the data set's classifier.
"""

DEMO_EXAMPLES = """examples:
  genlab demo
  genlab demo --out runs/my-demo --set train.steps=500
"""

EVAL_EXAMPLES = """examples:
  genlab eval runs/try1                                      the run's eval settings (FID, KID, precision/recall)
  genlab eval runs/try1 --metrics fid,kid,is,pr,dc --n 10000
  genlab eval runs/try1 --features inception                 needs GENLAB_INCEPTION_WEIGHTS (see the docs)
  genlab eval --real mnist --fake generated.npz --metrics fid,pr
  genlab eval --real path/to/real_images --fake path/to/fakes --features inception --out eval.json

Feature spaces: auto (the data set's shipped classifier: digits, mnist), inception, raw, or a classifier file.
Results go to RUN_DIR/eval.json (or --out) with their provenance; real features are cached in ~/.cache/genlab.
"""

LIKELIHOOD_EXAMPLES = """examples:
  genlab likelihood runs/vae                    test -log p(x) with k = 5000 importance samples (the published protocol)
  genlab likelihood runs/vae --k 50 --n 1000    a quick estimate

The test set is binarised once (seed --seed) for runs trained with dynamic binarisation. Results, with the ELBO,
the KL per latent dimension and the active units, go to RUN_DIR/likelihood.json.
"""

TRANSLATE_EXAMPLES = """examples:
  genlab translate runs/cyclegan --input my_digits/ --out translated/        domain A -> B with G
  genlab translate runs/cyclegan --input styled/ --out back/ --direction b2a  domain B -> A with F
  genlab translate runs/pix2pix --input outlines/ --out digits/              pix2pix: inputs -> targets

Every image under --input (sub-folders too) is loaded at the run's size and written as a PNG of the same
relative name under --out.
"""

FINETUNE_EXAMPLES = """examples:
  genlab train autoencoder-mnist --out runs/ae          pre-train on all MNIST images, no labels
  genlab pretrain-finetune runs/ae                      N = 10 and 100 labelled images per class, seeds 0, 1, 2
  genlab pretrain-finetune runs/ae --n 10 --seeds 0 --steps 500

Each row trains encoder + linear head from the autoencoder's encoder and from scratch on the same labelled images;
test accuracies (means and stds per N) go to RUN_DIR/pretrain-finetune.json.
"""

CLASSIFIER_EXAMPLES = """examples:
  genlab classifier train --data mnist                       reproduces the shipped MNIST classifier
  genlab classifier train --data digits --out digits.pt
  genlab classifier train --data folder --set data.path=my_images --set data.size=64 --out mine.pt
"""

STUDY_EXAMPLES = """examples:
  genlab study run modes-2d --out studies/modes --jobs 2     a ready study (configs/studies/), 2 trials at a time
  genlab study run my-study.yaml --out studies/mine          run it again to continue where it stopped
  genlab report studies/mine/trials/ns-3f9c2a1b07            every trial is an ordinary run folder
  genlab study run my-study.yaml --out studies/mine --backend ray --address ray://head:10001   on a Ray cluster
  genlab study report studies/mine                           studies/mine/study.html (run writes it too)

Each finished trial is a row of DIR/trials.jsonl (genlab.study.load(DIR) reads it as a pandas DataFrame).
"""

LAB_EXAMPLES = """examples:
  genlab lab --list
  genlab lab optimal-d --out lab/           D trained with G frozen against D* = p_data / (p_data + p_g)
  genlab lab divergences --out lab/         KL, JS and W1 of two parallel segments against their distance
  genlab lab critic-field --out lab/        saturated discriminator vs WGAN-GP critic: gradients at the fakes
  genlab lab mode-collapse --out lab/       8-Gaussian ring over training, standard GAN vs a fix
  genlab lab gan-1d --out lab/              the classic 1-D GAN as an animated GIF

Each writes PNG (and GIF) files plus NAME.json with its numbers, in under a minute on 2 CPU cores.
"""

REPORT_EXAMPLES = """examples:
  genlab report runs/try1                       RUN_DIR/report.html (genlab train writes it at the end anyway)
  genlab compare runs/hinge runs/wgan-gp runs/nonsaturating --out compare.html

Both pages are single self-contained HTML files: pictures inlined, no network needed to open them.
"""

JUDGE_EXAMPLES = """examples:
  genlab judge runs/try1 --n 50 --out judge.html       50 real and 50 generated images, shuffled, one at a time
  genlab judge --score judge-answers.json             the downloaded answers: accuracy, interval, rates, time

The page is one self-contained HTML file (open it offline, mail it); its answers download as JSON at the end.
"""

CONFIG_EXAMPLES = """examples:
  genlab config --list
  genlab config dcgan-mnist --set train.batch_size=128 > mine.yaml
"""


def _train(args: argparse.Namespace) -> None:
    from genlab import api
    from genlab.train.distributed import world_from_env

    if args.resume:
        if args.config:
            raise GenlabError("give either a CONFIG or --resume RUN_DIR, not both")
        result = api.resume(args.resume, args.set)
    elif args.config:
        result = api.fit(args.config, args.set, out=args.out)
    else:
        raise GenlabError("give a CONFIG to train (e.g. dcgan-digits) or --resume RUN_DIR")
    if world_from_env().main:  # under torchrun, one summary for the run
        print(f"trained to step {result.step} in {result.elapsed:.0f} s; run folder: {result.run_dir}")


def _sample(args: argparse.Namespace) -> None:
    from genlab import api

    api.sample(
        args.run,
        args.n,
        seed=args.seed,
        label=args.label,
        truncation=args.truncation,
        truncation_mode=args.truncation_mode,
        out=args.out,
        device=args.device,
    )
    print(f"wrote {args.n} samples to {args.out}")


def _latent(args: argparse.Namespace) -> None:
    """interpolate, arithmetic, edit, direction: every option's dest is the API function's keyword."""
    from genlab import api

    options = {k: v for k, v in vars(args).items() if k not in ("command", "handler", "run")}
    _print_figure(getattr(api, args.command)(args.run, **options))


def _ae_vs_vae(args: argparse.Namespace) -> None:
    from genlab import api

    _print_figure(api.ae_vs_vae(args.ae_run, args.vae_run, n=args.n, seed=args.seed, device=args.device, out=args.out))


def _ints(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got '{text}'") from None


def _floats(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got '{text}'") from None


def _print_figure(figure: LatentFigure) -> None:
    """The figure's numbers and files; a command that failed at its task (all edits missed) then exits with an error."""
    shown = {k: v for k, v in figure.numbers.items() if not isinstance(v, (list, dict))}
    print("\n".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}" for k, v in shown.items()))
    print(f"wrote {figure.path} and {figure.path.with_suffix('.json')}")
    if figure.failure:
        raise GenlabError(figure.failure)


def _export(args: argparse.Namespace) -> None:
    from genlab.export import export_generator

    result = export_generator(args.run, args.out, args.format, ema=args.ema, push=args.push)
    print(f"wrote {', '.join(p.name for p in result.files)} to {result.folder}")
    if args.push:
        print(f"uploaded {result.folder} to https://huggingface.co/{args.push}")


def _report_command(args: argparse.Namespace) -> None:
    from genlab import api

    print(f"wrote {api.report(args.run, args.out)}")


def _compare(args: argparse.Namespace) -> None:
    from genlab import api

    print(f"wrote {api.compare(args.runs, args.out)}")


def _judge(args: argparse.Namespace) -> None:
    from genlab import api

    if args.score:
        if args.run:
            raise GenlabError("give either RUN_DIR (write a page) or --score ANSWERS.json (score one), not both")
        print("\n".join(api.judge_score(args.score).summary()))
    elif args.run:
        print(f"wrote {api.judge(args.run, args.n, out=args.out, seed=args.seed, device=args.device)}")
    else:
        raise GenlabError("give a RUN_DIR to write a judge page for, or --score ANSWERS.json")


def _eval(args: argparse.Namespace) -> None:
    from genlab import api

    metrics = args.metrics.split(",") if args.metrics else None
    if args.run:
        if args.real or args.fake:
            raise GenlabError("give either RUN_DIR or --real and --fake, not both")
        result = api.evaluate(args.run, metrics, args.n, features=args.features, device=args.device, out=args.out)
    elif args.real and args.fake:
        result = api.evaluate_images(
            args.real,
            args.fake,
            metrics or ("fid", "kid", "pr"),
            features=args.features or "auto",
            n=args.n,
            size=args.size,
            device=args.device,
            out=args.out or "eval.json",
        )
    else:
        raise GenlabError("give a RUN_DIR to evaluate, or both --real and --fake")
    print(result.table())


def _likelihood(args: argparse.Namespace) -> None:
    from genlab import api

    result = api.likelihood(args.run, args.k, args.n, seed=args.seed, device=args.device, out=args.out)
    print(
        f"test -log p(x) = {result['nll']:.2f} +- {result['nll_standard_error']:.2f} nats (k = {result['k']}, "
        f"{result['n']} images); ELBO {result['elbo']:.2f}; active units {result['active_units']}"
    )


def _translate(args: argparse.Namespace) -> None:
    from genlab import api

    written = api.translate(args.run, args.input, args.out, direction=args.direction, device=args.device)
    print(f"translated {len(written)} image(s) ({args.direction}) into {args.out}")


def _pretrain_finetune(args: argparse.Namespace) -> None:
    from genlab import api

    result = api.pretrain_finetune(args.run, args.n, args.seeds, steps=args.steps, device=args.device, out=args.out)
    print("| labels per class | pre-trained encoder | from scratch |")
    print("|---|---|---|")
    for n in args.n:
        cells = [result["summary"][f"{kind}/{n}"] for kind in ("pretrained", "scratch")]
        print(f"| {n} | " + " | ".join(f"{100 * c['mean']:.1f} % +- {100 * c['std']:.1f}" for c in cells) + " |")


def _classifier(args: argparse.Namespace) -> None:
    from genlab import api

    result = api.train_classifier(args.data, args.set, out=args.out)
    print(f"test accuracy {result.test_accuracy:.4%}; weights: {result.weights}; run folder: {result.run_dir}")


def _study(args: argparse.Namespace) -> None:
    from genlab import study

    if args.action == "report":
        print(f"wrote {study.report(args.study, args.out)}")
        return
    if args.out is None:
        raise GenlabError("genlab study run: give --out DIR (the study folder: trials/, trials.jsonl)")
    rows = study.run(args.study, args.out, backend=args.backend, jobs=args.jobs, address=args.address)
    counts = {status: sum(row["status"] == status for row in rows) for status in ("done", "failed")}
    index = Path(args.out) / "trials.jsonl"
    print(f"{len(rows)} trials ({counts['done']} done, {counts['failed']} failed); index: {index}")
    for row in rows:
        if row["status"] == "failed":
            print(f"  failed {row['id']}: {row['error']}")
    print(f"study page: {Path(args.out) / 'study.html'}")


def _lab(args: argparse.Namespace) -> None:
    from genlab.lab import LABS, run_lab

    if args.list or not args.name:
        print("\n".join(LABS.names()))
        return
    result = run_lab(args.name, args.out, args.seed)
    shown = {k: v for k, v in result.numbers.items() if not isinstance(v, (list, dict))}
    print("\n".join(f"{k}: {v}" for k, v in shown.items()))
    print("wrote " + ", ".join(str(f) for f in result.files))


def _demo(args: argparse.Namespace) -> None:
    from genlab import api

    demo = api.demo(args.out, args.set)
    print(
        f"demo trained {demo.result.step} steps in {demo.result.elapsed:.0f} s\n"
        f"  samples: {demo.samples}\n  curves:  {demo.curves}\n  run:     {demo.run_dir}"
    )


def _config(args: argparse.Namespace) -> None:
    from genlab.config import dump_config, load_config, presets

    if args.list or not args.config:
        print("\n".join(presets()))
        return
    print(dump_config(load_config(args.config, args.set)), end="")


def _parser() -> argparse.ArgumentParser:
    from genlab import __version__

    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="genlab",
        description="Train, evaluate and explore generative image models.",
        epilog=MAIN_EXAMPLES,
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"genlab {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, handler: Callable, help: str, examples: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, epilog=examples, formatter_class=formatter)
        sub.set_defaults(handler=handler)
        return sub

    def overrides(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a config value, e.g. train.steps=500 (repeatable)",
        )

    train = command("train", _train, "train a model from a config, or resume a run", TRAIN_EXAMPLES)
    train.add_argument("config", nargs="?", help="YAML file or ready config name (see `genlab config --list`)")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue this run from its latest checkpoint")
    train.add_argument("--out", metavar="DIR", help="run folder (default: runs/NAME-TIMESTAMP)")
    overrides(train)

    sample = command("sample", _sample, "write samples of a trained run (a picture, .npz or PNGs)", SAMPLE_EXAMPLES)
    sample.add_argument("run", metavar="RUN_DIR", help="run folder, checkpoint file or exported folder")
    sample.add_argument("--n", type=int, default=64, help="number of images (default 64)")
    sample.add_argument(
        "--out",
        default="samples.png",
        help="X.png: a picture of them (default samples.png); X.npz: an array file; DIR/: numbered PNGs",
    )
    sample.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
    sample.add_argument("--class", dest="label", type=int, help="class to draw (conditional generators)")
    sample.add_argument(
        "--truncation",
        type=float,
        metavar="PSI",
        help="keep latent components within +-PSI (a style generator: w moved towards its mean, 0 = the mean image)",
    )
    sample.add_argument("--truncation-mode", default="resample", choices=["resample", "clamp"])
    sample.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])

    def latent_command(name: str, help: str) -> argparse.ArgumentParser:
        sub = command(name, _latent, help, LATENT_EXAMPLES)
        sub.add_argument("run", metavar="RUN_DIR", help="run folder, checkpoint file or exported folder")
        sub.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
        sub.add_argument("--out", help="PNG file to write (default: RUN_DIR/latent/NAME.png, or EXPORT_DIR/latent/)")
        sub.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
        return sub

    def classified(sub: argparse.ArgumentParser, n: int) -> None:
        sub.add_argument("--n", type=int, default=n, help=f"latent samples to draw (default {n})")
        sub.add_argument("--classifier", help="classifier file or shipped name (default: the data set's)")

    interp = latent_command("interpolate", "walk the latent space between random points")
    interp.add_argument("--steps", type=int, default=10, help="images per leg, end points included (default 10)")
    interp.add_argument("--mode", default="slerp", choices=["slerp", "lerp"], help="great circle or straight line")
    interp.add_argument("--rows", type=int, default=4, help="walks, one per row (default 4)")
    interp.add_argument("--points", type=int, default=2, help="random latents per walk (default 2)")
    interp.add_argument("--class", dest="label", type=int, help="class to keep along the walk (conditional)")
    interp.add_argument("--images", nargs=2, metavar="IMAGE", help="walk between two real images (AE/VAE runs)")

    arith = latent_command("arithmetic", "latent vector arithmetic: mean(a) - mean(b) + mean(c)")
    for group in ("a", "b", "c"):
        arith.add_argument(f"--{group}", required=True, metavar="QUERY", help="group query, e.g. class=7,ink=high")
    arith.add_argument(
        "--rescale", action="store_true", help="bring the result back to the latents' typical norm before decoding"
    )
    classified(arith, 2000)

    edit = latent_command("edit", "steer samples to a class by the classifier's gradient on z")
    edit.add_argument("--to-class", type=int, required=True, help="target class")
    edit.add_argument("--lr", type=float, default=0.5, help="step length in z (default 0.5)")
    edit.add_argument(
        "--plain-gradient", dest="normalize", action="store_false", help="step lr times the gradient, not lr along it"
    )
    edit.add_argument("--p", type=float, default=0.9, help="stop once the target's probability reaches p (0.9)")
    edit.add_argument("--max-steps", type=int, default=200, help="step budget (default 200)")
    classified(edit, 64)

    direct = latent_command("direction", "a latent direction from labelled samples, and its entanglement")
    direct.add_argument("--positive", required=True, metavar="QUERY", help="samples with the attribute, e.g. ink=high")
    direct.add_argument("--negative", metavar="QUERY", help="samples without it (default: all others)")
    direct.add_argument("--method", default="mean", choices=["mean", "linear"], help="mean difference or a linear fit")
    direct.add_argument(
        "--strengths", type=_floats, default=[-3, -2, -1, 0, 1, 2, 3], help="comma-separated moves along the direction"
    )
    classified(direct, 2000)

    emb = latent_command("embed", "plot the codes of test images in 2-D (autoencoder and VAE runs)")
    emb.add_argument("--method", default="auto", choices=["auto", "pca", "tsne"], help="auto: 2-D as-is, else PCA")
    emb.add_argument("--n", type=int, default=2000, help="test images (default 2000)")

    trav = latent_command("traverse", "vary one latent coordinate per row (autoencoder and VAE runs)")
    trav.add_argument("--dims", type=_ints, help="comma-separated coordinates (default: the 8 that vary most)")
    trav.add_argument("--span", type=float, default=3.0, help="move +-SPAN times the coordinate's spread (3)")
    trav.add_argument("--steps", type=int, default=9, help="images per row (default 9)")

    versus = command("ae-vs-vae", _ae_vs_vae, "compare an autoencoder and a VAE run in one figure", LATENT_EXAMPLES)
    versus.add_argument("ae_run", metavar="AE_RUN", help="autoencoder run folder")
    versus.add_argument("vae_run", metavar="VAE_RUN", help="VAE run folder")
    versus.add_argument("--n", type=int, default=8, help="images per row (default 8)")
    versus.add_argument("--seed", type=int, default=0, help="seed of the random codes (default 0)")
    versus.add_argument("--out", default="ae-vs-vae.png", help="PNG file to write (default ae-vs-vae.png)")
    versus.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])

    evaluate = command("eval", _eval, "evaluate a run's generator or any two image sets", EVAL_EXAMPLES)
    evaluate.add_argument("run", nargs="?", metavar="RUN_DIR", help="run folder or checkpoint file")
    evaluate.add_argument(
        "--metrics", help="comma-separated: fid, kid, is, pr, dc, modes, mem, probe (default: the run's)"
    )
    evaluate.add_argument("--n", type=int, help="generated samples (default: the run's eval.n, 10000)")
    evaluate.add_argument("--features", help="auto, inception, raw, a shipped classifier name or a classifier file")
    evaluate.add_argument("--real", metavar="DATASET_OR_FOLDER", help="real images: data set name, folder or .npz")
    evaluate.add_argument("--fake", metavar="FOLDER_OR_NPZ", help="generated images: folder or .npz")
    evaluate.add_argument("--size", type=int, help="with --real/--fake: side the images are loaded at")
    evaluate.add_argument("--out", help="JSON file to write (default: RUN_DIR/eval.json, or ./eval.json)")
    evaluate.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])

    nll = command("likelihood", _likelihood, "test-set -log p(x) of a VAE run, in nats", LIKELIHOOD_EXAMPLES)
    nll.add_argument("run", metavar="RUN_DIR", help="VAE run folder or checkpoint file")
    nll.add_argument("--k", type=int, default=5000, help="importance samples per image (default 5000)")
    nll.add_argument("--n", type=int, help="test images (default: all)")
    nll.add_argument("--seed", type=int, default=0, help="seed of the test binarisation and of z (default 0)")
    nll.add_argument("--out", help="JSON file to write (default: RUN_DIR/likelihood.json)")
    nll.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])

    move = command("translate", _translate, "translate your images with a CycleGAN or pix2pix run", TRANSLATE_EXAMPLES)
    move.add_argument(
        "run", metavar="RUN_DIR", help="CycleGAN or pix2pix run folder, checkpoint file or exported folder"
    )
    move.add_argument("--input", required=True, metavar="FOLDER", help="folder of images of the source domain")
    move.add_argument("--out", required=True, metavar="DIR", help="folder to write the translations to")
    move.add_argument("--direction", default="a2b", choices=["a2b", "b2a"], help="a2b: G (default); b2a: F")
    move.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])

    tune = command(
        "pretrain-finetune", _pretrain_finetune, "few-label accuracy with an autoencoder's encoder", FINETUNE_EXAMPLES
    )
    tune.add_argument("run", metavar="AE_RUN", help="autoencoder run folder (trained without labels)")
    tune.add_argument("--n", type=_ints, default=[10, 100], help="labelled images per class (default 10,100)")
    tune.add_argument("--seeds", type=_ints, default=[0, 1, 2], help="seeds of the labelled subsets (default 0,1,2)")
    tune.add_argument("--steps", type=int, default=300, help="fine-tuning steps (default 300)")
    tune.add_argument("--out", help="JSON file to write (default: RUN_DIR/pretrain-finetune.json)")
    tune.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])

    classifier = command("classifier", _classifier, "train a domain classifier for the metrics", CLASSIFIER_EXAMPLES)
    classifier.add_argument("action", choices=["train"], help="what to do (train)")
    classifier.add_argument("--data", default="mnist", help="data set to train on (default mnist)")
    classifier.add_argument("--out", help="weights file to write (default: RUN_DIR/classifier.pt)")
    overrides(classifier)

    study = command(
        "study", _study, "run a study (models x settings x seeds, each a run) or write its page", STUDY_EXAMPLES
    )
    study.add_argument(
        "action", choices=["run", "report"], help="run: start or continue the study; report: write its page again"
    )
    study.add_argument(
        "study", metavar="STUDY", help="run: a study file or a ready study's name (configs/studies/); report: DIR"
    )
    study.add_argument(
        "--out", metavar="DIR", help="run: the study folder (trials/, trials.jsonl); report: the page (DIR/study.html)"
    )
    study.add_argument(
        "--backend",
        default="local",
        choices=["local", "ray"],
        help="where the trials run (default local; ray: Ray Tune)",
    )
    study.add_argument("--jobs", type=int, help="trials at a time (default: the cores over resources.cpus)")
    study.add_argument(
        "--address", metavar="ADDR", help="--backend ray: the Ray cluster to run on (default: RAY_ADDRESS, else here)"
    )

    lab = command("lab", _lab, "run a toy-lab experiment from the lecture notes", LAB_EXAMPLES)
    lab.add_argument("name", nargs="?", metavar="NAME", help="experiment (see --list)")
    lab.add_argument("--out", default="lab", help="folder for its pictures and NAME.json (default lab/)")
    lab.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    lab.add_argument("--list", action="store_true", help="list the experiments")

    export = command(
        "export",
        _export,
        "take a trained model out (GAN, autoencoder, VAE, CycleGAN): safetensors, ONNX, TorchScript",
        EXPORT_EXAMPLES,
    )
    export.add_argument("run", metavar="RUN_DIR", help="run folder or checkpoint file")
    export.add_argument("--out", required=True, metavar="DIR", help="folder to write (new, empty or an earlier export)")
    export.add_argument(
        "--format",
        type=lambda text: [f.strip() for f in text.split(",") if f.strip()],
        default=["safetensors", "onnx", "torchscript"],
        help="comma-separated: safetensors, onnx, torchscript (default all three)",
    )
    export.add_argument(
        "--ema", action=argparse.BooleanOptionalAction, default=True, help="the EMA copy of G where the run kept one"
    )
    export.add_argument("--push", metavar="REPO_ID", help="upload the folder to this Hugging Face model repo")

    report = command("report", _report_command, "write a run's self-contained HTML report", REPORT_EXAMPLES)
    report.add_argument("run", metavar="RUN_DIR", help="run folder")
    report.add_argument("--out", help="HTML file (default: RUN_DIR/report.html)")

    compare = command("compare", _compare, "compare runs side by side on one HTML page", REPORT_EXAMPLES)
    compare.add_argument("runs", nargs="+", metavar="RUN_DIR", help="two or more run folders")
    compare.add_argument("--out", default="compare.html", help="HTML file (default compare.html)")

    judge = command("judge", _judge, "a 'real or fake?' page for a person, and its score", JUDGE_EXAMPLES)
    judge.add_argument("run", nargs="?", metavar="RUN_DIR", help="run folder of a trained generator")
    judge.add_argument("--n", type=int, default=50, help="real images, and as many generated ones (default 50)")
    judge.add_argument("--out", default="judge.html", help="HTML file to write (default judge.html)")
    judge.add_argument("--seed", type=int, default=0, help="seed of the order and of the latents (default 0)")
    judge.add_argument("--score", metavar="ANSWERS", help="score the answers JSON that a judge page offered")
    judge.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])

    demo = command("demo", _demo, "train a DCGAN on the bundled digits and show where the pictures are", DEMO_EXAMPLES)
    demo.add_argument("--out", metavar="DIR", help="run folder (default: runs/demo-TIMESTAMP)")
    overrides(demo)

    config = command("config", _config, "list ready configs or print a resolved config", CONFIG_EXAMPLES)
    config.add_argument("config", nargs="?", help="YAML file or ready config name")
    config.add_argument("--list", action="store_true", help="list the ready configs")
    overrides(config)
    return parser


PATH_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError, PermissionError)


def _file_problem(error: OSError, args: argparse.Namespace) -> str | None:
    """A one-line message for an OSError the user's machine caused (a full disk, a read-only or forbidden folder)
    or one about a path the user gave; None for any other, which is a bug in genlab and keeps its traceback."""
    where = error.filename or "a file"
    if error.errno in WRITE_FAULTS:
        what, fix = WRITE_FAULTS[error.errno]
        return f"{where}: {what}; {fix}"
    if isinstance(error, PATH_ERRORS) and error.filename is not None and _given(Path(error.filename), args):
        return f"{where}: {error.strerror}; check the paths you gave"
    return None


def _given(path: Path, args: argparse.Namespace) -> bool:
    """Whether ``path`` is a path of the command line, lies inside one, or is a folder one lies in."""
    path = Path(os.path.abspath(path))
    values = [v for value in vars(args).values() for v in (value if isinstance(value, list) else [value])]
    given = [Path(os.path.abspath(v)) for v in values if isinstance(v, str) and v]
    return any(path == p or p in path.parents or path in p.parents for p in given)


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        sys.exit(2)
    try:
        args.handler(args)
    except TrainingInterrupted as stop:
        print(stop, file=sys.stderr)
        sys.exit(128 + stop.signum)
    except GenlabError as error:
        print(f"genlab: error: {error}", file=sys.stderr)
        sys.exit(1)
    except OSError as error:
        message = _file_problem(error, args)
        if message is None:
            raise
        print(f"genlab: error: {message}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("genlab: aborted", file=sys.stderr)
        sys.exit(130)
