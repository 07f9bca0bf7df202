"""What every tracker shares: routing events to a few named hooks, one tracker run per splinebench run.

A tracker subclass implements ``start`` (open its run from the ``run_started`` event: name, resolved profile) and
``scalar``/``text``-like hooks; the routing and the naming of metrics live here, so TensorBoard, MLflow and W&B show
the same keys (``dense/test_acc``, ``distance/dense/features.0``, ``result/spline@0.5/accuracy``).
"""

from __future__ import annotations

import importlib.util
from typing import Any, ClassVar

from splinebench.engine.events import (
    EarlyBirdFired,
    EpochFinished,
    Evaluated,
    Event,
    PartitionDistances,
    PhaseFinished,
    PlanMade,
    PrunerFailed,
    RunFailed,
    RunFinished,
    RunResumed,
    RunStarted,
)
from splinebench.errors import BadInputError

EPOCH_METRICS = ("train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds", "training_flops")
RESULT_METRICS = ("accuracy", "loss", "params", "flops", "total_training_flops", "total_energy_j")


class TrackerUnavailable(BadInputError):
    """The tracker's library is not installed: says which pip extra brings it."""


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"lr": 0.1}}`` -> ``{"train.lr": 0.1}`` (trackers take flat parameters)."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


class Tracker:
    """Base of every tracker: an event sink that opens one tracker run per splinebench run.

    Subclasses set ``name``, ``extra`` and ``modules`` (what must be importable) and implement ``start``,
    ``log_scalars``, ``log_text`` and ``finish``. ``target`` is what followed ``NAME:`` on the command line.
    """

    name: ClassVar[str] = ""
    extra: ClassVar[str] = ""  # the pip extra: pip install 'splinebench[EXTRA]'
    modules: ClassVar[tuple[str, ...]] = ()
    target_help: ClassVar[str] = ""  # what TARGET means, for the error when one is missing or refused
    needs_target: ClassVar[bool] = False

    def __init__(self, target: str | None = None) -> None:
        self.check_available()
        if self.needs_target and not target:
            raise BadInputError(f"--log {self.name} needs a target: --log {self.name}:{self.target_help}")
        self.target = target
        self.run_id: str | None = None
        self.error: str | None = None  # the first failure; the tracker stops, the run goes on

    @classmethod
    def check_available(cls) -> None:
        for module in cls.modules:
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                raise TrackerUnavailable(
                    f"--log {cls.name}: the Python package {module!r} is not installed; "
                    f"install the extra with: pip install 'splinebench[{cls.extra}]'"
                )

    # -- the sink ---------------------------------------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        """Route one event; a tracker that fails stops logging (with ``error`` set) and never stops the run."""
        if self.error is not None:
            return
        try:
            self._route(event)
        except Exception as exc:  # noqa: BLE001 - a tracker is a watcher: training goes on, the CLI says why
            self.error = f"{type(exc).__name__}: {exc}"
            self.run_id = None

    def _route(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.start(event)
            self.run_id = event.run_id
            self.log_text("profile", _json(event.profile))
            return
        if isinstance(event, RunResumed) and self.run_id is None:
            self.resume(event.run_id)
            self.run_id = event.run_id
            return
        if self.run_id is None or event.run_id != self.run_id:
            return  # not a run this tracker opened (a replay's tail before its start, another sweep trial)
        handler = _ROUTES.get(type(event))
        if handler is not None:
            handler(self, event)

    def close(self) -> None:
        """Finish the open tracker run, if any (the CLI calls this when a run is interrupted)."""
        if self.run_id is not None:
            self.run_id = None
            try:
                self.finish("killed")
            except Exception as exc:  # noqa: BLE001 - closing must not hide the run's own outcome
                self.error = self.error or f"{type(exc).__name__}: {exc}"

    # -- what subclasses implement ----------------------------------------------------------------------------
    def start(self, event: RunStarted) -> None:
        raise NotImplementedError

    def resume(self, run_id: str) -> None:
        """Reopen the tracker run of a resumed splinebench run (default: a fresh one under the same name)."""
        self.start(RunStarted(run_id=run_id, name=run_id, profile={}, versions={}, model="", dataset="", seed=0,
                              device=""))

    def log_scalars(self, values: dict[str, float], step: int) -> None:
        raise NotImplementedError

    def log_text(self, key: str, text: str) -> None:
        raise NotImplementedError

    def finish(self, status: str) -> None:
        """``status``: "finished", "failed" or "killed"."""
        raise NotImplementedError

    # -- routing ----------------------------------------------------------------------------------------------
    def _epoch(self, e: EpochFinished) -> None:
        self.log_scalars({f"{e.phase}/{k}": float(getattr(e, k)) for k in EPOCH_METRICS}, e.epoch)

    def _distances(self, e: PartitionDistances) -> None:
        values = {f"distance/{e.phase}/{layer}": d for layer, d in e.per_layer.items()}
        values[f"distance/{e.phase}/mean_of_layers"] = e.mean_of_layers
        values[f"distance/{e.phase}/bit_weighted"] = e.bit_weighted
        self.log_scalars(values, e.epoch)

    def _early_bird(self, e: EarlyBirdFired) -> None:
        self.log_scalars({f"early_bird/{e.detector}/epoch": float(e.epoch)}, e.epoch)
        self.log_text(f"early_bird/{e.detector}", _json({"phase": e.phase, "epoch": e.epoch, "eps": e.eps,
                                                          "window": e.window, "fifo": e.fifo}))

    def _plan(self, e: PlanMade) -> None:
        key = f"plan/{e.pruner}@{e.ratio:g}"
        self.log_scalars({f"{key}/asked_ratio": e.asked_ratio, f"{key}/achieved_ratio": e.achieved_ratio}, 0)
        self.log_text(key, _json({"ticket": e.ticket, "ticket_epoch": e.ticket_epoch, "structured": e.structured,
                                  "layers": e.layers}))

    def _evaluated(self, e: Evaluated) -> None:
        key = f"result/{e.pruner}@{e.ratio:g}"
        values = {f"{key}/{k}": float(v) for k in RESULT_METRICS if (v := getattr(e, k)) is not None}
        if e.eb_epoch is not None:
            values[f"{key}/eb_epoch"] = float(e.eb_epoch)
        self.log_scalars(values, 0)

    def _pruner_failed(self, e: PrunerFailed) -> None:
        self.log_text(f"failed/{e.pruner}@{e.ratio if e.ratio is not None else 'all'}", f"{e.stage}: {e.error}")

    def _phase_finished(self, e: PhaseFinished) -> None:
        self.log_scalars({f"{e.phase}/phase_training_flops": e.training_flops,
                          f"{e.phase}/stopped_early": float(e.stopped_early)}, e.epochs)

    def _run_finished(self, e: RunFinished) -> None:
        if e.summary:
            self.log_text("summary", _json(e.summary))
        self.finish("finished")
        self.run_id = None

    def _run_failed(self, e: RunFailed) -> None:
        self.log_text("error", e.error)
        self.finish("failed")
        self.run_id = None


def _json(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, sort_keys=True, default=str)


_ROUTES: dict[type, Any] = {
    EpochFinished: Tracker._epoch,
    PartitionDistances: Tracker._distances,
    EarlyBirdFired: Tracker._early_bird,
    PlanMade: Tracker._plan,
    Evaluated: Tracker._evaluated,
    PrunerFailed: Tracker._pruner_failed,
    PhaseFinished: Tracker._phase_finished,
    RunFinished: Tracker._run_finished,
    RunFailed: Tracker._run_failed,
}
