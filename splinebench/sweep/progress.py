"""What people and programs see of a running sweep: one rich view on stderr, JSON lines on stdout (``--json``).

Both are observers of the driver's *records*: the engine events as they are written to the store (each carrying
``trial`` and ``sweep_id`` besides its ``run_id``), the task lifecycle (``task_started``, ``task_held``,
``task_finished``, ``task_failed``, with the node and pid), and ``sweep_started``/``sweep_finished``. Live epoch
progress from the workers (``task_event``) feeds the view only: the numbered copy of each event follows on stdout
when its unit is written.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

#: records for the view only (the store-numbered copies of their events reach stdout later)
LIVE_ONLY = ("task_event",)


class JsonRecords:
    """One JSON object per record on stdout."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, record: dict[str, Any]) -> None:
        if record.get("type") in LIVE_ONLY:
            return
        self.stream.write(json.dumps(record, default=str) + "\n")
        self.stream.flush()


class SweepProgress:
    """Trials done/running/failed, tasks done of all, and per node (Ray) or worker (local) what runs now."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.live = Live(console=self.console, refresh_per_second=4, transient=False, auto_refresh=False)
        self.sweep_id = ""
        self.executor = ""
        self.trials: dict[str, str] = {}  # run id -> pending | running | finished | failed
        self.tasks_total = 0
        self.tasks_done = 0
        self.tasks_failed = 0
        self.running: dict[str, dict[str, Any]] = {}  # task -> {node, phase, epoch, epochs, attempt}
        self.per_node_done: dict[str, int] = defaultdict(int)
        self.node_labels: dict[str, str] = {}

    def __enter__(self) -> SweepProgress:
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.update(self.render(), refresh=True)
        self.live.stop()

    def __call__(self, record: dict[str, Any]) -> None:
        handler = getattr(self, f"_on_{record.get('type')}", None)
        if handler is not None:
            handler(record)
            self.live.update(self.render(), refresh=True)

    # -- records ------------------------------------------------------------------------------------------------
    def _on_sweep_started(self, r: dict[str, Any]) -> None:
        self.sweep_id, self.executor = r["sweep_id"], r.get("executor", "")
        self.trials = {t["run_id"]: t.get("status", "pending") for t in r["trials"]}
        self.tasks_total = r.get("tasks_to_run", 0)
        self.node_labels = r.get("nodes", {})

    def _on_run_started(self, r: dict[str, Any]) -> None:
        self.trials[r["run_id"]] = "running"

    def _on_run_finished(self, r: dict[str, Any]) -> None:
        self.trials[r["run_id"]] = "finished"

    def _on_run_failed(self, r: dict[str, Any]) -> None:
        self.trials[r["run_id"]] = "failed"

    def _on_task_started(self, r: dict[str, Any]) -> None:
        resumed = r.get("resumed_from")
        self.running[r["task"]] = {"node": r.get("node", "?"), "pid": r.get("pid"), "attempt": r.get("attempt", 1),
                                   "phase": "set-up", "epoch": resumed["epoch"] if resumed else 0, "epochs": None}

    def _on_task_held(self, r: dict[str, Any]) -> None:
        if r["task"] in self.running:
            self.running[r["task"]]["phase"] = f"{r['phase']} HELD"

    def _on_task_event(self, r: dict[str, Any]) -> None:
        event, task = r["event"], self.running.get(r["task"])
        if task is None:
            return
        if event["type"] == "phase_started":
            task.update(phase=event["phase"], epoch=0, epochs=event["epochs"])
        elif event["type"] == "epoch_finished":
            task.update(phase=event["phase"], epoch=event["epoch"], acc=event["test_acc"])

    def _on_task_finished(self, r: dict[str, Any]) -> None:
        self.tasks_done += 1
        info = self.running.pop(r["task"], None)
        self.per_node_done[r.get("node") or (info or {}).get("node", "?")] += 1

    def _on_task_failed(self, r: dict[str, Any]) -> None:
        self.tasks_failed += 1
        self.running.pop(r["task"], None)

    # -- the view -----------------------------------------------------------------------------------------------
    def render(self) -> Table:
        states = list(self.trials.values())
        head = Text.assemble(
            (f"sweep {self.sweep_id}", "bold"), f"  {self.executor}\n",
            f"trials: {states.count('finished')} done, {states.count('running')} running, ",
            (f"{states.count('failed')} failed", "red" if "failed" in states else ""), f" of {len(states)}   ",
            f"tasks: {self.tasks_done}/{self.tasks_total} done" + (f", {self.tasks_failed} failed"
                                                                    if self.tasks_failed else ""),
        )
        bar = ProgressBar(total=max(self.tasks_total, 1), completed=self.tasks_done + self.tasks_failed, width=60)
        nodes = sorted({info["node"] for info in self.running.values()} | set(self.per_node_done))
        table = Table(box=None, padding=(0, 1), show_edge=False)
        for column in ("node", "running", "done"):
            table.add_column(column)
        for node in nodes:
            now = [f"{task} {info['phase']} {info['epoch']}/{info['epochs'] or '?'}"
                   + (f" (try {info['attempt']})" if info["attempt"] > 1 else "")
                   for task, info in self.running.items() if info["node"] == node]
            label = self.node_labels.get(node, node)
            table.add_row(label[:40], "\n".join(now) or "-", str(self.per_node_done.get(node, 0)))
        layout = Table.grid()
        layout.add_row(head)
        layout.add_row(bar)
        if nodes:
            layout.add_row(table)
        return layout
