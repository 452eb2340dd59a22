"""The Inception-v3 network of the standard FID implementation, written in plain PyTorch (no torchvision).

FID and KID numbers are only comparable with published ones when they come from the same network with the same
weights: the TensorFlow ``inception-2015-12-05`` graph that the original FID code (TTUR) used, as ported to PyTorch by
pytorch-fid (``pt_inception-2015-12-05-6726825d.pth``). That port is torchvision's Inception-v3 with three changes
that reproduce the TF graph, kept here:

* the pool branches of the A, C and first E blocks average over real pixels only (``count_include_pad=False``);
* the pool branch of the last block (``Mixed_7c``) takes the maximum instead of the average;
* the classifier has 1008 outputs (the graph's 1000 ImageNet classes plus 8 unused ones); there is no aux head.

Module names and shapes follow torchvision's, so the weights file loads with ``load_state_dict(strict=True)``. genlab
never downloads it: the user supplies it (argument, ``eval.inception_weights`` or ``$GENLAB_INCEPTION_WEIGHTS``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from genlab.errors import ConfigError
from genlab.fileio import load_tensors

WEIGHTS_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth"
)
WEIGHTS_ENV = "GENLAB_INCEPTION_WEIGHTS"
INPUT_SIZE = 299
NUM_LOGITS = 1008
FEATURE_DIM = 2048

_HOW_TO_GET = (
    f"Download it from {WEIGHTS_URL} and point genlab at it with {WEIGHTS_ENV}=/path/to/file or the eval config field "
    "eval.inception_weights."
)


class _ConvBN(nn.Module):
    """Conv (no bias) -> BatchNorm (eps 1e-3, as the TF graph) -> ReLU; the attribute names match the weights file."""

    def __init__(self, cin: int, cout: int, kernel: int | tuple[int, int], stride: int = 1, padding: int | str = 0):
        super().__init__()
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        if padding == "same":  # odd kernels, stride 1: keep the spatial size
            padding = (kh // 2, kw // 2)
        self.conv = nn.Conv2d(cin, cout, (kh, kw), stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


class _Mixed(nn.Module):
    """An Inception block: named conv branches whose outputs are concatenated along the channels."""

    def _add(self, name: str, cin: int, cout: int, kernel: int | tuple[int, int], stride: int = 1) -> None:
        self.add_module(name, _ConvBN(cin, cout, kernel, stride, "same" if stride == 1 else 0))

    def _chain(self, x: torch.Tensor, *names: str) -> torch.Tensor:
        for name in names:
            x = getattr(self, name)(x)
        return x

    def _split(self, x: torch.Tensor, a: str, b: str) -> torch.Tensor:
        """The E blocks' fork: a 1x3 and a 3x1 conv on the same input, concatenated."""
        return torch.cat([getattr(self, a)(x), getattr(self, b)(x)], 1)


