"""A human judge: a self-contained page that asks a person "real or fake?" image by image, and its scoring.

The page (``genlab judge RUN_DIR``) shows n real and n generated images in an order fixed by the seed, one at a
time, and records each answer and the seconds spent on it (``performance.now()``). At the end it shows the summary
that :meth:`JudgeScore.summary` gives for the downloaded answers (``genlab judge --score``): the same numbers, computed
by the same operations in the same order, formatted the same way.

The accuracy's 95 % interval is Wilson's score interval (Wilson 1927), for k correct of N answers and z the
standard normal's 97.5 % quantile:

    (k + z²/2) / (N + z²)  ±  z / (N + z²) · sqrt(k (N - k) / N + z²/4)

Unlike the normal approximation it stays inside [0, 1] and keeps close to its nominal coverage at small N. A person
who cannot tell real from fake scores 50 % on average: an interval that holds 0.5 means this judge did not tell
them apart.
"""

from __future__ import annotations

import base64
import json
import math
import random
import re
import statistics
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Annotated, Literal

import torch
from pydantic import BaseModel, Field, ValidationError, model_validator

from genlab.errors import DataError
from genlab.images import png_bytes, to_uint8
from genlab.viz.report import page, png_uri, write_page

FORMAT = "genlab-judge-1"
"""The ``format`` of an answers file, so that a foreign JSON file is refused by name."""
Z95 = statistics.NormalDist().inv_cdf(0.975)
"""z of the two-sided 95 % interval (1.95996...), written into the page so that both sides use the same number."""
Label = Literal["real", "fake"]
SCALE = 320
"""Side in CSS pixels of the shown image (pixels enlarged as blocks, never blurred)."""
AGAIN = "download the answers again with the link at the end of the page that `genlab judge RUN_DIR` wrote"


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for ``k`` successes in ``n`` trials (the formula in the module docstring), clipped
    to [0, 1] against rounding at k = 0 and k = n."""
    z2 = z * z
    center = (k + z2 / 2) / (n + z2)
    half = z / (n + z2) * math.sqrt(k * (n - k) / n + z2 / 4)
    return max(0.0, center - half), min(1.0, center + half)


def judge_order(n: int, seed: int) -> list[Label]:
    """Which of the 2n shown images is real: n of each, shuffled by ``seed``."""
    order: list[Label] = ["real"] * n + ["fake"] * n
    random.Random(seed).shuffle(order)
    return order


class Answers(BaseModel):
    """The answers file the page offers for download."""

    format: Literal["genlab-judge-1"]
    run: str
    seed: int
    n: Annotated[int, Field(ge=1)]
    truth: list[Label]
    answers: list[Label]
    seconds: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]]

    @model_validator(mode="after")
    def _complete(self) -> Answers:
        if self.truth.count("real") != self.n or len(self.truth) != 2 * self.n:
            raise ValueError(f"truth must hold n = {self.n} 'real' and {self.n} 'fake', got {len(self.truth)} labels")
        if len(self.answers) != len(self.truth) or len(self.seconds) != len(self.truth):
            raise ValueError(
                f"{len(self.answers)} answers and {len(self.seconds)} times for {len(self.truth)} images: "
                "the page offers the file once every image is answered"
            )
        return self


def _fixed(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals, rounded as JavaScript's toFixed does (the exact binary value, halves
    away from zero), so that the page and Python print the same text."""
    return str(Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _rate(k: int, n: int) -> str:
    return f"{k}/{n} = {_fixed(100 * k / n, 1)} %"


@dataclass(frozen=True)
class JudgeScore:
    correct: int
    total: int
    interval: tuple[float, float]
    """Wilson's 95 % interval of the accuracy."""
    fakes_called_real: int
    reals_called_real: int
    median_seconds: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.total

    def summary(self) -> list[str]:
        """The summary the page shows at its end, line by line."""
        low, high = self.interval
        per_class = self.total // 2
        return [
            f"accuracy: {_rate(self.correct, self.total)} "
            f"(95 % Wilson interval: {_fixed(100 * low, 1)} % to {_fixed(100 * high, 1)} %)",
            f"fakes called real: {_rate(self.fakes_called_real, per_class)}",
            f"reals called real: {_rate(self.reals_called_real, per_class)}",
            f"median time per image: {_fixed(self.median_seconds, 2)} s",
        ]


def score(truth: list[Label], answers: list[Label], seconds: list[float]) -> JudgeScore:
    """Accuracy, its Wilson interval, the answers "real" per class and the median time of one judge's answers."""
    pairs = list(zip(truth, answers, strict=True))
    correct = sum(t == a for t, a in pairs)
    return JudgeScore(
        correct=correct,
        total=len(pairs),
        interval=wilson_interval(correct, len(pairs)),
        fakes_called_real=sum(t == "fake" and a == "real" for t, a in pairs),
        reals_called_real=sum(t == "real" and a == "real" for t, a in pairs),
        median_seconds=statistics.median(seconds),
    )


def read_answers(path: str | Path) -> tuple[Answers, JudgeScore]:
    """An answers file the page wrote and its score; a missing, damaged or foreign file is a DataError."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(errors="replace"))
    except FileNotFoundError:
        raise DataError(f"{path} does not exist; {AGAIN}") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not JSON ({exc.msg} at line {exc.lineno}); {AGAIN}") from None
    try:
        answers = Answers.model_validate(data)
    except ValidationError as exc:
        item = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in item["loc"]) or "the file"
        problem = item["msg"].removeprefix("Value error, ")
        raise DataError(f"{path} is not a genlab judge answers file ({where}: {problem}); {AGAIN}") from None
    return answers, score(answers.truth, answers.answers, answers.seconds)


STYLE = f"""
#deck img{{width:{SCALE}px;height:{SCALE}px;image-rendering:pixelated;border:1px solid #999;display:block}}
#deck img[hidden]{{display:none}}
.buttons button{{font-size:20px;padding:8px 28px;margin:12px 12px 0 0}}
#summary{{font-size:15px;max-height:none}}
"""
SCRIPT = """<script>
(function () {
  // The truth is XOR-masked only so that it is not readable at a glance in the source or the DOM: this does not
  // resist a determined person, who can run the lines below.
  var META = __META__, Z = __Z__;
  var key = atob(__KEY__), mask = atob(__MASK__);
  var truth = [];
  for (var i = 0; i < key.length; i++) {
    truth.push(((key.charCodeAt(i) ^ mask.charCodeAt(i)) & 1) === 1 ? 'real' : 'fake');
  }
  var images = Array.from(document.querySelectorAll('#deck img'));
  var answers = [], seconds = [], shownAt = 0, running = false;
  function $(id) { return document.getElementById(id); }
  function show(index) {
    images.forEach(function (image, j) { image.hidden = j !== index; });
    $('progress').textContent = 'image ' + (index + 1) + ' of ' + images.length;
    shownAt = performance.now();
  }
  function wilson(k, n) {
    var z2 = Z * Z;
    var center = (k + z2 / 2) / (n + z2);
    var half = Z / (n + z2) * Math.sqrt(k * (n - k) / n + z2 / 4);
    return [Math.max(0, center - half), Math.min(1, center + half)];
  }
  function rate(k, n) { return k + '/' + n + ' = ' + (100 * k / n).toFixed(1) + ' %'; }
  function median(values) {
    var s = values.slice().sort(function (a, b) { return a - b; }), m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  }
  function finish() {
    running = false;
    var correct = 0, fakesReal = 0, realsReal = 0, n = truth.length;
    truth.forEach(function (t, j) {
      if (t === answers[j]) { correct++; }
      if (answers[j] === 'real') { if (t === 'fake') { fakesReal++; } else { realsReal++; } }
    });
    var ci = wilson(correct, n);
    $('summary').textContent = [
      'accuracy: ' + rate(correct, n) + ' (95 % Wilson interval: ' + (100 * ci[0]).toFixed(1) + ' % to ' +
        (100 * ci[1]).toFixed(1) + ' %)',
      'fakes called real: ' + rate(fakesReal, n / 2),
      'reals called real: ' + rate(realsReal, n / 2),
      'median time per image: ' + median(seconds).toFixed(2) + ' s'
    ].join('\\n');
    var record = Object.assign({}, META, {truth: truth, answers: answers, seconds: seconds});
    var blob = new Blob([JSON.stringify(record, null, 1)], {type: 'application/json'});
    $('download').href = URL.createObjectURL(blob);
    $('judge').hidden = true;
    $('done').hidden = false;
    document.body.setAttribute('data-state', 'done');
  }
  function answer(label) {
    if (!running) { return; }
    seconds.push((performance.now() - shownAt) / 1000);
    answers.push(label);
    if (answers.length < images.length) { show(answers.length); } else { finish(); }
  }
  $('start').addEventListener('click', function () {
    $('intro').hidden = true;
    $('judge').hidden = false;
    running = true;
    show(0);
  });
  $('real').addEventListener('click', function () { answer('real'); });
  $('fake').addEventListener('click', function () { answer('fake'); });
  document.addEventListener('keydown', function (event) {
    if (event.repeat || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var pressed = event.key.toLowerCase();
    if (pressed === 'r') { answer('real'); } else if (pressed === 'f') { answer('fake'); }
  });
})();
</script>"""


def _literal(value: object) -> str:
    """``value`` as a JavaScript literal that cannot close the script element."""
    return json.dumps(value).replace("<", "\\u003c")


def write_judge_page(real: torch.Tensor, fake: torch.Tensor, out: str | Path, *, run: str, seed: int) -> Path:
    """The page for ``real`` and ``fake`` images (N, C, H, W) in [-1, 1], n of each, shown in
    :func:`judge_order`'s order; ``run`` and ``seed`` go into the answers file."""
    n = len(real)
    if len(fake) != n:
        raise ValueError(f"a judge page shows as many real images as fakes, got {n} and {len(fake)}")
    order = judge_order(n, seed)
    pictures = {"real": iter(to_uint8(real)), "fake": iter(to_uint8(fake))}
    images = "".join(f'<img src="{png_uri(png_bytes(next(pictures[t])))}" alt="image" hidden>' for t in order)
    mask = random.Random(f"mask-{seed}").randbytes(len(order))
    key = bytes(m ^ (t == "real") for m, t in zip(mask, order, strict=True))
    values = {
        "META": {"format": FORMAT, "run": run, "seed": seed, "n": n},
        "Z": Z95,
        "KEY": base64.b64encode(key).decode(),
        "MASK": base64.b64encode(mask).decode(),
    }
    script = re.sub(r"__(META|Z|KEY|MASK)__", lambda found: _literal(values[found.group(1)]), SCRIPT)
    body = (
        f'<div id="intro"><p>{2 * n} images follow one at a time: {n} from the data set and {n} from a generator, '
        "in random order. Answer each with <b>real</b> or <b>fake</b> (keys R and F); the time you take is recorded. "
        'The score and a download of your answers come at the end.</p><button id="start">start</button></div>'
        f'<div id="judge" hidden><p id="progress"></p><div id="deck">{images}</div><div class="buttons">'
        '<button id="real">real</button><button id="fake">fake</button></div></div>'
        '<div id="done" hidden><pre id="summary"></pre><p>Chance is 50 %: an interval that holds 50 % means these '
        'answers did not tell real from fake.</p><a id="download" download="judge-answers.json">download the '
        "answers (JSON)</a> and score them with <code>genlab judge --score judge-answers.json</code></div>"
    )
    return write_page(Path(out), page("genlab judge: real or fake?", body + script, STYLE))
