"""kill -9 in the middle of training, resume, and end with exactly the numbers of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
from run_cli import cli, numbers, run_args

# one more dense and retrain epoch than run_cli's tiny run, so a kill lands mid-phase with epochs on both sides
LONGER = ("--set", "train.epochs=4", "--set", "retrain.epochs=2")


def _run_args(store: Path) -> list[str]:
    return run_args(store, *LONGER)


@pytest.mark.parametrize(("kill_phase", "kill_epoch"),
                         [("dense", 2), pytest.param("retrain:spline@0.5", 1, marks=pytest.mark.slow)])
def test_a_run_killed_mid_training_resumes_to_identical_final_metrics(tmp_path, kill_phase, kill_epoch):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    reference_store = tmp_path / "reference" / "store.sqlite"
    done = subprocess.run(cli(*_run_args(reference_store)), capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    reference_id = json.loads(done.stdout.splitlines()[0])["run_id"]

    store = tmp_path / "killed" / "store.sqlite"
    proc = subprocess.Popen(cli(*_run_args(store)), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env, cwd=tmp_path)
    run_id = None
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        run_id = event["run_id"]
        if event["type"] == "checkpoint_saved" and (event["phase"], event["epoch"]) == (kill_phase, kill_epoch):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    status = sqlite3.connect(store).execute("SELECT status FROM runs WHERE id=?", (run_id,)).fetchone()[0]
    assert status == "running"  # shown as "interrupted" by readers: its pid is dead

    resumed = subprocess.run(cli("run", "--resume", run_id, "--store", str(store)), capture_output=True, text=True,
                             env=env, cwd=tmp_path, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    got, want = numbers(store, run_id), numbers(reference_store, reference_id)
    assert got["epochs"] == want["epochs"]
    assert got["results"] == want["results"]
    assert got["distances"] == want["distances"]
    # and every other number of every event (matrix rows, EB events, plans, FLOPs): runs diff's comparison
    from splinebench.report.diff import diff_runs
    from splinebench.store import StoreReader

    result = diff_runs(StoreReader(store), run_id, StoreReader(reference_store), reference_id)
    assert result.first is None and result.only_in_a == result.only_in_b == 0, result.to_dict()
    assert result.identical
    assert got["event_types"] == want["event_types"]  # every event once, numbered without holes
    db = sqlite3.connect(store)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT status FROM runs WHERE id=?", (run_id,)).fetchone()[0] == "finished"
