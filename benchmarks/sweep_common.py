"""Shared set-up of the sweep benchmarks: one grid, run into a fresh store, timed from plan to summary.

The grid: convnet-small on MNIST-5k (quickstart's model and data, at benchmark size), both spline entries (final and
EB ticket), seeds x ratio sets as trials. Every benchmark measures its baseline in the same run and prints ratios.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from splinebench.sweep.driver import SweepOutcome, SweepRequest, plan_sweep, run_sweep

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = str(ROOT / "profiles" / "quickstart.toml")
_scratch: list[Path] = []  # made on first use: spawned workers import this module too


def fresh_dir(prefix: str) -> Path:
    """A new directory for one measured thing (a store and its sweep storage), removed when the benchmark ends."""
    if not _scratch:
        _scratch.append(Path(tempfile.mkdtemp(prefix="sweep-bench-")))
        atexit.register(shutil.rmtree, _scratch[0], ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_scratch[0]))


def arguments(description: str, **defaults: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dataset", default=defaults.get("dataset", "mnist-5k"))
    parser.add_argument("--epochs", type=int, default=defaults.get("epochs", 4))
    parser.add_argument("--retrain-epochs", type=int, default=defaults.get("retrain_epochs", 1))
    parser.add_argument("--seeds", default=defaults.get("seeds", "0"))
    parser.add_argument("--ratios", default=defaults.get("ratios", "[0.3],[0.5],[0.7]"),
                        help="ratio sets, one trial each")
    parser.add_argument("--workers", type=int, default=defaults.get("workers", 2))
    parser.add_argument("--repeats", type=int, default=defaults.get("repeats", 1),
                        help="alternate the compared sweeps this many times; the fastest of each counts")
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


def warm_up(args: argparse.Namespace) -> None:
    """Pay this process's one-time imports and dataset load before anything is timed (workers pay theirs in each)."""
    from splinebench.data import load_dataset
    from splinebench.engine.pipeline import versions
    from splinebench.prune import discover

    versions()
    discover()
    load_dataset(args.dataset)


def timed_sweep(args: argparse.Namespace, **request: Any) -> tuple[float, SweepOutcome, str]:
    """Plan and run the grid into a fresh store; seconds from planning to the summary."""
    store = str(fresh_dir("sweep-") / "store.sqlite")
    t0 = time.perf_counter()
    plan = plan_sweep(SweepRequest(store=store, profile=QUICKSTART, overrides=overrides(args), grid=grid(args),
                                   **request))
    outcome = run_sweep(plan, store, [])
    seconds = time.perf_counter() - t0
    assert outcome.ok, "the benchmark sweep failed"
    return seconds, outcome, store


def best_of(args: argparse.Namespace, variants: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Each variant's fastest time over ``--repeats`` rounds, the variants alternating (load drift hits all alike)."""
    best: dict[str, float] = {}
    for round_ in range(args.repeats):
        names = list(variants) if round_ % 2 == 0 else list(reversed(variants))
        for name in names:
            seconds, _, _ = timed_sweep(args, **variants[name])
            best[name] = min(best.get(name, seconds), seconds)
    return best


def phase_macs(store: str) -> float:
    db = sqlite3.connect(store)
    try:
        return float(db.execute("SELECT SUM(training_flops) FROM phases").fetchone()[0] or 0.0)
    finally:
        db.close()