def _avg_pool(x: torch.Tensor) -> torch.Tensor:
    """3x3 average that ignores the zero padding, as TF's average pool does (torchvision's counts it)."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class _BlockA(_Mixed):  # Mixed_5b..5d, 35x35
    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self._add("branch1x1", cin, 64, 1)
        self._add("branch5x5_1", cin, 48, 1)
        self._add("branch5x5_2", 48, 64, 5)
        self._add("branch3x3dbl_1", cin, 64, 1)
        self._add("branch3x3dbl_2", 64, 96, 3)
        self._add("branch3x3dbl_3", 96, 96, 3)
        self._add("branch_pool", cin, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [
                self.branch1x1(x),
                self._chain(x, "branch5x5_1", "branch5x5_2"),
                self._chain(x, "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"),
                self.branch_pool(_avg_pool(x)),
            ],
            1,
        )


class _BlockB(_Mixed):  # Mixed_6a: 35x35 -> 17x17
    def __init__(self, cin: int):
        super().__init__()
        self._add("branch3x3", cin, 384, 3, stride=2)
        self._add("branch3x3dbl_1", cin, 64, 1)
        self._add("branch3x3dbl_2", 64, 96, 3)
        self._add("branch3x3dbl_3", 96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        deep = self._chain(x, "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3")
        return torch.cat([self.branch3x3(x), deep, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class _BlockC(_Mixed):  # Mixed_6b..6e, 17x17, factorised 7x7 convs
    def __init__(self, cin: int, c7: int):
        super().__init__()
        self._add("branch1x1", cin, 192, 1)
        self._add("branch7x7_1", cin, c7, 1)
        self._add("branch7x7_2", c7, c7, (1, 7))
        self._add("branch7x7_3", c7, 192, (7, 1))
        self._add("branch7x7dbl_1", cin, c7, 1)
        self._add("branch7x7dbl_2", c7, c7, (7, 1))
        self._add("branch7x7dbl_3", c7, c7, (1, 7))
        self._add("branch7x7dbl_4", c7, c7, (7, 1))
        self._add("branch7x7dbl_5", c7, 192, (1, 7))
        self._add("branch_pool", cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dbl = [f"branch7x7dbl_{i}" for i in range(1, 6)]
        return torch.cat(
            [
                self.branch1x1(x),
                self._chain(x, "branch7x7_1", "branch7x7_2", "branch7x7_3"),
                self._chain(x, *dbl),
                self.branch_pool(_avg_pool(x)),
            ],
            1,
        )


class _BlockD(_Mixed):  # Mixed_7a: 17x17 -> 8x8
    def __init__(self, cin: int):
        super().__init__()
        self._add("branch3x3_1", cin, 192, 1)
        self._add("branch3x3_2", 192, 320, 3, stride=2)
        self._add("branch7x7x3_1", cin, 192, 1)
        self._add("branch7x7x3_2", 192, 192, (1, 7))
        self._add("branch7x7x3_3", 192, 192, (7, 1))
        self._add("branch7x7x3_4", 192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [
                self._chain(x, "branch3x3_1", "branch3x3_2"),
                self._chain(x, "branch7x7x3_1", "branch7x7x3_2", "branch7x7x3_3", "branch7x7x3_4"),
                F.max_pool2d(x, kernel_size=3, stride=2),
            ],
            1,
        )


class _BlockE(_Mixed):  # Mixed_7b (average pool branch) and Mixed_7c (max pool branch, as in the TF graph), 8x8
    def __init__(self, cin: int, max_pool: bool):
        super().__init__()
        self.max_pool = max_pool
        self._add("branch1x1", cin, 320, 1)
        self._add("branch3x3_1", cin, 384, 1)
        self._add("branch3x3_2a", 384, 384, (1, 3))
        self._add("branch3x3_2b", 384, 384, (3, 1))
        self._add("branch3x3dbl_1", cin, 448, 1)
        self._add("branch3x3dbl_2", 448, 384, 3)
        self._add("branch3x3dbl_3a", 384, 384, (1, 3))
        self._add("branch3x3dbl_3b", 384, 384, (3, 1))
        self._add("branch_pool", cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.max_pool else _avg_pool(x)
        return torch.cat(
            [
                self.branch1x1(x),
                self._split(self.branch3x3_1(x), "branch3x3_2a", "branch3x3_2b"),
                self._split(self._chain(x, "branch3x3dbl_1", "branch3x3dbl_2"), "branch3x3dbl_3a", "branch3x3dbl_3b"),
                self.branch_pool(pooled),
            ],
            1,
        )


class FIDInceptionV3(nn.Module):
    """pytorch-fid's FID Inception-v3: images in [-1, 1] -> (2048-d pool features, 1008 logits).

    A fresh instance has random (Kaiming) weights, enough for tests; use :func:`load_inception` for the real ones.
    """

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = _ConvBN(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = _ConvBN(32, 32, 3)
        self.Conv2d_2b_3x3 = _ConvBN(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = _ConvBN(64, 80, 1)
        self.Conv2d_4a_3x3 = _ConvBN(80, 192, 3)
        self.Mixed_5b = _BlockA(192, pool_features=32)
        self.Mixed_5c = _BlockA(256, pool_features=64)
        self.Mixed_5d = _BlockA(288, pool_features=64)
        self.Mixed_6a = _BlockB(288)
        self.Mixed_6b = _BlockC(768, c7=128)
        self.Mixed_6c = _BlockC(768, c7=160)
        self.Mixed_6d = _BlockC(768, c7=160)
        self.Mixed_6e = _BlockC(768, c7=192)
        self.Mixed_7a = _BlockD(768)
        self.Mixed_7b = _BlockE(1280, max_pool=False)
        self.Mixed_7c = _BlockE(2048, max_pool=True)
        self.fc = nn.Linear(FEATURE_DIM, NUM_LOGITS)
        for module in self.modules():  # variance-preserving, so random-weight features neither vanish nor explode
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")

    def _prepare(self, images: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Validate, repeat grey to RGB and resize to 299x299 bilinearly (align_corners=False, as pytorch-fid)."""
        x = torch.as_tensor(images)
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"images must have shape (N, 1 or 3, H, W), got {tuple(x.shape)}")
        if not x.is_floating_point():
            raise ValueError(f"images must be floats in [-1, 1], got dtype {x.dtype}; convert with x / 127.5 - 1")
        x = x.to(self.fc.weight.device, self.fc.weight.dtype)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)

    def forward(self, images: torch.Tensor | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(pool features (N, 2048), logits (N, 1008)) of images in [-1, 1] with shape (N, 1 or 3, H, W).

        The features are the global average pool of ``Mixed_7c`` (pytorch-fid's block 3, TF's ``pool_3``), the
        input of FID and KID. The logits are ``features @ fc.weight.T`` *without* ``fc.bias``, over all 1008
        outputs: that is what the original Inception Score code computes (openai/improved-gan takes the graph's
        ``softmax/logits/MatMul`` weights and applies no bias), and what torch-fidelity and torchmetrics reproduce
        as ``logits_unbiased``. Dropping the 8 extra classes or adding the bias (torchvision-based IS ports) gives
        slightly different, not comparable scores. ``fc.bias`` is kept only so the weights file loads strictly.
        """
        x = self._prepare(images)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        pool = x.mean(dim=(2, 3))
        return pool, pool @ self.fc.weight.T

    def features(self, images: torch.Tensor | np.ndarray) -> torch.Tensor:
        """The 2048-d pool features FID and KID use (N, 2048). Nothing is cached on the module, so under
        ``torch.no_grad()`` no graph is kept; batching is the caller's business (memory grows with N)."""
        return self(images)[0]

    def probabilities(self, images: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Softmax over all 1008 bias-free logits (N, 1008): the class distribution the Inception Score uses, in the
        TF graph's class order (see :meth:`forward` for why all 1008 and no bias)."""
        return self(images)[1].softmax(dim=1)


def load_inception(path: str | os.PathLike | None = None) -> FIDInceptionV3:
    """The FID Inception-v3 with the weights file at ``path`` (default ``$GENLAB_INCEPTION_WEIGHTS``), in eval mode
    with gradients off. Every failure raises :class:`ConfigError` saying how to fix it."""
    if path is None or str(path) == "":
        path = os.environ.get(WEIGHTS_ENV) or None
    if path is None:
        raise ConfigError(
            f"the Inception-v3 FID weights file (pt_inception-2015-12-05-6726825d.pth) is needed. {_HOW_TO_GET}"
        )
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"Inception weights file {file} does not exist. {_HOW_TO_GET}")
    state = load_tensors(file, "Inception weights file", f"It is probably incomplete. {_HOW_TO_GET}", ConfigError)
    with torch.random.fork_rng(devices=[]):  # initial weights are overwritten: leave training's RNG alone
        model = FIDInceptionV3()
    expected = model.state_dict()
    _check_layout(state, expected, file)
    counters = {k: v for k, v in expected.items() if k.endswith("num_batches_tracked")}  # absent in TF conversions
    model.load_state_dict({**counters, **state}, strict=True)
    model.eval()
    model.requires_grad_(False)
    return model


def _check_layout(state: object, expected: dict[str, torch.Tensor], file: Path) -> None:
    """Compare the file's state_dict with the network's; name the first few differences."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConfigError(
            f"{file} does not hold a state_dict of tensors, so it is not the FID Inception file. {_HOW_TO_GET}"
        )
    missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k} {tuple(state[k].shape)} (want {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    problems = [
        f"{label} ({len(keys)}): {', '.join(keys[:4])}{', ...' if len(keys) > 4 else ''}"
        for label, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", shapes))
        if keys
    ]
    if problems:
        raise ConfigError(
            f"{file} does not match the FID Inception-v3 layout: {'; '.join(problems)}. It must be pytorch-fid's "
            f"pt_inception-2015-12-05-6726825d.pth (torchvision's Inception weights do not fit). {_HOW_TO_GET}"
        )
