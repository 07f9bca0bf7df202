"""The driver's numbering: whole units in plan order, shared dense events in every trial, nothing written twice."""

from __future__ import annotations

import sqlite3

import pytest

from splinebench.engine.events import EpochFinished, Evaluated, PhaseFinished, PhaseStarted
from splinebench.store import StoreWriter
from splinebench.sweep.grid import expand
from splinebench.sweep.plan import build_graph
from splinebench.sweep.recorder import SweepRecorder
from splinebench.sweep.tasks import TaskResult


@pytest.fixture
def graph(tiny_profile):
    """Two trials (ratios 0.3 and 0.5) sharing one dense task; each with branches spline and eb-spline."""
    trials = expand(tiny_profile(), {"prune.ratios": [[0.3], [0.5]], "seed": [0]}, "sweep-r", "p.toml")
    return build_graph("sweep-r", trials)


def _dense(key: str) -> TaskResult:
    events = [
        PhaseStarted(run_id=key, seq=1, ts=1.0, phase="dense", kind="dense", epochs=1),
        EpochFinished(run_id=key, seq=2, ts=2.0, phase="dense", epoch=1, train_loss=1.0, train_acc=0.5, test_loss=1.0,
                      test_acc=0.5, lr=0.1, seconds=1.0, samples=10, training_flops=100.0),
        PhaseFinished(run_id=key, seq=3, ts=3.0, phase="dense", epochs=1, seconds=1.0, training_flops=100.0),
    ]
    return TaskResult(key, "dense", [e.to_dict() for e in events], dense_cost={"params": 7, "flops": 3.0})


def _branch(graph, key: str) -> TaskResult:
    task = graph.branches[key]
    phase = f"retrain:{task.label}@{task.ratio:g}"
    events = [
        PhaseStarted(run_id=key, seq=1, ts=4.0, phase=phase, kind="retrain", epochs=1),
        PhaseFinished(run_id=key, seq=2, ts=5.0, phase=phase, epochs=1, seconds=1.0, training_flops=10.0),
        Evaluated(run_id=key, seq=3, ts=6.0, pruner=task.label, ratio=task.ratio, accuracy=0.9, loss=0.1,
                  ticket="final", eb_epoch=None, dense_training_flops=100.0, retrain_training_flops=10.0,
                  total_training_flops=110.0, params=5, flops=2.0),
    ]
    return TaskResult(key, "branch", [e.to_dict() for e in events])


def _results(graph) -> list[TaskResult]:
    return [*(_dense(k) for k in graph.dense), *(_branch(graph, k) for k in graph.branches)]


def _stream(store: str, run_id: str) -> list[tuple]:
    db = sqlite3.connect(store)
    rows = db.execute("SELECT seq, type FROM events WHERE run_id=? ORDER BY seq", (run_id,)).fetchall()
    db.close()
    return rows


def _record(store: str, graph, results: list[TaskResult]) -> SweepRecorder:
    recorder = SweepRecorder(StoreWriter(store), graph, "/storage")
    recorder.read_store()
    recorder.start(lambda profile: "cpu")
    for result in results:
        recorder.accept(result)
    return recorder


def test_results_arriving_out_of_order_are_written_in_plan_order_with_the_shared_dense_events_in_each(tmp_path,
                                                                                                        graph):
    store = str(tmp_path / "store.sqlite")
    written = []
    recorder = SweepRecorder(StoreWriter(store), graph, "/storage", [written.append])
    recorder.start(lambda profile: "cpu")
    for result in reversed(_results(graph)):  # branches first, the dense task last
        recorder.accept(result)
    expected = [(1, "run_started"), (2, "model_flops"), (3, "phase_started"), (4, "epoch_finished"),
                (5, "phase_finished"), (6, "phase_started"), (7, "phase_finished"), (8, "evaluated"),
                (9, "phase_started"), (10, "phase_finished"), (11, "evaluated"), (12, "run_finished")]
    for trial in graph.trials:
        assert _stream(store, trial.run_id) == expected
        assert recorder.trials[trial.run_id].status == "finished"
    assert {r["trial"] for r in written} == {0, 1}
    assert all(r["sweep_id"] == "sweep-r" for r in written)


def test_a_resumed_recorder_continues_the_numbering_and_writes_nothing_twice(tmp_path, graph):
    whole = str(tmp_path / "whole.sqlite")
    _record(whole, graph, _results(graph))
    store = str(tmp_path / "store.sqlite")
    dense, *branches = _results(graph)
    first = _record(store, graph, [dense, branches[1]])  # branch 0 missing: branch 1 waits, unwritten
    assert [t for _, t in _stream(store, graph.trials[0].run_id)][-1] == "phase_finished"
    first.writer.close()
    _record(store, graph, [dense, *branches])  # a new driver: reads the store, accepts everything again
    for trial in graph.trials:
        assert _stream(store, trial.run_id) == _stream(whole, trial.run_id)


def test_a_failed_task_fails_only_its_trial_and_a_resume_tries_that_trial_again(tmp_path, graph):
    store = str(tmp_path / "store.sqlite")
    dense, *branches = _results(graph)
    doomed = branches[0]
    doomed_trial = graph.branches[doomed.key].run_id
    recorder = _record(store, graph, [dense, *branches[1:]])
    assert recorder.fail(doomed.key, "RuntimeError: boom") == [doomed_trial]
    assert _stream(store, doomed_trial)[-1][1] == "run_failed"
    other = next(t.run_id for t in graph.trials if t.run_id != doomed_trial)
    assert recorder.trials[other].status == "finished"
    recorder.writer.close()
    again = _record(store, graph, [dense, *branches])
    assert again.trials[doomed_trial].status == "finished"
    types = [t for _, t in _stream(store, doomed_trial)]
    assert "run_failed" not in types and types[-1] == "run_finished"
    assert [s for s, _ in _stream(store, doomed_trial)] == list(range(1, len(types) + 1))
