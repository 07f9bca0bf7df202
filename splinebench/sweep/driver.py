"""The sweep driver: plan the grid, run the tasks on an executor, and write every trial into the store.

``plan_sweep`` does everything that can fail on bad input — load and override the profile, expand and validate every
trial, check every model, dataset and pruner name, build the task graph — before anything is recorded. ``run_sweep``
records the sweep, finds what a previous driver finished (``--resume``: the units in the store, the result files on
the storage), runs only the rest, and leaves a summary: which trials shared which dense phase, where each task ran,
and the training MACs charged once per sweep next to the trials' own totals.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splinebench.errors import BadInputError
from splinebench.profiles import Profile, load_profile, profile_from_dict
from splinebench.store import StoreReader, StoreWriter
from splinebench.sweep.executor import EXECUTORS, Executor
from splinebench.sweep.grid import SWEEP_SETTINGS, Trial, expand, grid_axes, point_text, sweep_table
from splinebench.sweep.plan import TaskGraph, build_graph
from splinebench.sweep.recorder import Observer, SweepRecorder, task_training_macs
from splinebench.sweep.storage import Storage, open_storage
from splinebench.sweep.table import finish_sweep, record_sweep, sweep_row
from splinebench.sweep.tasks import TaskResult, read_result

SUMMARY_FILE = "summary.json"
POLL_S = 0.2


@dataclass
class SweepRequest:
    """What the command line asked for; ``None`` leaves a setting to the profile's ``[sweep]`` table (or resume)."""

    store: str
    profile: str | None = None
    overrides: list[str] = field(default_factory=list)
    grid: list[str] = field(default_factory=list)
    executor: str | None = None
    workers: int | None = None
    address: str | None = None
    storage: str | None = None
    max_retries: int | None = None
    resume: str | None = None
    sweep_id: str | None = None  # chosen by the caller (tests, tools); a fresh one otherwise


@dataclass
class SweepPlan:
    sweep_id: str
    base: Profile  # after --set; its ``sweep`` table holds the resolved settings and grid
    settings: dict[str, Any]
    trials: list[Trial]
    graph: TaskGraph
    resumed: bool


@dataclass
class SweepOutcome:
    sweep_id: str
    ok: bool
    summary: dict[str, Any]


def new_sweep_id() -> str:
    return f"sweep-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


# --- planning (bad input fails here, before anything is recorded) ----------------------------------------------


def plan_sweep(request: SweepRequest) -> SweepPlan:
    if request.resume:
        row = sweep_row(request.store, request.resume)
        if row["status"] == "finished":
            raise BadInputError(f"sweep {row['id']} already finished; nothing to resume")
        sweep_id, source = row["id"], f"sweep {row['id']}"
        base = profile_from_dict(row["profile"])
        settings = dict(base.sweep)
        axes = row["grid"]
    else:
        if not request.profile:
            raise BadInputError("give a PROFILE to sweep, or --resume SWEEP_ID")
        source = request.profile
        base = load_profile(request.profile, request.overrides)
        settings = {k: v for k, v in sweep_table(base, source).items() if k in SWEEP_SETTINGS and k != "grid"}
        axes = grid_axes(base, request.grid, source)
        sweep_id = request.sweep_id or new_sweep_id()
    for name in ("executor", "workers", "address", "storage", "max_retries"):
        if getattr(request, name) is not None:
            settings[name] = getattr(request, name)
    settings = _checked_settings(settings, request.store, source)
    settings["grid"] = axes
    base = base.model_copy(update={"sweep": settings})
    _check_supported(base, source)
    trials = expand(base, axes, sweep_id, source)
    _preflight(trials, source)
    return SweepPlan(sweep_id, base, settings, trials, build_graph(sweep_id, trials), bool(request.resume))


def _checked_settings(settings: dict[str, Any], store: str, source: str) -> dict[str, Any]:
    out = dict(settings)
    out.setdefault("executor", "local")
    if out["executor"] not in EXECUTORS:
        raise BadInputError(f"{source}: executor {out['executor']!r}: expected one of {', '.join(EXECUTORS)}")
    for key, least in (("workers", 1), ("max_retries", 0), ("cpus_per_task", 1)):
        value = out.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < least):
            raise BadInputError(f"{source}: sweep.{key}: expected an integer >= {least} (got {value!r})")
    out.setdefault("max_retries", 2)
    if out["executor"] == "ray" and importlib.util.find_spec("ray") is None:
        from splinebench.sweep.ray_executor import INSTALL_HINT

        raise BadInputError(INSTALL_HINT)
    storage = out.get("storage") or str(Path(store).parent / "sweeps")
    out["storage"] = storage if "://" in storage else str(Path(storage).resolve())
    return out


