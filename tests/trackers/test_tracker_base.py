"""The tracker base: one tracker run per splinebench run, shared metric names, failures that never stop training."""

from __future__ import annotations

from typing import ClassVar

from splinebench.engine.events import EpochFinished, EventBus, RunFinished, RunStarted
from splinebench.trackers import Tracker


class Recording(Tracker):
    name: ClassVar[str] = "recording"
    fail_on: ClassVar[str | None] = None

    def __init__(self, target: str | None = None) -> None:
        super().__init__(target)
        self.calls: list[tuple] = []

    def start(self, event):
        self.calls.append(("start", event.run_id))

    def log_scalars(self, values, step):
        if self.fail_on and any(k.endswith(self.fail_on) for k in values):
            raise OSError("disk full")
        self.calls.append(("scalars", dict(values), step))

    def log_text(self, key, text):
        self.calls.append(("text", key))

    def finish(self, status):
        self.calls.append(("finish", status))


def _run(bus: EventBus) -> None:
    bus.emit(RunStarted, name="n", profile={"train": {"epochs": 1}}, versions={}, model="m", dataset="d", seed=0,
             device="cpu")
    bus.emit(EpochFinished, phase="dense", epoch=1, train_loss=0.5, train_acc=0.8, test_loss=0.6, test_acc=0.7,
             lr=0.1, seconds=1.0, samples=10, training_flops=1e6)
    bus.emit(RunFinished, seconds=1.0)


def test_a_run_opens_logs_under_shared_names_and_closes_one_tracker_run():
    tracker = Recording()
    bus = EventBus("r1")
    bus.subscribe(tracker)
    _run(bus)
    assert tracker.calls[0] == ("start", "r1") and tracker.calls[-1] == ("finish", "finished")
    scalars = next(c for c in tracker.calls if c[0] == "scalars")
    assert scalars[1]["dense/test_acc"] == 0.7 and scalars[2] == 1
    tracker.close()  # already finished: nothing is finished twice
    assert [c for c in tracker.calls if c[0] == "finish"] == [("finish", "finished")]


def test_a_failing_tracker_stops_logging_without_touching_the_run():
    tracker = Recording()
    tracker.fail_on = "test_acc"
    seen = []
    bus = EventBus("r2")
    bus.subscribe(tracker)
    bus.subscribe(seen.append)
    _run(bus)
    assert tracker.error == "OSError: disk full"
    assert [e.type for e in seen] == ["run_started", "epoch_finished", "run_finished"]  # the others still got all
    assert bus.errors == []  # the tracker kept its failure to itself, for the CLI's warning
    assert ("finish", "finished") not in tracker.calls


def test_an_interrupted_run_is_closed_as_killed():
    tracker = Recording()
    bus = EventBus("r3")
    bus.subscribe(tracker)
    bus.emit(RunStarted, name="n", profile={}, versions={}, model="m", dataset="d", seed=0, device="cpu")
    tracker.close()
    assert tracker.calls[-1] == ("finish", "killed")
