"""The worker side of a sweep: one dense task or one branch task, resumable, in a task directory on shared storage.

A task runs the engine's public steps (``Pipeline.prepare(emit_start=False)`` then ``dense(group)`` or
``branch(branch, ratio, dense)``) with its own event bus numbered from 1. Every event is appended to the task's
``events.jsonl``; the engine's checkpoint (``state.pt``, every epoch) records how many there were. A retried task —
its worker process killed, its node lost — truncates the log to the checkpoint's count and continues the phase from
that epoch, so what it finally returns is the same list of events an undisturbed task returns. Workers never open
the store: they send a few live events to the driver's progress view and return their events with the result; the
driver numbers them into each trial's stream.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splinebench.engine import checkpoints
from splinebench.engine.events import Event, EventBus
from splinebench.engine.pipeline import Pipeline
from splinebench.engine.state import DenseResult
from splinebench.profiles import profile_from_dict
from splinebench.sweep.plan import BranchTask, DenseTask
from splinebench.sweep.storage import ATTEMPTS, EVENTS, HOLD, RESULT, STATE, Storage

Progress = Callable[[dict[str, Any]], None]

#: the live events worth sending to the driver's progress view (the rest come back with the result)
LIVE_EVENTS = ("phase_started", "epoch_finished", "phase_finished", "early_bird_fired", "evaluated", "pruner_failed")
HOLD_POLL_S = 0.1


@dataclass
class TaskResult:
    key: str
    kind: str  # "dense" | "branch"
    events: list[dict[str, Any]]
    dense: DenseResult | None = None  # dense tasks: ticket paths relative to the task directory
    dense_cost: dict[str, Any] | None = None  # the dense model's params and forward MACs (the ModelFlops event)
    device: str = ""
    attempts: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def node(self) -> str:
        return self.attempts[-1]["node"] if self.attempts else ""

    def to_dict(self) -> dict[str, Any]:
        """Plain data (what ``result.pt`` holds: loaded with ``weights_only=True``)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["dense"] = None if self.dense is None else self.dense.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskResult:
        dense = data.get("dense")
        return cls(**{**data, "dense": None if dense is None else DenseResult.from_dict(dense)})


def where() -> dict[str, Any]:
    """The node (Ray node id inside a Ray worker, else the host name), host and pid running this code."""
    node = socket.gethostname()
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        node = ray.get_runtime_context().get_node_id()
    return {"node": node, "host": socket.gethostname(), "pid": os.getpid()}


class EventLog:
    """The task's events as JSON lines, flushed per event and fsynced before each checkpoint."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stream: Any = None

    def restore(self, seq: int) -> bool:
        """Keep the first ``seq`` events (those the checkpoint knows); False when fewer survived."""
        kept = self.read()[:seq]
        if len(kept) < seq or (kept and kept[-1]["seq"] != seq):
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(e) + "\n" for e in kept))
        os.replace(tmp, self.path)
        return True

    def __call__(self, event: Event) -> None:
        if self.stream is None:
            self.stream = open(self.path, "a")  # noqa: SIM115 - kept open for the task's life
        self.stream.write(json.dumps(event.to_dict()) + "\n")
        self.stream.flush()

    def sync(self) -> None:
        if self.stream is not None:
            self.stream.flush()
            os.fsync(self.stream.fileno())

    def read(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a line cut by a kill: everything after it is lost anyway
        return out

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None


class TaskPipeline(Pipeline):
    """The engine's pipeline, plus what a sweep task does at each checkpoint.

    Before the checkpoint is written the event log is made durable (so the checkpoint never counts events the log
    lost); after it, the task's files are published to the storage, and a ``HOLD`` file makes the task wait.
    """

    def __init__(self, *args: Any, task_key: str, storage: Storage, log: EventLog, progress: Progress,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.task_key = task_key
        self.storage = storage
        self.log = log
        self.progress = progress
        self.published: set[str] = set()

    def before_checkpoint(self) -> None:
        self.log.sync()

    def after_checkpoint(self) -> None:
        self.publish()
        current = self.state.current
        if current is not None:
            self._wait_while_held(current.phase, current.epoch)

    def publish(self) -> None:
        tickets = {f"tickets/{p.name}" for p in (self.run_dir / "tickets").glob("*.pt")} - self.published
        self.storage.publish(self.task_key, [STATE, EVENTS, ATTEMPTS, *sorted(tickets)])
        self.published |= tickets

    def _wait_while_held(self, phase: str, epoch: int) -> None:
        if not self._held():
            return
        self.progress({"kind": "task_held", "task": self.task_key, "phase": phase, "epoch": epoch, **where()})
        while self._held():
            time.sleep(HOLD_POLL_S)

    def _held(self) -> bool:
        return (self.run_dir / HOLD).exists() or (
            self.storage.local_path() is None and self.storage.exists(self.task_key, HOLD)
        )


def run_dense_task(task: DenseTask, storage: Storage, threads: int, device: str | None,
                   progress: Progress) -> TaskResult:
    """Train one shared dense phase (or finish it from its checkpoint) and return its events and tickets."""
    return _run(task.key, "dense", task.profile, storage, threads, device, progress,
                lambda pipe: _dense_step(pipe, task))


def run_branch_task(task: BranchTask, dense: TaskResult, storage: Storage, threads: int, device: str | None,
                    progress: Progress) -> TaskResult:
    """Plan, prune, retrain and evaluate one (pruner, ratio) on a finished dense task's tickets."""
    assert dense.dense is not None
    ready = localize(dense.dense, storage, dense.key)
    return _run(task.key, "branch", task.profile, storage, threads, device, progress,
                lambda pipe: _branch_step(pipe, task, ready))


