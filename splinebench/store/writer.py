"""The store's writer: an event sink that appends each event and updates the projections in one transaction.

Only one process writes a store at a time (the run itself, or the driver of a sweep or a remote run); readers such
as the dashboard open it read-only and see each committed event as soon as it lands (WAL mode).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from splinebench.store.schema import PROJECTION_TABLES, connect, migrate

Payload = dict[str, Any]


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class StoreWriter:
    """Write events (as dicts or event objects with ``to_dict``) into a store file, exactly once each."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = connect(self.path)
        migrate(self.conn)
        self._lock = threading.Lock()

    # -- the sink ---------------------------------------------------------------------------------------------
    def __call__(self, event: Any) -> None:
        self.write(event.to_dict() if hasattr(event, "to_dict") else dict(event))

    def write(self, payload: Payload) -> bool:
        """Store one event; returns False when ``(run_id, seq)`` is already stored (a replay), True otherwise."""
        with self._lock, self.conn:
            return self._write(payload)

    def write_many(self, payloads: Iterable[Payload]) -> int:
        with self._lock, self.conn:
            return sum(self._write(p) for p in payloads)

    def _write(self, p: Payload) -> bool:
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO events(run_id, seq, ts, type, payload) VALUES (?,?,?,?,?)",
            (p["run_id"], p["seq"], p["ts"], p["type"], _json(p)),
        )
        if cur.rowcount == 0:
            return False
        project = _PROJECTIONS.get(p["type"])
        if project is not None:
            project(self.conn, p)
        self.conn.execute("UPDATE runs SET updated_at=? WHERE id=?", (p["ts"], p["run_id"]))
        return True

    # -- things that are not events ---------------------------------------------------------------------------
    def write_power_samples(self, run_id: str, samples: Iterable[Any]) -> None:
        """Raw meter samples, kept for plots (too many to be events)."""
        rows = [
            (run_id, s.t, s.total_mw, _json(s.rails_mw)) for s in samples
        ]
        if rows:
            with self._lock, self.conn:
                self.conn.executemany("INSERT INTO power_samples(run_id, t, total_mw, rails) VALUES (?,?,?,?)", rows)

    def write_energy_window(self, run_id: str, window: dict[str, Any]) -> None:
        """An energy window measured outside the run's event stream (a remote run, metered from here)."""
        with self._lock, self.conn:
            _energy_measured(self.conn, {"run_id": run_id, **window})

    def attribute_energy(self, run_id: str) -> None:
        """Fill each result's energy from the stored epoch windows: its dense training up to the ticket + retraining.

        Used when the energy windows arrive after the results (remote runs metered from the workstation); a local
        run's engine fills the same columns as it goes.
        """
        with self._lock, self.conn:
            rows = self.conn.execute(
                "SELECT pruner, ratio, ticket, dense_phase, ticket_epoch FROM results WHERE run_id=? AND status='ok'",
                (run_id,),
            ).fetchall()
            for pruner, ratio, ticket, dense_phase, ticket_epoch in rows:
                dense = None
                if ticket != "init":
                    dense = self._epoch_joules(run_id, dense_phase or "dense", ticket_epoch)
                retrain = None if pruner == "dense" else self._epoch_joules(run_id, f"retrain:{pruner}@{ratio:g}", None)
                total = None if (dense is None and ticket != "init") or (retrain is None and pruner != "dense") \
                    else (dense or 0.0) + (retrain or 0.0)
                self.conn.execute(
                    "UPDATE results SET dense_energy_j=?, retrain_energy_j=?, total_energy_j=? "
                    "WHERE run_id=? AND pruner=? AND ratio=?",
                    (dense, retrain, total, run_id, pruner, ratio),
                )

    def _epoch_joules(self, run_id: str, phase: str, up_to_epoch: int | None) -> float | None:
        """Sum of a phase's epoch windows (None when any is unknown or there are none)."""
        rows = self.conn.execute(
            "SELECT joules FROM energy WHERE run_id=? AND window='epoch' AND phase=? AND epoch<=?",
            (run_id, phase, up_to_epoch if up_to_epoch is not None else 1 << 30),
        ).fetchall()
        if not rows or any(r[0] is None for r in rows):
            return None
        return float(sum(r[0] for r in rows))

    def set_run_fields(self, run_id: str, **fields: Any) -> None:
        """Update bookkeeping columns of a run (pid after a resume, remote details) outside the event stream."""
        if not fields:
            return
        columns = ", ".join(f"{k}=?" for k in fields)
        values = [(_json(v) if isinstance(v, (dict, list)) else v) for v in fields.values()]
        with self._lock, self.conn:
            self.conn.execute(f"UPDATE runs SET {columns} WHERE id=?", (*values, run_id))

    def truncate_after(self, run_id: str, seq: int) -> None:
        """Forget events after ``seq`` and rebuild the projections from the rest.

        Resuming from a checkpoint replays the steps after it; the events those steps emitted before the crash must
        go, or the store would hold them twice with different numbers.
        """
        with self._lock, self.conn:
            self.conn.execute("DELETE FROM events WHERE run_id=? AND seq>?", (run_id, seq))
            for table in PROJECTION_TABLES:
                self.conn.execute(f"DELETE FROM {table} WHERE run_id=?", (run_id,))
            # columns of `runs` that are projections too
            self.conn.execute("UPDATE runs SET best_accuracy=NULL, eb_epoch=NULL WHERE id=?", (run_id,))
            rows = self.conn.execute(
                "SELECT payload FROM events WHERE run_id=? ORDER BY seq", (run_id,)
            ).fetchall()
            for row in rows:
                payload = json.loads(row[0])
                project = _PROJECTIONS.get(payload["type"])
                if project is not None and payload["type"] != "run_started":
                    project(self.conn, payload)
            self.conn.execute(
                "UPDATE runs SET status='running', finished_at=NULL, error=NULL WHERE id=?", (run_id,)
            )

    def last_seq(self, run_id: str) -> int:
        row = self.conn.execute("SELECT MAX(seq) FROM events WHERE run_id=?", (run_id,)).fetchone()
        return int(row[0] or 0)

    def close(self) -> None:
        self.conn.close()


