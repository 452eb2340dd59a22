"""Self-contained HTML pages of a run (``report.html``) and of several runs side by side (``compare.html``).

Every picture is a PNG inlined as a data URI and the only script is a few inline lines, so a page opens offline and
can be mailed as one file. That script marks the page ``data-ok="true"`` once every picture has decoded with a
non-zero size (``data-ok="false"`` otherwise), which the browser test reads.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path

from genlab import keys
from genlab.errors import CheckpointError, one_line
from genlab.fileio import atomic_write
from genlab.train.logger import read_metrics
from genlab.train.rundir import RunDir
from genlab.viz.series import findings, is_number, run_series

PANELS = (
    ("losses", keys.is_loss),
    (f"{keys.D_REAL} and {keys.D_FAKE}", lambda k: k in (keys.D_REAL, keys.D_FAKE)),
    ("gradient norms", lambda k: k.startswith(keys.GRAD_PREFIX)),
    ("sample diversity (doctor)", lambda k: k == keys.DIVERSITY),
    ("evaluation", lambda k: k.startswith(keys.EVAL_PREFIX)),
)
Series = dict[str, tuple[list[int], list[float]]]
"""A run's numeric keys as (steps, values)."""
STRIP = 8
"""Sample grids shown over training (evenly spaced, the last one always)."""
LOWER_IS_BETTER = ("fid", "kid", "classwise_fid", "modes_kl", "mem_fraction")
HIGHER_IS_BETTER = (
    "is",
    "precision",
    "recall",
    "density",
    "coverage",
    "class_accuracy",
    "modes",
    "high_quality",
    keys.DIVERSITY,
)

STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td.best{background:#d8f0d8;font-weight:bold}.left{text-align:left}
pre{background:#f7f7f7;padding:8px;font-size:12px;max-height:360px;overflow:auto}
.row{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}.row figure{margin:0}
figure img{max-width:100%;height:auto}
figcaption{font-size:12px;text-align:center}.finding{background:#fff4e0}
"""
CHECK = """<script>
window.addEventListener('load', function () {
  var images = Array.from(document.images);
  var want = Number(document.body.getAttribute('data-expect'));
  var ok = images.length === want && images.every(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.setAttribute('data-images', String(images.length));
  document.body.setAttribute('data-ok', ok ? 'true' : 'false');
});
</script>"""


def png_uri(png: bytes) -> str:
    """PNG bytes as a data URI, the form every picture of a page takes."""
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _png(path: Path) -> str:
    return png_uri(path.read_bytes())


def figure_uri(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return png_uri(buffer.getvalue())


def figure_html(uri: str, caption: str, width: int | None = None, show_caption: bool = True) -> str:
    size = f' width="{width}"' if width else ""
    text = html.escape(caption)
    below = f"<figcaption>{text}</figcaption>" if show_caption else ""
    return f'<figure><img src="{uri}"{size} alt="{text}">{below}</figure>'


def _charts(runs: dict[str, Series]) -> str:
    """One chart per panel that has data, every run's curves overlaid on shared axes."""
    import matplotlib.pyplot as plt

    parts = []
    for title, wanted in PANELS:
        keys = sorted({k for series in runs.values() for k in series if wanted(k)})
        if not keys:
            continue
        fig, ax = plt.subplots(figsize=(5.2, 3.2))
        for run_name, series in runs.items():
            for key in keys:
                if key in series:
                    label = key if len(runs) == 1 else f"{run_name}: {key}"
                    # A "$" in a folder name would start matplotlib's mathtext (and "$\frac$" crash the page).
                    ax.plot(*series[key], label=label.replace("$", r"\$"), linewidth=1.2)
        if title == "gradient norms":
            ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        parts.append(figure_html(figure_uri(fig), title, show_caption=False))  # the chart carries its title
    return f'<div class="row">{"".join(parts)}</div>'


def _sample_strip(run: RunDir) -> str:
    grids = sorted(run.samples_dir.glob("step-*.png")) if run.samples_dir.is_dir() else []
    if not grids:
        return "<p>No sample grids were written.</p>"
    count = min(STRIP, len(grids))
    chosen = grids if count == len(grids) else [grids[round(i * (len(grids) - 1) / (count - 1))] for i in range(count)]
    figures = [figure_html(_png(p), f"step {int(p.stem.split('-')[1])}", width=220) for p in chosen]
    return f'<div class="row">{"".join(figures)}</div>'


def final_metrics(run: RunDir, series: Series) -> dict[str, float]:
    """The last value of every numeric series, with the run's eval.json values (``genlab eval``) on top."""
    values = {key: steps_values[1][-1] for key, steps_values in series.items()}
    eval_path = run.path / "eval.json"
    if eval_path.is_file():
        values |= {keys.EVAL_PREFIX + k: v for k, v in _stored_metrics(eval_path).items() if is_number(v)}
    return values


def _stored_metrics(eval_path: Path) -> dict:
    """The ``metrics`` of an eval.json; a damaged file is an error saying how to write it again."""
    try:
        stored = json.loads(eval_path.read_text(errors="replace")).get("metrics", {})
        return dict(stored)
    except (json.JSONDecodeError, AttributeError, TypeError, ValueError) as exc:
        raise CheckpointError(
            f"{eval_path} is not an evaluation result ({one_line(exc)}); write it again with "
            f"`genlab eval {eval_path.parent}`, or delete it"
        ) from None


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(rows_cells) + "</tr>" for rows_cells in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def html_cell(text: str, css: str = "") -> str:
    return f'<td class="{css}">{html.escape(text)}</td>' if css else f"<td>{html.escape(text)}</td>"


def _findings_table(records: list[dict]) -> str:
    found = findings(records)
    if not found:
        return "<p>The training doctor found nothing.</p>"
    rows = [
        [
            html_cell(str(f[keys.STEP])),
            *(html_cell(f[key], "left") for key in (keys.FINDING, keys.MESSAGE, keys.REMEDY)),
        ]
        for f in found
    ]
    return '<div class="finding">' + html_table(["step", "finding", "what", "try"], rows) + "</div>"


def page(title: str, body: str, style: str = "") -> str:
    """A whole page: the reports' style (plus ``style``), the title as heading, ``body`` and the picture check.

    The check compares the pictures the browser decoded with the number the page was written with
    (``data-expect``), so a page that rightly has none (a study whose trials all failed) passes and a page that
    lost one does not."""
    expect = body.count("<img ")
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<style>{STYLE}{style}</style></head><body data-ok="pending" data-expect="{expect}">'
        f"<h1>{html.escape(title)}</h1>{body}{CHECK}</body></html>"
    )


def write_page(path: Path, text: str) -> Path:
    with atomic_write(path, "w") as handle:
        handle.write(text)
    return path


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """RUN_DIR/report.html (or ``out``): config, curves, samples over training, latent figures, metrics, findings."""
    run = RunDir.open(run_dir)
    records = read_metrics(run.metrics_path)
    series = run_series(records)
    latent = sorted((run.path / "latent").glob("*.png")) if (run.path / "latent").is_dir() else []
    body = [
        "<h2>Training curves</h2>",
        _charts({run.path.name: series}),
        "<h2>Samples over training</h2>",
        _sample_strip(run),
    ]
    if latent:
        body += [
            "<h2>Latent space</h2>",
            '<div class="row">' + "".join(figure_html(_png(p), p.stem) for p in latent) + "</div>",
        ]
    rows = [[html_cell(k, "left"), html_cell(f"{v:.6g}")] for k, v in final_metrics(run, series).items()]
    body += ["<h2>Final metrics</h2>", html_table(["metric", "value"], rows)]
    body += ["<h2>Training doctor</h2>", _findings_table(records)]
    body += ["<h2>Config</h2>", f"<pre>{html.escape(run.config_path.read_text())}</pre>"]
    return write_page(
        Path(out) if out else run.path / "report.html", page(f"genlab report: {run.path.name}", "".join(body))
    )


def best_marks(table: dict[str, dict[str, float]]) -> dict[str, str]:
    """For each metric column whose direction is known, the run holding its best value."""
    best = {}
    for column in {c for values in table.values() for c in values}:
        name = column.split("/")[-1]
        if name not in LOWER_IS_BETTER + HIGHER_IS_BETTER:
            continue
        present = {run: values[column] for run, values in table.items() if column in values}
        pick = min if name in LOWER_IS_BETTER else max
        best[column] = pick(present, key=present.get)
    return best


def write_comparison(run_dirs: Sequence[str | Path], out: str | Path) -> Path:
    """One page comparing runs: overlaid curves, each run's last sample grid, one metrics table (best marked)."""
    if len(run_dirs) < 2:
        raise ValueError("a comparison needs at least two run folders")
    runs = [RunDir.open(d) for d in run_dirs]
    names = [r.path.name for r in runs]
    if len(set(names)) != len(names):
        names = [str(r.path) for r in runs]
    series = {name: run_series(read_metrics(run.metrics_path)) for name, run in zip(names, runs, strict=True)}
    table = {name: final_metrics(run, series[name]) for name, run in zip(names, runs, strict=True)}
    best = best_marks(table)
    columns = sorted({c for values in table.values() for c in values}, key=lambda c: (c not in best, c))
    rows = [
        [html_cell(name, "left")]
        + [html_cell(f"{values[c]:.4g}" if c in values else "", "best" if best.get(c) == name else "") for c in columns]
        for name, values in table.items()
    ]
    grids = []
    for name, run in zip(names, runs, strict=True):
        last = sorted(run.samples_dir.glob("step-*.png"))[-1:] if run.samples_dir.is_dir() else []
        grids += [figure_html(_png(p), f"{name}, {p.stem}", width=260) for p in last]
    body = [
        "<h2>Curves</h2>",
        _charts(series),
        "<h2>Last samples</h2>",
        f'<div class="row">{"".join(grids)}</div>',
        "<h2>Metrics (best per column marked)</h2>",
        html_table(["run", *columns], rows),
    ]
    return write_page(Path(out), page(f"genlab comparison of {len(runs)} runs", "".join(body)))
