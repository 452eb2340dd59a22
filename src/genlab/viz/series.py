"""The numeric time series of a run's metrics.jsonl, as curves, reports and comparisons read them."""

from __future__ import annotations

from pathlib import Path

from genlab.train.logger import read_metrics

BOOKKEEPING = ("step", "elapsed", "images_per_s")


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def run_series(metrics_path: str | Path) -> dict[str, tuple[list[int], list[float]]]:
    """Every numeric key of the run's records as (steps, values), in first-seen order.

    Records differ in keys (mode statistics, evaluations and doctor findings come on their own); doctor records
    are findings, not measurements, and are left out.
    """
    series: dict[str, tuple[list[int], list[float]]] = {}
    for record in read_metrics(metrics_path):
        if "doctor" in record:
            continue
        for key, value in record.items():
            if key not in BOOKKEEPING and is_number(value):
                steps, values = series.setdefault(key, ([], []))
                steps.append(record["step"])
                values.append(value)
    return series


def findings(metrics_path: str | Path) -> list[dict]:
    """The training doctor's findings recorded in a run's metrics.jsonl."""
    return [record for record in read_metrics(metrics_path) if "doctor" in record]