# --- projections: event payload -> rows ---------------------------------------------------------------------

Projection = Callable[[sqlite3.Connection, Payload], None]
_PROJECTIONS: dict[str, Projection] = {}


def _projects(event_type: str) -> Callable[[Projection], Projection]:
    def register(fn: Projection) -> Projection:
        _PROJECTIONS[event_type] = fn
        return fn

    return register


@_projects("run_started")
def _run_started(conn: sqlite3.Connection, p: Payload) -> None:
    conn.execute(
        """INSERT OR REPLACE INTO runs(id, name, status, model, dataset, seed, device, pruners, ratios,
           planned_epochs, profile, versions, host, pid, results_dir, sweep_id, created_at, updated_at)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        (
            p["run_id"], p["name"], "running", p["model"], p["dataset"], p["seed"], p["device"],
            _json(p.get("pruners", [])), _json(p.get("ratios", [])), p.get("planned_epochs"),
            _json(p["profile"]), _json(p["versions"]), p.get("host"), p.get("pid"), p.get("results_dir"),
            p.get("sweep_id"), p["ts"], p["ts"],
        ),
    )


@_projects("run_resumed")
def _run_resumed(conn: sqlite3.Connection, p: Payload) -> None:
    conn.execute("UPDATE runs SET status='running', pid=?, finished_at=NULL WHERE id=?", (p.get("pid"), p["run_id"]))


@_projects("run_finished")
def _run_finished(conn: sqlite3.Connection, p: Payload) -> None:
    conn.execute("UPDATE runs SET status='finished', finished_at=? WHERE id=?", (p["ts"], p["run_id"]))


@_projects("run_failed")
def _run_failed(conn: sqlite3.Connection, p: Payload) -> None:
    conn.execute(
        "UPDATE runs SET status='failed', finished_at=?, error=? WHERE id=?", (p["ts"], p["error"], p["run_id"])
    )


@_projects("phase_started")
def _phase_started(conn: sqlite3.Connection, p: Payload) -> None:
    conn.execute(
        """INSERT OR REPLACE INTO phases(run_id, phase, kind, pruner, ratio, planned_epochs, status, started_at)
           VALUES (?,?,?,?,?,?, 'running', ?)""",
        (p["run_id"], p["phase"], p["kind"], p.get("pruner"), p.get("ratio"), p["epochs"], p["ts"]),
    )


@_projects("phase_finished")
def _phase_finished(conn: sqlite3.Connection, p: Payload) -> None:
    conn.execute(
        """UPDATE phases SET status='finished', epochs=?, seconds=?, training_flops=?, stopped_early=?,
           finished_at=? WHERE run_id=? AND phase=?""",
        (p["epochs"], p["seconds"], p["training_flops"], int(p.get("stopped_early", False)), p["ts"],
         p["run_id"], p["phase"]),
    )


@_projects("epoch_finished")
def _epoch_finished(conn: sqlite3.Connection, p: Payload) -> None:
    conn.execute(
        """INSERT OR REPLACE INTO epochs(run_id, phase, epoch, train_loss, train_acc, test_loss, test_acc, lr,
           seconds, samples, training_flops, ts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
        (p["run_id"], p["phase"], p["epoch"], p["train_loss"], p["train_acc"], p["test_loss"], p["test_acc"],
         p["lr"], p["seconds"], p["samples"], p["training_flops"], p["ts"]),
    )
    conn.execute(
        "UPDATE runs SET best_accuracy = MAX(COALESCE(best_accuracy, 0), ?) WHERE id=?", (p["test_acc"], p["run_id"])
    )


@_projects("partition_distances")
def _partition_distances(conn: sqlite3.Connection, p: Payload) -> None:
    conn.executemany(
        "INSERT INTO layer_distances(run_id, phase, epoch, layer_index, layer, distance) VALUES (?,?,?,?,?,?)",
        [(p["run_id"], p["phase"], p["epoch"], i, layer, d) for i, (layer, d) in enumerate(p["per_layer"].items())],
    )
    conn.execute(
        "INSERT OR REPLACE INTO net_distances(run_id, phase, epoch, mean_of_layers, bit_weighted) VALUES (?,?,?,?,?)",
        (p["run_id"], p["phase"], p["epoch"], p["mean_of_layers"], p["bit_weighted"]),
    )


@_projects("distance_matrix_row")
def _distance_matrix_row(conn: sqlite3.Connection, p: Payload) -> None:
    i = p["epoch"]
    rows = [(p["run_id"], p["phase"], i, j, d, int(p.get("subsampled", False))) for j, d in enumerate(p["distances"])]
    rows += [(r[0], r[1], r[3], r[2], r[4], r[5]) for r in rows]  # symmetric, so a query can read either half
    rows.append((p["run_id"], p["phase"], i, i, 0.0, int(p.get("subsampled", False))))
    conn.executemany(
        "INSERT OR REPLACE INTO distance_matrix(run_id, phase, i, j, distance, subsampled) VALUES (?,?,?,?,?,?)", rows
    )


@_projects("early_bird_fired")
def _early_bird_fired(conn: sqlite3.Connection, p: Payload) -> None:
    conn.execute(
        "INSERT INTO early_birds(run_id, detector, phase, epoch, eps, window, fifo, ts) VALUES (?,?,?,?,?,?,?,?)",
        (p["run_id"], p["detector"], p["phase"], p["epoch"], p["eps"], p["window"], _json(p["fifo"]), p["ts"]),
    )
    if p["detector"] == "spline":
        conn.execute("UPDATE runs SET eb_epoch=COALESCE(eb_epoch, ?) WHERE id=?", (p["epoch"], p["run_id"]))


@_projects("checkpoint_saved")
def _checkpoint_saved(conn: sqlite3.Connection, p: Payload) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO checkpoints(run_id, phase, epoch, path) VALUES (?,?,?,?)",
        (p["run_id"], p["phase"], p["epoch"], p["path"]),
    )


