"""``--log mlflow:URI`` — each run as an MLflow run (a directory path or ``file:`` URI is a local file store).

Talks to MLflow through ``MlflowClient(tracking_uri=URI)`` rather than the fluent ``mlflow.start_run`` API, so the
process-wide active run and tracking URI of a user's own code are left alone. The experiment is the profile's name;
the MLflow run is named after the splinebench run id and tagged ``splinebench.run_id``. The resolved profile goes in
twice: flattened into params (searchable) and whole as the ``profile.json`` artifact.

MLflow 3 keeps the file store in maintenance mode and refuses it unless ``MLFLOW_ALLOW_FILE_STORE=true``; a user who
names a directory has asked for exactly that store, so the variable is set (unless already set) for ``file:`` URIs.

MLflow metric keys allow only letters, digits and ``_-. /``, so phase names such as ``retrain:spline@0.5`` are
logged as ``retrain_spline_0.5``.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any, ClassVar

from splinebench.engine.events import RunStarted
from splinebench.trackers.base import Tracker, flatten

PARAM_VALUE_LIMIT = 500  # the smallest limit across MLflow versions and backends
STATUS = {"finished": "FINISHED", "failed": "FAILED", "killed": "KILLED"}


def mlflow_key(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_\-. /]", "_", key)


def tracking_uri(target: str) -> str:
    """A URI with a scheme is kept (``file:``, ``http:``, ``sqlite:``); a bare path becomes a ``file:`` URI."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target) and not re.match(r"^[A-Za-z]:[\\/]", target):
        return target
    return Path(target).resolve().as_uri()


class MlflowTracker(Tracker):
    name: ClassVar[str] = "mlflow"
    extra: ClassVar[str] = "mlflow"
    modules: ClassVar[tuple[str, ...]] = ("mlflow",)
    target_help: ClassVar[str] = "URI (a directory such as ./mlruns, or file:, sqlite:, http: URIs)"
    needs_target: ClassVar[bool] = True

    def __init__(self, target: str | None = None) -> None:
        super().__init__(target)
        self.uri = tracking_uri(self.target or "")
        self.client: Any = None
        self.mlflow_run_id: str | None = None

    def start(self, event: RunStarted) -> None:
        if self.uri.startswith("file:"):
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = os.environ.get("MLFLOW_ALLOW_FILE_STORE") or "true"
        from mlflow import MlflowClient
        from mlflow.entities import Param

        self.client = MlflowClient(tracking_uri=self.uri)
        experiment_name = event.name or "splinebench"
        experiment = self.client.get_experiment_by_name(experiment_name)
        experiment_id = experiment.experiment_id if experiment else self.client.create_experiment(experiment_name)
        run = self.client.create_run(experiment_id, run_name=event.run_id, tags={
            "splinebench.run_id": event.run_id, "splinebench.model": event.model, "splinebench.dataset": event.dataset,
        })
        self.mlflow_run_id = run.info.run_id
        params = [Param(mlflow_key(k), str(v)[:PARAM_VALUE_LIMIT]) for k, v in flatten(event.profile).items()]
        for i in range(0, len(params), 100):  # log_batch takes at most 100 params per call
            self.client.log_batch(self.mlflow_run_id, params=params[i : i + 100])
        if event.profile:
            self.client.log_dict(self.mlflow_run_id, event.profile, "profile.json")

    def log_scalars(self, values: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(mlflow_key(k), float(v), now, step) for k, v in values.items()]
        for i in range(0, len(metrics), 1000):
            self.client.log_batch(self.mlflow_run_id, metrics=metrics[i : i + 1000])

    def log_text(self, key: str, text: str) -> None:
        self.client.log_text(self.mlflow_run_id, text, f"{mlflow_key(key)}.txt")

    def finish(self, status: str) -> None:
        self.client.set_terminated(self.mlflow_run_id, status=STATUS[status])
        self.mlflow_run_id = None
