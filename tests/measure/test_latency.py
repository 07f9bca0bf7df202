"""Measured inference latency beside FLOPs: timed against the dense model, stored per result, shown as speed-up."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import torch
from torch import nn

from splinebench.engine.run import execute
from splinebench.measure.latency import compare_latency, latency_batch
from splinebench.store import StoreWriter
from splinebench.store.schema import MIGRATIONS, SCHEMA_VERSION

SCRIPT = Path(sys.executable).with_name("splinebench")


class CountingNet(nn.Module):
    """A net that counts its calls and whether they ran under no_grad in eval mode."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 2)
        self.calls = 0
        self.graded = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        self.graded += int(torch.is_grad_enabled() or self.training)
        return self.linear(x)


def test_both_models_are_timed_in_eval_mode_without_grad_for_every_round_and_their_mode_restored() -> None:
    dense, pruned = CountingNet(), CountingNet()
    dense.train()
    result = compare_latency(dense, pruned, torch.randn(8, 4), repeats=3, warmup=2)
    assert dense.training  # restored
    assert dense.graded == 0 and pruned.graded == 0
    assert pruned.calls >= 2 + 3  # warm-up plus at least one call per round
    assert result.batch == 8 and result.repeats == 3 and result.device == "cpu"
    assert result.pruned_ms > 0 and result.dense_ms > 0 and result.speedup > 0
    assert "torch.utils.benchmark.Timer" in result.method


def test_a_latency_batch_repeats_the_example_rows_to_the_asked_size() -> None:
    example = torch.arange(3.0).reshape(3, 1)
    batch = latency_batch(example, 7)
    assert batch.shape == (7, 1)
    assert batch[:, 0].tolist() == [0, 1, 2, 0, 1, 2, 0]


def test_a_store_of_schema_2_gains_the_latency_columns_and_keeps_its_results(tmp_path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:3]):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number + 1};\nCOMMIT;")
    conn.execute("INSERT INTO results(run_id, pruner, ratio, status, accuracy) VALUES ('r', 'spline', 0.5, 'ok', 0.9)")
    conn.commit()
    conn.close()
    StoreWriter(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT accuracy, speedup, latency_ms FROM results").fetchall() == [(0.9, None, None)]


def test_a_run_stores_a_speedup_per_result_and_runs_show_prints_it(tmp_path, tiny_profile) -> None:
    store = str(tmp_path / "store.sqlite")
    profile = tiny_profile(**{"latency.batch": 4, "latency.repeats": 2,
                              "prune.pruners": [{"name": "l1-norm"}, {"name": "lt", "ticket": "final"}]})
    run_id, ok = execute(profile, store)
    assert ok
    db = sqlite3.connect(store)
    rows = db.execute("SELECT pruner, speedup, speedup_iqr, latency_ms, dense_latency_ms, latency_batch, "
                      "latency_repeats FROM results WHERE run_id=?", (run_id,)).fetchall()
    assert {r[0] for r in rows} == {"dense", "l1-norm", "lt"}
    for _, speedup, iqr, latency, dense_latency, batch, repeats in rows:
        assert speedup > 0 and iqr >= 0 and latency > 0 and dense_latency > 0
        assert (batch, repeats) == (4, 2)
    shown = subprocess.run([str(SCRIPT), "runs", "show", run_id, "--store", store], capture_output=True, text=True,
                           timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "speed-up p=50%" in shown.stdout
    assert "batch 4" in shown.stdout


def test_latency_can_be_turned_off_in_the_profile(tmp_path, tiny_profile) -> None:
    store = str(tmp_path / "store.sqlite")
    run_id, ok = execute(tiny_profile(**{"latency.enabled": False, "prune.pruners": [{"name": "l1-norm"}]}), store)
    assert ok
    db = sqlite3.connect(store)
    assert db.execute("SELECT COUNT(*) FROM results WHERE run_id=? AND speedup IS NOT NULL",
                      (run_id,)).fetchone()[0] == 0
