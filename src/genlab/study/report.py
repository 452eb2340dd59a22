"""DIR/study.html: one self-contained page about a study, drawn from its index (DIR/trials.jsonl) and the study
file it was run with (DIR/study.yaml), in the run reports' style and with their picture check.

Sections: each model's best setting (sampled values, mean ± std of the metric over its seeds), the spread over
seeds at that setting (phase 2's rows; phase 1's rows of that setting when the study has no phase 2), the best
metric against the budget with bootstrap bands (:mod:`genlab.study.analysis`), precision against recall of every
trial that has both, the failed trials with their messages, and every trial.
"""

from __future__ import annotations

import html
import json
import statistics
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from genlab.errors import ConfigError, GenlabError
from genlab.schema import config_error
from genlab.study.analysis import DRAWS, LEVEL, best_of_budget, best_setting, setting_key, setting_scores
from genlab.study.spec import StudySpec
from genlab.study.trials import DONE, FAILED, STUDY_COPY, study_rows
from genlab.viz.report import figure_html, figure_uri, html_cell, html_table, page, write_page
from genlab.viz.study_plots import budget_curves, precision_recall, seed_spread

PAGE = "study.html"
PR = ("precision", "recall")


def _spec(folder: Path) -> StudySpec:
    path = folder / STUDY_COPY
    if not path.is_file():
        raise GenlabError(f"{folder} has no {STUDY_COPY}: is it a study folder? (`genlab study run ... --out DIR`)")
    try:
        return StudySpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    except ValidationError as exc:
        raise config_error(exc, str(path)) from None


def _number(value: Any) -> str:
    return "" if value is None else f"{value:.4g}"


def _mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.4g} ± {spread:.2g}"


def _setting(values: dict[str, Any]) -> str:
    return (
        ", ".join(
            f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}" for key, value in values.items()
        )
        or "(no search)"
    )


def _best(
    rows: list[dict[str, Any]], models: list[str], mode: str
) -> dict[str, tuple[dict[str, Any], list[float], int]]:
    """Each model's best setting, its values over seeds and the phase they come from (2, else 1)."""
    best = {}
    for model in models:
        key = best_setting(setting_scores(rows, model), mode)
        if key is None:
            continue
        at_best = [r for r in rows if r["model"] == model and setting_key(r["values"]) == key]
        rerun = [r["final"] for r in at_best if r["phase"] == 2 and r["status"] == DONE and r["final"] is not None]
        first = [r["final"] for r in at_best if r["phase"] == 1 and r["status"] == DONE and r["final"] is not None]
        best[model] = (json.loads(key), rerun or first, 2 if rerun else 1)
    return best


def _best_section(best: dict[str, tuple[dict[str, Any], list[float], int]], metric: str) -> str:
    if not best:
        return f"<p>No trial finished with a {html.escape(metric)}.</p>"
    rows = [
        [
            html_cell(model, "left"),
            html_cell(_setting(values), "left"),
            html_cell(str(len(scores))),
            html_cell(_mean_std(scores)),
            html_cell(str(phase)),
        ]
        for model, (values, scores, phase) in best.items()
    ]
    table = html_table(["model", "best setting", "seeds", f"{metric} mean ± std", "phase"], rows)
    spread = figure_html(
        figure_uri(seed_spread({m: s for m, (_, s, _) in best.items()}, metric)),
        "spread over seeds",
        show_caption=False,
    )
    note = ""
    if any(phase == 1 for _, _, phase in best.values()):
        note = (
            "<p>Phase 1 in the last column: that model's best setting has no finished rerun (phase 2, rerun.seeds), "
            "so its phase-1 seeds are shown.</p>"
        )
    return table + note + spread