def _check_supported(base: Profile, source: str) -> None:
    if base.energy not in ("", "none"):
        raise BadInputError(f"{source}: energy = {base.energy!r}: sweeps do not measure energy yet; use "
                            "`splinebench run` for metered runs (or set energy = 'none')")
    if base.remote:
        raise BadInputError(f"{source}: remote = {base.remote!r}: a sweep runs on its executor; drop `remote`")


def _preflight(trials: list[Trial], source: str) -> None:
    """Every model, dataset and pruner name of every trial, once per distinct combination (exit 2 on a bad one)."""
    from splinebench.engine.run import preflight

    seen: set[str] = set()
    for trial in trials:
        p = trial.profile
        key = repr((p.model.name, p.data.name, [e.name for e in p.prune.pruners]))
        if key in seen:
            continue
        seen.add(key)
        try:
            preflight(p)
        except BadInputError as exc:
            raise BadInputError(f"{source} (sweep trial {trial.index}: {point_text(trial.point)}): {exc}") from None


# --- running ---------------------------------------------------------------------------------------------------


def storage_for(plan: SweepPlan) -> Storage:
    root = plan.settings["storage"]
    return open_storage(f"{root.rstrip('/')}/{plan.sweep_id}")


def make_executor(plan: SweepPlan, storage: Storage) -> Executor:
    s = plan.settings
    if s["executor"] == "ray":
        from splinebench.sweep.ray_executor import RayExecutor

        return RayExecutor(storage, address=s.get("address"), workers=s.get("workers"),
                           cpus_per_task=s.get("cpus_per_task"), gpus_per_task=s.get("gpus_per_task"),
                           max_retries=s["max_retries"])
    from splinebench.sweep.local import LocalExecutor

    return LocalExecutor(storage, workers=s.get("workers"), max_retries=s["max_retries"])


def run_sweep(plan: SweepPlan, store: str, observers: Iterable[Observer] = (),
              executor_factory: Callable[[SweepPlan, Storage], Executor] = make_executor) -> SweepOutcome:
    """Run what is left of the sweep; returns whether every trial finished, and the sweep summary."""
    observers = list(observers)
    storage = storage_for(plan)
    if storage.local_path() is not None:
        storage.local_path().mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
    if plan.resumed:
        _refuse_if_alive(store, plan.graph)
    executor = executor_factory(plan, storage)  # a cluster that cannot be reached fails before anything is recorded
    emit = _emitter(observers, plan.sweep_id)
    started = time.time()
    writer: StoreWriter | None = None
    done = False
    try:
        writer = StoreWriter(store)
        record_sweep(writer, plan.sweep_id, plan.base.name, plan.base.model_dump(mode="json"), plan.settings["grid"])
        recorder = SweepRecorder(writer, plan.graph, storage.root, observers)
        if plan.resumed:
            recorder.read_store()
        _drive(plan, storage, executor, recorder, emit)
        executor.close()
        done = True
        ok = all(state.status == "finished" for state in recorder.trials.values())
        summary = sweep_summary(plan, recorder, time.time() - started)
        finish_sweep(writer, plan.sweep_id, "finished" if ok else "failed", summary)
        _write_summary(store, plan.sweep_id, summary)
        emit({"type": "sweep_finished", "status": "finished" if ok else "failed", "summary": summary})
        return SweepOutcome(plan.sweep_id, ok, summary)
    finally:
        if not done:  # interrupted or broken: stop the tasks; the sweep stays resumable
            executor.close(cancel=True)
        if writer is not None:
            writer.close()


def _drive(plan: SweepPlan, storage: Storage, executor: Executor, recorder: SweepRecorder,
           emit: Callable[[dict[str, Any]], None]) -> None:
    """Hand the recorder what earlier drivers finished, then run the rest, feeding results to it as they come."""
    graph = plan.graph
    finished = {k: r for k in [*graph.dense, *graph.branches] if (r := read_result(storage, k)) is not None}
    branches, dense = _left_to_run(graph, recorder, finished)
    emit({"type": "sweep_started", "executor": executor.describe(), "storage": storage.root,
          "resumed": plan.resumed, "tasks_to_run": len(dense) + len(branches),
          "trials": [{"trial": t.index, "run_id": t.run_id, "point": t.point,
                      "status": recorder.trials[t.run_id].status} for t in plan.trials],
          "nodes": executor.node_labels() if hasattr(executor, "node_labels") else {}})
    recorder.start(executor.device_for, executor.environment_for)
    for result in finished.values():
        recorder.accept(result)
    executor.submit(graph, dense, branches, {k: r for k, r in finished.items() if k in graph.dense})
    while executor.pending():
        outcomes, messages = executor.poll(POLL_S)
        for message in messages:
            kind = message.pop("kind")
            emit({"type": "task_event" if kind == "event" else kind, **message})
        for outcome in outcomes:
            if outcome.result is not None:
                emit({"type": "task_finished", "task": outcome.key, "node": outcome.result.node,
                      "seconds": outcome.result.seconds, "attempts": len(outcome.result.attempts)})
                recorder.accept(outcome.result)
            else:
                emit({"type": "task_failed", "task": outcome.key, "error": outcome.error})
                recorder.fail(outcome.key, outcome.error or "?")


