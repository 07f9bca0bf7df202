"""Running the real ``splinebench`` command in a subprocess on a tiny profile, and reading what it left in the store.

Shared by the tests that need a run as its own process: kill -9, locks held by other processes, a full disk.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = str(ROOT / "profiles" / "quickstart.toml")
TINY = [
    "data.name='digits'", "train.epochs=3", "retrain.epochs=1", "prune.ratios=[0.5]", "partition.probe_size=64",
    "threads=1", "device='cpu'", "early_bird.eps=0.5",
]


#: the console script pip installed beside this interpreter: what a user types
SCRIPT = Path(sys.executable).with_name("splinebench")


def splinebench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed ``splinebench`` command (the real entry point) in ``cwd``."""
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "splinebench.cli.app", *args]


def run_args(store: Path, *extra: str) -> list[str]:
    args = ["run", QUICKSTART, "--store", str(store), "--json"]
    for override in TINY:
        args += ["--set", override]
    return [*args, *extra]


def env(**changes: str) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", **changes}


def run(args: list[str], cwd: Path, timeout: float = 300, **env_changes: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=env(**env_changes), cwd=cwd, timeout=timeout)


def start(args: list[str], cwd: Path, **env_changes: str) -> subprocess.Popen[str]:
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(**env_changes),
                            cwd=cwd)


def read_until(proc: subprocess.Popen[str], stop: Any) -> list[dict[str, Any]]:
    """Events from the run's ``--json`` stdout up to and including the first for which ``stop(event)`` is true."""
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        seen.append(event)
        if stop(event):
            return seen
    raise AssertionError(f"the run ended before the awaited event; stderr: {proc.stderr.read() if proc.stderr else ''}")


def numbers(store: Path, run_id: str) -> dict[str, list[tuple]]:
    """The figures a resumed run must reproduce exactly."""
    db = sqlite3.connect(store)
    out = {
        "epochs": db.execute("SELECT phase, epoch, train_loss, train_acc, test_loss, test_acc, training_flops "
                             "FROM epochs WHERE run_id=? ORDER BY phase, epoch", (run_id,)).fetchall(),
        "results": db.execute("SELECT pruner, ratio, accuracy, loss, total_training_flops, eb_epoch FROM results "
                              "WHERE run_id=? ORDER BY pruner, ratio", (run_id,)).fetchall(),
        "distances": db.execute("SELECT phase, epoch, layer, distance FROM layer_distances WHERE run_id=? "
                                "ORDER BY phase, epoch, layer", (run_id,)).fetchall(),
        "event_types": db.execute("SELECT seq, type FROM events WHERE run_id=? ORDER BY seq", (run_id,)).fetchall(),
    }
    db.close()
    return out


def run_row(store: Path, run_id: str) -> dict[str, Any]:
    db = sqlite3.connect(store)
    db.row_factory = sqlite3.Row
    row = dict(db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone())
    row["seqs"] = [r[0] for r in db.execute("SELECT seq FROM events WHERE run_id=? ORDER BY seq", (run_id,))]
    row["types"] = [r[0] for r in db.execute("SELECT type FROM events WHERE run_id=? ORDER BY seq", (run_id,))]
    db.close()
    return row


def one_line(stderr: str) -> str:
    """The stderr of a failed command as one line (rich may wrap a long message)."""
    return " ".join(stderr.split())
