"""Shared helpers of the sweep tests: quickstart-sized trial settings, the CLI, and store queries."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = str(ROOT / "profiles" / "quickstart.toml")
#: quickstart-sized trials: convnet-small on digits, 2 dense epochs, probe 64, both spline entries (final, eb)
OVERRIDES = [
    "data.name='digits'", "train.epochs=2", "partition.probe_size=64", "retrain.epochs=2", "threads=1",
    "device='cpu'", "early_bird.eps=0.5",
]
#: 2 seeds x 2 ratio sets; with the profile's 2 pruner entries: 2 x 2 x 2 branches, one dense phase per seed
GRID = ["seed=0,1", "prune.ratios=[0.3],[0.5]"]


def sweep_cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "splinebench.cli.sweep", *args]


def run_cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(sweep_cli(*args), capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def metrics(store: str | Path, run_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """What must not depend on how a trial was run: per-epoch metrics, results, distances, the event sequence."""
    db = sqlite3.connect(store)
    try:
        return {
            "epochs": db.execute("SELECT phase, epoch, train_loss, train_acc, test_loss, test_acc, training_flops "
                                 "FROM epochs WHERE run_id=? ORDER BY phase, epoch", (run_id,)).fetchall(),
            "results": db.execute("SELECT pruner, ratio, status, accuracy, loss, ticket, eb_epoch, "
                                  "dense_training_flops, retrain_training_flops, total_training_flops "
                                  "FROM results WHERE run_id=? "
                                  "ORDER BY pruner, ratio", (run_id,)).fetchall(),
            "distances": db.execute("SELECT phase, epoch, layer, distance FROM layer_distances WHERE run_id=? "
                                    "ORDER BY phase, epoch, layer", (run_id,)).fetchall(),
            "events": db.execute("SELECT seq, type FROM events WHERE run_id=? ORDER BY seq", (run_id,)).fetchall(),
        }
    finally:
        db.close()


def final_metrics(store: str | Path, run_ids: list[str]) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(store)
    try:
        return [row for run_id in run_ids for row in db.execute(
            "SELECT pruner, ratio, accuracy, loss, total_training_flops FROM results WHERE run_id=? "
            "ORDER BY pruner, ratio", (run_id,))]
    finally:
        db.close()


#: the Ray tests' sweep: 2 seeds, both spline entries at one ratio -> 2 trials, 2 dense + 4 branch tasks
RAY_OVERRIDES = [*OVERRIDES, "prune.ratios=[0.5]"]
RAY_GRID = ["seed=0,1"]

