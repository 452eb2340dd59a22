"""The numeric time series and doctor findings of a run's metrics.jsonl records, for curves, reports, comparisons."""

from __future__ import annotations

from typing import Any

from genlab import keys

BOOKKEEPING = (keys.STEP, keys.ELAPSED, keys.IMAGES_PER_S)


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def run_series(records: list[dict[str, Any]]) -> dict[str, tuple[list[int], list[float]]]:
    """Every numeric key of a run's records (``read_metrics``) as (steps, values), in first-seen order.

    Records differ in keys (mode statistics, evaluations and doctor findings come on their own); doctor records
    are findings, not measurements, and are left out.
    """
    series: dict[str, tuple[list[int], list[float]]] = {}
    for record in records:
        if keys.FINDING in record:
            continue
        for key, value in record.items():
            if key not in BOOKKEEPING and is_number(value):
                steps, values = series.setdefault(key, ([], []))
                steps.append(record[keys.STEP])
                values.append(value)
    return series


def findings(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The training doctor's findings among a run's records."""
    return [record for record in records if keys.FINDING in record]