@_projects("plan_made")
def _plan_made(conn: sqlite3.Connection, p: Payload) -> None:
    conn.execute(
        """INSERT OR REPLACE INTO plans(run_id, pruner, ratio, ticket, ticket_epoch, structured, asked_ratio,
           achieved_ratio, seconds, layers) VALUES (?,?,?,?,?,?,?,?,?,?)""",
        (p["run_id"], p["pruner"], p["ratio"], p["ticket"], p["ticket_epoch"], int(p["structured"]),
         p["asked_ratio"], p["achieved_ratio"], p["seconds"], _json(p["layers"])),
    )


@_projects("model_flops")
def _model_flops(conn: sqlite3.Connection, p: Payload) -> None:
    conn.execute(
        """INSERT OR REPLACE INTO models(run_id, tag, params, flops, unsupported_ops) VALUES (?,?,?,?,?)""",
        (p["run_id"], p["tag"], p["params"], p["flops"], _json(p.get("unsupported_ops", {}))),
    )


@_projects("model_pruned")
def _model_pruned(conn: sqlite3.Connection, p: Payload) -> None:
    conn.execute(
        """INSERT OR REPLACE INTO models(run_id, tag, pruner, ratio, params, flops, params_before, flops_before,
           sparse_flops, unsupported_ops) VALUES (?,?,?,?,?,?,?,?,?,?)""",
        (p["run_id"], f"{p['pruner']}@{p['ratio']:g}", p["pruner"], p["ratio"], p["params_after"],
         p["flops_after"], p["params_before"], p["flops_before"], p.get("sparse_flops_after"),
         _json(p.get("unsupported_ops", {}))),
    )


