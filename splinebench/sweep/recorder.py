"""The sweep driver's store writer: numbers every trial's events and writes each one exactly once.

Each trial's stream is the fixed sequence of units of its plan (``plan.Unit``): RunStarted; the ModelFlops event
and each dense group's events (copied from the shared dense task into every trial that shares it); each branch's
events in ``Pipeline.run`` order; RunFinished. A unit is written in one transaction as soon as it and every unit
before it are available, so the store always holds a whole-unit prefix of each trial. A resumed driver reads that
prefix back (which units, and the last sequence number) and continues numbering from there: nothing is written
twice, and the numbers are the ones an undisturbed sweep gives.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from splinebench.engine.events import ModelFlops, PrunerFailed, RunFailed, RunFinished, RunStarted
from splinebench.engine.pipeline import run_started_fields
from splinebench.errors import BadInputError
from splinebench.store import StoreWriter
from splinebench.sweep.plan import TaskGraph, TrialPlan, Unit
from splinebench.sweep.tasks import TaskResult

Record = dict[str, Any]
Observer = Callable[[Record], None]


@dataclass
class TrialState:
    plan: TrialPlan
    written: int = 0  # units[:written] are in the store
    next_seq: int = 1
    status: str = "pending"  # pending | running | finished | failed
    started: float = field(default_factory=time.time)


class SweepRecorder:
    """Turns task results into numbered trial events in the store (and hands each written event to observers)."""

    def __init__(self, writer: StoreWriter, graph: TaskGraph, results_dir: str,
                 observers: list[Observer] | None = None) -> None:
        self.writer = writer
        self.graph = graph
        self.results_dir = results_dir
        self.observers = observers or []
        self.trials = {t.run_id: TrialState(t) for t in graph.trials}
        self.results: dict[str, TaskResult] = {}
        self.failed_tasks: dict[str, str] = {}

    # -- what the store already holds (resume) ------------------------------------------------------------------
    def read_store(self) -> None:
        """Find each trial's written units; a trial that failed gets its RunFailed removed, to be tried again."""
        for run_id, state in self.trials.items():
            rows = self.writer.conn.execute(
                "SELECT seq, type, payload FROM events WHERE run_id=? ORDER BY seq", (run_id,)
            ).fetchall()
            if rows and rows[-1][1] == "run_failed":
                self.writer.truncate_after(run_id, rows[-1][0] - 1)
                rows = rows[:-1]
            events = [json.loads(r[2]) for r in rows]
            present = [_present(unit, events) for unit in state.plan.units]
            state.written = present.index(False) if False in present else len(present)
            if any(present[state.written:]):
                raise BadInputError(f"trial {run_id}: the store holds units out of order; it was not written by "
                                    "this sweep's plan (was the profile or grid changed?)")
            state.next_seq = (rows[-1][0] + 1) if rows else 1
            state.status = "finished" if state.written == len(state.plan.units) else (
                "running" if state.written else "pending")

    def done_units(self, run_id: str) -> set[str]:
        state = self.trials[run_id]
        return {u.task or u.name for u in state.plan.units[: state.written]}

    # -- writing ------------------------------------------------------------------------------------------------
    def start(self, device_for: Callable[[dict[str, Any]], str],
              environment_for: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None) -> None:
        """Write RunStarted for every trial that has none, so the whole sweep shows in the store from the start;
        ``environment_for`` gives the fingerprint its tasks will train in, where the executor knows it."""
        driver = {"host": socket.gethostname(), "pid": os.getpid()}
        for run_id, state in self.trials.items():
            if state.status == "finished":
                continue
            if state.written == 0:
                p = state.plan.trial.profile
                assert state.plan.plan is not None
                data = p.model_dump(mode="json")
                fields = run_started_fields(p, state.plan.plan, device_for(data), self.results_dir)
                environment = environment_for(data) if environment_for is not None else None
                event = RunStarted(run_id=run_id, seq=state.next_seq, ts=time.time(), **fields, environment=environment,
                                   sweep_id=self.graph.sweep_id, **driver)
                self._write(state, [event.to_dict()])
            else:
                self.writer.set_run_fields(run_id, **driver, status="running")
            state.status = "running"
            state.started = time.time()
        for state in self.trials.values():
            self._advance(state)  # units that need no task (import failures) and resumed tails

    def accept(self, result: TaskResult) -> None:
        self.results[result.key] = result
        for run_id in self._trials_of(result.key):
            self._advance(self.trials[run_id])

    def fail(self, task_key: str, error: str) -> list[str]:
        """A task that cannot finish fails every trial that needs it; returns those trials' run ids."""
        self.failed_tasks[task_key] = error
        failed = []
        for run_id in self._trials_of(task_key):
            state = self.trials[run_id]
            if state.status in ("finished", "failed"):
                continue
            payload = RunFailed(run_id=run_id, seq=state.next_seq, ts=time.time(),
                                error=f"task {task_key}: {error}").to_dict()
            self._write(state, [payload])
            state.status = "failed"
            failed.append(run_id)
        return failed

    def _trials_of(self, task_key: str) -> list[str]:
        if task_key in self.graph.dense:
            return list(self.graph.dense[task_key].run_ids)
        if task_key in self.graph.branches:
            return [self.graph.branches[task_key].run_id]
        return []

    def _advance(self, state: TrialState) -> None:
        if state.status == "failed":
            return
        units = state.plan.units
        while state.written < len(units):
            payloads = self._unit_events(state, units[state.written])
            if payloads is None:
                return
            self._write(state, payloads)
        state.status = "finished"

    def _unit_events(self, state: TrialState, unit: Unit) -> list[dict[str, Any]] | None:
        """The unit's events (not yet numbered), or None while its task has not returned."""
        if unit.kind == "start":
            return None  # written by start()
        if unit.kind == "import_failed":
            return [PrunerFailed(run_id="", pruner=unit.label, ratio=unit.ratio, error=unit.error,
                                 stage="import", phase=unit.phase).to_dict()]
        if unit.kind == "finish":
            return [RunFinished(run_id="", seconds=time.time() - state.started,
                                summary=self.trial_summary(state.plan)).to_dict()]
        result = self.results.get(unit.task)
        if result is None:
            return None
        events = list(result.events)
        if unit.kind == "dense" and unit == next(u for u in state.plan.units if u.kind == "dense"):
            cost = result.dense_cost or {}
            events.insert(0, ModelFlops(run_id="", tag="dense", params=cost.get("params", 0),
                                        flops=cost.get("flops", 0.0),
                                        unsupported_ops=cost.get("unsupported_ops", {})).to_dict())
        return events

    def _write(self, state: TrialState, payloads: list[dict[str, Any]]) -> None:
        trial = state.plan.trial
        numbered = []
        for i, payload in enumerate(payloads):
            event = dict(payload)
            event["run_id"] = trial.run_id
            event["seq"] = state.next_seq + i
            if not event.get("ts"):  # made here, not by a task
                event["ts"] = time.time()
            numbered.append(event)
        self.writer.write_many(numbered)
        state.next_seq += len(numbered)
        if numbered and numbered[0]["type"] != "run_failed":
            state.written += 1
        for event in numbered:
            record = {**event, "trial": trial.index, "sweep_id": self.graph.sweep_id}
            for observer in self.observers:
                observer(record)

    # -- accounting ---------------------------------------------------------------------------------------------
    def trial_summary(self, plan: TrialPlan) -> dict[str, Any]:
        """What RunFinished records for a trial: the shared dense tasks, where each task ran, its training MACs."""
        dense = {}
        nodes = {}
        dense_macs = retrain_macs = 0.0
        for key in plan.dense_keys():
            task = self.graph.dense[key]
            macs = task_training_macs(self.results.get(key))
            dense_macs += macs
            dense[task.phase] = {"task": key, "shared_with": [r for r in task.run_ids if r != plan.run_id],
                                 "training_macs": macs}
        for key in plan.branch_keys():
            retrain_macs += task_training_macs(self.results.get(key))
        for key in plan.dense_keys() + plan.branch_keys():
            if key in self.results:
                nodes[key] = self.results[key].node
        trial = plan.trial
        return {
            "seconds": time.time() - self.trials[plan.run_id].started, "sweep_id": self.graph.sweep_id,
            "trial": trial.index, "point": trial.point, "dense": dense, "nodes": nodes,
            # the paper counts a single run: the dense phase in full, shared or not
            "training_macs": {"dense": dense_macs, "retrain": retrain_macs, "total": dense_macs + retrain_macs},
        }


def task_training_macs(result: TaskResult | None) -> float:
    """Training MACs of a task: its phase's PhaseFinished count (dense: tracker passes included)."""
    if result is None:
        return 0.0
    return sum(float(e.get("training_flops", 0.0)) for e in result.events if e["type"] == "phase_finished")


def _present(unit: Unit, events: list[dict[str, Any]]) -> bool:
    if unit.kind == "start":
        return any(e["type"] == "run_started" for e in events)
    if unit.kind == "finish":
        return any(e["type"] == "run_finished" for e in events)
    if unit.kind == "dense":
        return any(e["type"] == "phase_finished" and e.get("phase") == unit.phase for e in events)
    return any(e["type"] in ("evaluated", "pruner_failed") and _is_branch(e, unit) for e in events)


def _is_branch(event: dict[str, Any], unit: Unit) -> bool:
    """Whether a result event belongs to ``unit``: by its phase (events written before they carried one: by label
    and the exact ratio, which JSON round-trips)."""
    if event.get("phase"):
        return event["phase"] == unit.phase
    return event.get("pruner") == unit.label and event.get("ratio") == unit.ratio
