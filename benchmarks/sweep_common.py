"""Shared set-up of the sweep benchmarks: one grid, run into a fresh store, timed from plan to summary.

The grid: convnet-small on MNIST-5k (quickstart's model and data, at benchmark size), both spline entries (final and
EB ticket), seeds x ratio sets as trials. Every benchmark measures its baseline in the same run and prints ratios.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from splinebench.sweep.driver import SweepOutcome, SweepRequest, plan_sweep, run_sweep

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = str(ROOT / "profiles" / "quickstart.toml")


def arguments(description: str, **defaults: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dataset", default=defaults.get("dataset", "mnist-5k"))
    parser.add_argument("--epochs", type=int, default=defaults.get("epochs", 4))
    parser.add_argument("--retrain-epochs", type=int, default=defaults.get("retrain_epochs", 1))
    parser.add_argument("--seeds", default=defaults.get("seeds", "0"))
    parser.add_argument("--ratios", default=defaults.get("ratios", "[0.3],[0.5],[0.7]"),
                        help="ratio sets, one trial each")
    parser.add_argument("--workers", type=int, default=defaults.get("workers", 2))
    parser.add_argument("--threads", type=int, default=defaults.get("threads"),
                        help="torch threads per run (default: the executor decides)")
    return parser.parse_args()


def overrides(args: argparse.Namespace) -> list[str]:
    out = [f"data.name='{args.dataset}'", f"train.epochs={args.epochs}", f"retrain.epochs={args.retrain_epochs}",
           "partition.probe_size=256", "device='cpu'"]
    if args.threads:
        out.append(f"threads={args.threads}")
    return out


def grid(args: argparse.Namespace) -> list[str]:
    return [f"seed={args.seeds}", f"prune.ratios={args.ratios}"]


def timed_sweep(args: argparse.Namespace, **request: Any) -> tuple[float, SweepOutcome, str]:
    """Plan and run the grid into a fresh store; seconds from planning to the summary."""
    store = str(Path(tempfile.mkdtemp(prefix="sweep-bench-")) / "store.sqlite")
    t0 = time.perf_counter()
    plan = plan_sweep(SweepRequest(store=store, profile=QUICKSTART, overrides=overrides(args), grid=grid(args),
                                   **request))
    outcome = run_sweep(plan, store, [])
    seconds = time.perf_counter() - t0
    assert outcome.ok, "the benchmark sweep failed"
    return seconds, outcome, store


def phase_macs(store: str) -> float:
    db = sqlite3.connect(store)
    try:
        return float(db.execute("SELECT SUM(training_flops) FROM phases").fetchone()[0] or 0.0)
    finally:
        db.close()