def _left_to_run(graph: TaskGraph, recorder: SweepRecorder,
                 finished: dict[str, TaskResult]) -> tuple[list[str], list[str]]:
    """Branch tasks whose unit is not in the store and left no result; the dense tasks they, or trials, still need."""
    written = {run_id: recorder.done_units(run_id) for run_id in recorder.trials}
    branches = [k for k, b in graph.branches.items() if k not in written[b.run_id] and k not in finished]
    needed = {graph.branches[k].dense_key for k in branches}
    needed |= {k for k, d in graph.dense.items() if any(k not in written[r] for r in d.run_ids)}
    dense = [k for k in graph.dense if k in needed and k not in finished]
    return branches, dense


def _emitter(observers: list[Observer], sweep_id: str) -> Callable[[dict[str, Any]], None]:
    def emit(record: dict[str, Any]) -> None:
        record = {"sweep_id": sweep_id, "ts": time.time(), **record}
        for observer in observers:
            observer(record)

    return emit


def _refuse_if_alive(store: str, graph: TaskGraph) -> None:
    reader = StoreReader(store)
    try:
        for plan in graph.trials:
            try:
                row = reader.run(plan.run_id)
            except BadInputError:
                continue
            if row.status == "running" and row.host == socket.gethostname() and row.pid not in (None, os.getpid()):
                raise BadInputError(f"sweep {graph.sweep_id} is still running (driver pid {row.pid} on {row.host}); "
                                    "stop it before resuming")
    finally:
        reader.close()


# --- the summary -------------------------------------------------------------------------------------------------


def sweep_summary(plan: SweepPlan, recorder: SweepRecorder, seconds: float) -> dict[str, Any]:
    """Shared dense phases, where every task ran, and the training MACs: charged once per sweep, and in full."""
    graph, results = plan.graph, recorder.results
    dense = {}
    for key, task in graph.dense.items():
        r = results.get(key)
        dense[key] = {"phase": task.phase, "trials": list(task.run_ids), "training_macs": task_training_macs(r),
                      "nodes": [a["node"] for a in r.attempts] if r else [],
                      "attempts": len(r.attempts) if r else 0}
    branches = {}
    for key, task in graph.branches.items():
        r = results.get(key)
        branches[key] = {"trial": task.run_id, "pruner": task.label, "ratio": task.ratio,
                         "training_macs": task_training_macs(r), "nodes": [a["node"] for a in r.attempts] if r else [],
                         "attempts": len(r.attempts) if r else 0}
    trials = {}
    for t in graph.trials:
        own = recorder.trial_summary(t)
        trials[t.run_id] = {"trial": t.trial.index, "point": t.trial.point, "status": recorder.trials[t.run_id].status,
                            "dense_tasks": t.dense_keys(), "training_macs": own["training_macs"]["total"]}
    charged_once = sum(d["training_macs"] for d in dense.values()) + sum(b["training_macs"] for b in branches.values())
    in_full = sum(t["training_macs"] for t in trials.values())
    nodes: dict[str, int] = {}
    for entry in [*dense.values(), *branches.values()]:
        if entry["nodes"]:
            nodes[entry["nodes"][-1]] = nodes.get(entry["nodes"][-1], 0) + 1
    return {
        "sweep_id": plan.sweep_id, "executor": plan.settings["executor"], "seconds": seconds,
        "training_macs": {"charged_once": charged_once, "trials_in_full": in_full, "saved": in_full - charged_once},
        "trials": trials, "dense_tasks": dense, "branch_tasks": branches, "tasks_per_node": nodes,
    }


def _write_summary(store: str, sweep_id: str, summary: dict[str, Any]) -> None:
    path = Path(store).parent / "sweeps" / sweep_id / SUMMARY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(summary, indent=1, default=str))
    os.replace(tmp, path)
