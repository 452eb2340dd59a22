"""MLflow: by default a store of the run's own, so training needs no server and no network.

The tracking URI is ``train.mlflow.tracking_uri``, else $MLFLOW_TRACKING_URI, else an SQLite store in the run
folder, ``sqlite:///RUN/mlflow.db``, with the artifacts (config.yaml, the sample grids) in RUN/mlartifacts/
(``mlflow ui --backend-store-uri sqlite:///RUN/mlflow.db`` shows it). The MLflow run id is kept in RUN/mlflow-id:
a resumed run logs into the same MLflow run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from genlab.schema import Section, flatten
from genlab.train.rundir import RunDir
from genlab.train.sinks.base import Sink, environment_default, stored_run_id

ID_FILE = "mlflow-id"
PARAMS_PER_CALL = 100
"""MLflow takes at most 100 parameters in one call."""


class MlflowConfig(Section):
    """Where the MLflow copy of a run goes (with mlflow in train.loggers)."""

    tracking_uri: Annotated[str, Field(min_length=1)] | None = None
    """The MLflow tracking server or store; default: $MLFLOW_TRACKING_URI, else sqlite:///RUN/mlflow.db."""
    experiment: Annotated[str, Field(min_length=1)] = "genlab"
    """The MLflow experiment the run is recorded in (created when missing)."""


def metric_name(key: str) -> str:
    """``key`` as MLflow allows metric names (letters, digits and ``_ - . / space``): ``D(G(z))`` is ``D_G_z__``."""
    return re.sub(r"[^\w./ -]", "_", key)


class MlflowSink(Sink):
    """An MLflow run named after the run folder: scalars as metrics at their step, pictures as images at their
    step, the config as parameters (its dotted keys) and as the artifact config.yaml."""

    name = "mlflow"
    packages = ("mlflow", "sqlalchemy", "alembic")  # the last two: the SQLite store

    def __init__(self, run: RunDir, resumed_step: int | None, settings: MlflowConfig) -> None:
        local = settings.tracking_uri is None and "MLFLOW_TRACKING_URI" not in os.environ
        uri = f"sqlite:///{(run.path / 'mlflow.db').resolve()}" if local else settings.tracking_uri
        self._client = _client(uri, local)
        experiment = self._client.get_experiment_by_name(settings.experiment)
        if experiment is not None:
            experiment_id = experiment.experiment_id
        else:
            artifacts = (run.path / "mlartifacts").resolve().as_uri() if local else None
            experiment_id = self._client.create_experiment(settings.experiment, artifact_location=artifacts)
        self._id = stored_run_id(
            run.path / ID_FILE, lambda: self._client.create_run(experiment_id, run_name=run.path.name).info.run_id
        )
        if resumed_step is not None:
            self._client.update_run(self._id, status="RUNNING")

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(metric_name(key), value, now, step) for key, value in values.items()]
        self._client.log_batch(self._id, metrics=metrics)

    def image(self, tag: str, grid: np.ndarray, step: int) -> None:
        self._client.log_image(self._id, grid, key=metric_name(tag), step=step)

    def config(self, config: Mapping[str, Any]) -> None:
        """Parameters cannot change in MLflow, so a resumed run adds only new keys; config.yaml is replaced."""
        from mlflow.entities import Param

        logged = self._client.get_run(self._id).data.params
        params = [Param(key, str(value)) for key, value in flatten(dict(config)).items() if key not in logged]
        for start in range(0, len(params), PARAMS_PER_CALL):
            self._client.log_batch(self._id, params=params[start : start + PARAMS_PER_CALL])
        self._client.log_dict(self._id, dict(config), "config.yaml")

    def close(self) -> None:
        self._client.set_terminated(self._id)


def _client(uri: str | None, local: bool) -> Any:
    """An MlflowClient of ``uri``. MLflow reports its use to its makers over the network (set up when mlflow is
    imported, or when the report client is set again); with a store of the run's own, it sends nothing."""
    with environment_default("MLFLOW_DISABLE_TELEMETRY", "true") if local else contextlib.nullcontext():
        from mlflow import MlflowClient
        from mlflow.telemetry import set_telemetry_client

        set_telemetry_client()
    with _quiet("mlflow"):  # creating a new store's tables logs two lines of its own
        return MlflowClient(uri)


@contextlib.contextmanager
def _quiet(logger: str) -> Iterator[None]:
    """Only warnings and errors from ``logger`` while the block runs."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        log.setLevel(level)