def _budget_section(rows: list[dict[str, Any]], models: list[str], metric: str, mode: str, seed: int) -> str:
    curves, single = {}, []
    for model in models:
        scores = [statistics.fmean(s) for s in setting_scores(rows, model).values()]
        if len(scores) == 1:  # one setting: no budget to vary, so no curve (a lone point would only crowd the legend)
            single.append(model)
        elif scores:
            budget = best_of_budget(scores, mode, seed=seed)
            curves[model] = (budget.ks, budget.mean, budget.low, budget.high)
    if not curves:
        if single:
            return (
                "<p>Every model has one scored setting (no search, or one setting scored so far), so there is no "
                "budget to vary: the table and the spread above are the comparison.</p>"
            )
        return "<p>No setting has a score yet.</p>"
    how = (
        f"<p>For each budget k, k of the model's phase-1 settings (each scored by its mean {html.escape(metric)} over "
        f"its seeds) are drawn with replacement {DRAWS} times and the best of each draw is kept: the line is the mean "
        f"of those bests, the band their central {100 * LEVEL:.0f} % (the draws seeded with the study's seed, "
        f"{seed}).</p>"
    )
    if single:
        how += f"<p>One scored setting only, so no curve: {html.escape(', '.join(single))}.</p>"
    return how + figure_html(
        figure_uri(budget_curves(curves, metric, LEVEL)), "best against budget", show_caption=False
    )


def _pr_section(rows: list[dict[str, Any]]) -> str:
    points: dict[str, tuple[list[float], list[float]]] = {}
    for row in rows:
        found = [row["metrics"].get(name) for name in PR]
        if row["status"] == DONE and all(isinstance(v, int | float) for v in found):
            precision, recall = points.setdefault(row["model"], ([], []))
            precision.append(found[0])
            recall.append(found[1])
    if not points:
        return (
            "<p>No trial has precision and recall metrics (add <code>pr</code> to the base config's eval.metrics).</p>"
        )
    return figure_html(figure_uri(precision_recall(points)), "precision against recall", show_caption=False)


def _failed_section(rows: list[dict[str, Any]]) -> str:
    failed = [r for r in rows if r["status"] == FAILED]
    if not failed:
        return "<p>No trial failed.</p>"
    cells = [
        [
            html_cell(r["id"], "left"),
            html_cell(_setting(r["values"]), "left"),
            html_cell(str(r["seed"])),
            html_cell(r["error"] or "", "left"),
        ]
        for r in failed
    ]
    return html_table(["trial", "setting", "seed", "error"], cells)


def _trials_section(rows: list[dict[str, Any]], folder: Path) -> str:
    cells = []
    for r in rows:
        report = folder / r["dir"] / "report.html"
        name = (
            f'<a href="{html.escape(r["dir"])}/report.html">{html.escape(r["id"])}</a>'
            if report.is_file()
            else html.escape(r["id"])
        )
        cells.append(
            [
                f'<td class="left">{name}</td>',
                html_cell(r["model"], "left"),
                html_cell(str(r["phase"])),
                html_cell(str(r["seed"])),
                html_cell(r["status"], "left"),
            ]
            + [html_cell(_number(r[key])) for key in ("final", "best", "steps", "wall_time")]
        )
    return html_table(["trial", "model", "phase", "seed", "status", "final", "best", "steps", "wall time (s)"], cells)


def write_study_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write DIR/study.html (or ``out``) from the study folder ``folder``; returns its path."""
    folder = Path(folder)
    rows = study_rows(folder)
    spec = _spec(folder)
    metric, mode = spec.metric, spec.mode
    models = [m for m in spec.models if any(r["model"] == m for r in rows)]
    counts = {status: sum(r["status"] == status for r in rows) for status in (DONE, FAILED)}
    unfinished = len(rows) - counts[DONE] - counts[FAILED]
    summary = (
        f"<p>Trials: {len(rows)} of {len(models)} model(s); {counts[DONE]} done, {counts[FAILED]} failed"
        + (f", {unfinished} running or interrupted (run the study again to finish them)" if unfinished else "")
        + f". Ranked by {html.escape(metric)} ({'lower' if mode == 'min' else 'higher'} is better), its value at "
        "each trial's last evaluation.</p>"
    )
    body = [
        summary,
        "<h2>Best setting of each model</h2>",
        _best_section(_best(rows, models, mode), metric),
        "<h2>Best metric against budget</h2>",
        _budget_section(rows, models, metric, mode, spec.seed),
        "<h2>Precision against recall</h2>",
        _pr_section(rows),
        "<h2>Failed trials</h2>",
        _failed_section(rows),
        "<h2>Every trial</h2>",
        _trials_section(rows, folder),
    ]
    return write_page(Path(out) if out else folder / PAGE, page(f"genlab study: {folder.name}", "".join(body)))
