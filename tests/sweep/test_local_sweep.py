"""The local executor end to end: a 2 seeds x 2 pruner entries x 2 ratios grid of quickstart-sized trials."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from pathlib import Path

import pytest
from sweep_helpers import GRID, OVERRIDES, QUICKSTART, metrics

from splinebench.engine.run import execute
from splinebench.sweep import sweep_row, sweep_runs
from splinebench.sweep.driver import SweepRequest, plan_sweep, run_sweep
from splinebench.sweep.storage import HOLD, SCRATCH_ENV


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """The grid on 2 workers, its storage an fsspec URL (tasks mirror their files from a scratch directory)."""
    tmp = tmp_path_factory.mktemp("local")
    store = str(tmp / "store.sqlite")
    os.environ[SCRATCH_ENV] = str(tmp / "scratch")  # inherited by the spawned workers
    try:
        plan = plan_sweep(SweepRequest(store=store, profile=QUICKSTART, overrides=OVERRIDES, grid=GRID, workers=2,
                                       storage=f"file://{tmp}/remote"))
        records: list[dict] = []
        outcome = run_sweep(plan, store, [records.append])
    finally:
        del os.environ[SCRATCH_ENV]
    assert any((tmp / "remote" / plan.sweep_id / "tasks").glob("*/result.pt"))
    return plan, outcome, store, records


def test_the_grid_finishes_with_every_trial_in_the_store_once(local_sweep):
    plan, outcome, store, _ = local_sweep
    assert outcome.ok
    run_ids = sweep_runs(store, plan.sweep_id)
    assert run_ids == [t.run_id for t in plan.trials] and len(run_ids) == 4
    db = sqlite3.connect(store)
    statuses = db.execute("SELECT status, COUNT(*) FROM runs WHERE sweep_id=? GROUP BY status",
                          (plan.sweep_id,)).fetchall()
    assert statuses == [("finished", 4)]
    assert db.execute("SELECT COUNT(*) FROM events e JOIN runs r ON r.id = e.run_id WHERE r.sweep_id=? AND "
                      "e.type='run_started'", (plan.sweep_id,)).fetchone()[0] == 4
    assert sweep_row(store, plan.sweep_id)["status"] == "finished"


def test_each_branch_runs_once_and_the_dense_phase_once_per_seed(local_sweep):
    plan, outcome, _, records = local_sweep
    summary = outcome.summary
    assert len(summary["dense_tasks"]) == 2  # one per seed, for 4 trials
    assert sorted(len(d["trials"]) for d in summary["dense_tasks"].values()) == [2, 2]
    assert len(summary["branch_tasks"]) == 8  # 2 seeds x 2 pruner entries x 2 ratios
    assert all(t["attempts"] == 1 for t in [*summary["dense_tasks"].values(), *summary["branch_tasks"].values()])
    started = [r["task"] for r in records if r["type"] == "task_started"]
    assert sorted(started) == sorted([*summary["dense_tasks"], *summary["branch_tasks"]])


def test_every_trial_has_the_metrics_and_events_of_a_plain_run_of_it(local_sweep, tmp_path):
    plan, _, store, _ = local_sweep
    reference = str(tmp_path / "plain.sqlite")
    for trial in plan.trials:
        run_id, ok = execute(trial.profile, reference)
        assert ok
        got, want = metrics(store, trial.run_id), metrics(reference, run_id)
        assert got["epochs"] == want["epochs"]
        assert got["results"] == want["results"]
        assert got["distances"] == want["distances"]
        assert got["events"] == want["events"]  # the same stream, numbered 1..n without holes


def test_the_shared_dense_phase_is_charged_once_per_sweep_and_in_full_per_trial(local_sweep):
    plan, outcome, store, _ = local_sweep
    macs = outcome.summary["training_macs"]
    dense = sum(d["training_macs"] for d in outcome.summary["dense_tasks"].values())
    assert dense > 0
    assert macs["trials_in_full"] - macs["charged_once"] == pytest.approx(dense)  # each dense phase: 2 trials
    db = sqlite3.connect(store)
    for trial in plan.trials:
        payload = db.execute("SELECT payload FROM events WHERE run_id=? AND type='run_finished'",
                             (trial.run_id,)).fetchone()[0]
        own = json.loads(payload)["summary"]
        phase_total = db.execute("SELECT SUM(training_flops) FROM phases WHERE run_id=?",
                                 (trial.run_id,)).fetchone()[0]
        assert own["training_macs"]["total"] == pytest.approx(phase_total)  # dense in full + its retraining
        assert len(own["dense"]["dense"]["shared_with"]) == 1
    summary_file = Path(store).parent / "sweeps" / plan.sweep_id / "summary.json"
    assert json.loads(summary_file.read_text())["training_macs"] == macs


@pytest.mark.slow
def test_a_killed_local_worker_is_replaced_and_its_task_resumes_from_its_checkpoint(local_sweep, tmp_path):
    _, _, reference_store, _ = local_sweep
    store = str(tmp_path / "store.sqlite")
    plan = plan_sweep(SweepRequest(store=store, profile=QUICKSTART, overrides=[*OVERRIDES, "prune.ratios=[0.5]"],
                                   grid=["seed=0"], workers=2, sweep_id="sweep-local-kill"))
    target = "t00-spline@0.5"
    hold = Path(plan.settings["storage"]) / plan.sweep_id / "tasks" / target / HOLD
    hold.parent.mkdir(parents=True)
    hold.touch()
    killed: list[int] = []

    def kill_the_held_worker(record: dict) -> None:
        if record["type"] == "task_held" and not killed:
            os.kill(record["pid"], signal.SIGKILL)
            killed.append(record["pid"])
            hold.unlink()

    outcome = run_sweep(plan, store, [kill_the_held_worker])
    assert killed and outcome.ok
    attempts = outcome.summary["branch_tasks"][target]
    assert attempts["attempts"] == 2
    lines = (hold.parent / "attempts.jsonl").read_text().splitlines()
    assert json.loads(lines[1])["resumed_from"] == {"phase": "retrain:spline@0.5", "epoch": 1}
    reference = sqlite3.connect(reference_store).execute(
        "SELECT id FROM runs WHERE json_extract(profile, '$.seeds') = '[0]' AND "
        "json_extract(profile, '$.prune.ratios') = '[0.5]'").fetchone()[0]
    assert metrics(store, plan.trials[0].run_id) == metrics(reference_store, reference)


def test_every_trial_records_the_environment_its_local_workers_trained_in(local_sweep):
    import torch

    from splinebench.engine.environment import cpu_model
    from splinebench.store import StoreReader
    from splinebench.sweep.executor import cores, threads_per_task

    plan, _, store, _ = local_sweep
    reader = StoreReader(store)
    try:
        for trial in plan.trials:
            env = reader.environment(trial.run_id)
            assert env is not None, "a sweep trial's RunStarted has no environment"
            assert env["torch_threads"] == threads_per_task(trial.profile.model_dump(mode="json"), max(1, cores() // 2))
            assert (env["device"], env["torch"], env["cpu_model"]) == ("cpu", torch.__version__, cpu_model())
    finally:
        reader.close()