def _dense_step(pipe: TaskPipeline, task: DenseTask) -> dict[str, Any]:
    result = pipe.dense(task.group)
    cost = pipe.dense_cost
    return {
        "dense": relative(result, pipe.run_dir),
        "dense_cost": {"params": cost.params, "flops": cost.flops, "unsupported_ops": dict(cost.unsupported_ops)},
    }


def _branch_step(pipe: TaskPipeline, task: BranchTask, dense: DenseResult) -> dict[str, Any]:
    for branch, run in pipe.branch_tasks():
        if run.phase == task.phase:
            pipe.branch(branch, run, dense)
            return {}
    raise RuntimeError(f"task {task.key}: the profile's run plan has no phase {task.phase!r}")


def _run(key: str, kind: str, profile_data: dict[str, Any], storage: Storage, threads: int, device: str | None,
         progress: Progress, step: Callable[[TaskPipeline], dict[str, Any]]) -> TaskResult:
    task_dir = storage.fetch(key)
    task_dir.mkdir(parents=True, exist_ok=True)
    if (task_dir / RESULT).is_file():  # done before (a retry after the result was written)
        return load_result(task_dir / RESULT)
    started = time.time()
    state = checkpoints.load_state(task_dir)
    log = EventLog(task_dir / EVENTS)
    if state is not None and not log.restore(state.seq):
        state = None  # the log lost events the checkpoint counts: start the task again (it is deterministic)
    if state is None:
        for stale in (task_dir / STATE, task_dir / EVENTS):
            stale.unlink(missing_ok=True)
    current = state.current if state is not None else None
    attempt = {
        "attempt": len(_read_lines(task_dir / ATTEMPTS)) + 1, "started": started, **where(),
        "resumed_from": {"phase": current.phase, "epoch": current.epoch} if current else None,
    }
    with open(task_dir / ATTEMPTS, "a") as fh:
        fh.write(json.dumps(attempt) + "\n")
    progress({"kind": "task_started", "task": key, **attempt})

    changes: dict[str, Any] = {"threads": threads}
    if device is not None:
        changes["device"] = device
    profile = profile_from_dict({**profile_data, **changes})
    bus = EventBus(key, start_seq=state.seq if state else 0)
    bus.subscribe(log, required=True)  # the task's record: an event it cannot take stops the task
    bus.subscribe(_live(key, progress))
    pipe = TaskPipeline(profile, key, task_dir, bus, resume=state, task_key=key, storage=storage, log=log,
                        progress=progress)
    try:
        pipe.prepare(emit_start=False)
        extra = step(pipe)
        log.sync()
    finally:
        log.close()
    result = TaskResult(key, kind, log.read(), device=str(pipe.device), attempts=_read_lines(task_dir / ATTEMPTS),
                        seconds=time.time() - started, **extra)
    checkpoints.atomic_save(result.to_dict(), task_dir / RESULT)
    storage.publish(key, [EVENTS, ATTEMPTS, RESULT])
    return result


def _live(key: str, progress: Progress) -> Callable[[Event], None]:
    def forward(event: Event) -> None:
        if event.type in LIVE_EVENTS:
            progress({"kind": "event", "task": key, "event": event.to_dict(), **where()})

    return forward


def _read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def load_result(path: Path) -> TaskResult:
    return TaskResult.from_dict(checkpoints.load(path))


def read_result(storage: Storage, key: str) -> TaskResult | None:
    """A finished task's result, if it left one (the driver's way to skip finished work on resume)."""
    if not storage.exists(key, RESULT):
        return None
    return load_result(storage.fetch(key, [RESULT]) / RESULT)


def relative(result: DenseResult, task_dir: Path) -> DenseResult:
    """Ticket paths relative to the task directory, so any node can find them under its own view of the storage."""
    tickets = {k: os.path.relpath(v, task_dir) for k, v in result.tickets.items()}
    return dataclasses.replace(result, tickets=tickets)


def localize(result: DenseResult, storage: Storage, dense_key: str) -> DenseResult:
    """The dense task's tickets fetched to this node, with paths a branch pipeline can load."""
    local = storage.fetch(dense_key, sorted(set(result.tickets.values())))
    return dataclasses.replace(result, tickets={k: str(local / v) for k, v in result.tickets.items()})