@_projects("pruner_failed")
def _pruner_failed(conn: sqlite3.Connection, p: Payload) -> None:
    conn.execute(
        """INSERT OR REPLACE INTO results(run_id, pruner, ratio, status, error, stage) VALUES (?,?,?,'failed',?,?)""",
        (p["run_id"], p["pruner"], p["ratio"] if p["ratio"] is not None else -1.0, p["error"], p["stage"]),
    )


@_projects("evaluated")
def _evaluated(conn: sqlite3.Connection, p: Payload) -> None:
    conn.execute(
        """INSERT OR REPLACE INTO results(run_id, pruner, ratio, status, accuracy, loss, ticket, eb_epoch,
           dense_phase, ticket_epoch, dense_training_flops, retrain_training_flops, total_training_flops, params,
           flops, sparse_flops, dense_energy_j, retrain_energy_j, total_energy_j, latency_ms, latency_iqr_ms,
           dense_latency_ms, speedup, speedup_iqr, latency_batch, latency_repeats, latency_method)
           VALUES (?,?,?,'ok',?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        (p["run_id"], p["pruner"], p["ratio"], p["accuracy"], p["loss"], p["ticket"], p.get("eb_epoch"),
         p.get("dense_phase", "dense"), p.get("ticket_epoch"),
         p["dense_training_flops"], p["retrain_training_flops"], p["total_training_flops"], p["params"], p["flops"],
         p.get("sparse_flops"), p.get("dense_energy_j"), p.get("retrain_energy_j"), p.get("total_energy_j"),
         *(p.get(key) for key in _LATENCY_KEYS)),
    )


_LATENCY_KEYS = ("latency_ms", "latency_iqr_ms", "dense_latency_ms", "speedup", "speedup_iqr", "latency_batch",
                 "latency_repeats", "latency_method")


@_projects("energy_measured")
def _energy_measured(conn: sqlite3.Connection, p: Payload) -> None:
    conn.execute(
        """INSERT INTO energy(run_id, window, phase, epoch, t0, t1, joules, mean_power_w, idle_power_w, net_joules,
           provenance, why) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
        (p["run_id"], p["window"], p["phase"], p.get("epoch"), p["t0"], p["t1"], p.get("joules"),
         p.get("mean_power_w"), p.get("idle_power_w"), p.get("net_joules"), _json(p.get("provenance", {})),
         p.get("why")),
    )


def now() -> float:
    return time.time()
