"""The store's writer: an event sink that appends each event and updates the projections in one transaction.

Only one process writes a store at a time (the run itself, or the driver of a sweep or a remote run); readers such
as the dashboard open it read-only and see each committed event as soon as it lands (WAL mode).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from splinebench.errors import SplinebenchError
from splinebench.store.layer_order import in_layer_order, layer_orders
from splinebench.store.reader import StoreError
from splinebench.store.schema import PROJECTION_TABLES, connect, migrate

Payload = dict[str, Any]

#: How long a write waits for another process's write lock before it fails (seconds; SQLite's busy timeout).
BUSY_TIMEOUT_ENV = "SPLINEBENCH_STORE_BUSY_TIMEOUT"
DEFAULT_BUSY_TIMEOUT_S = 30.0


class StoreWriteError(SplinebenchError):
    """A write to the store failed: locked by another process for longer than the busy timeout, disk full, or the
    file became unwritable. Never swallowed: the run that hit it stops (exit 1)."""


def busy_timeout_s() -> float:
    """The busy timeout from ``SPLINEBENCH_STORE_BUSY_TIMEOUT`` (seconds), else 30 s."""
    text = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_BUSY_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise StoreError(f"{BUSY_TIMEOUT_ENV}={text!r}: expected a number of seconds >= 0, e.g. 30")
    return value


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _event_json(payload: Any) -> str:
    """An event as stored: keys in the order the event has them, so a per-layer dict keeps the network's layer order
    for anything rebuilt from the events (a resumed run's projections, a results bundle)."""
    return json.dumps(payload)


class StoreWriter:
    """Write events (as dicts or event objects with ``to_dict``) into a store file, exactly once each."""

    def __init__(self, path: str | os.PathLike[str], busy_timeout: float | None = None) -> None:
        """Open (creating if needed) and migrate the store; a path that cannot hold a store is bad input (exit 2)."""
        self.path = str(path)
        self.busy_timeout = busy_timeout_s() if busy_timeout is None else busy_timeout
        self._lock = threading.Lock()
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"--store {self.path}: cannot create its folder: {exc.strerror or exc}") from None
        if Path(self.path).is_dir():
            raise StoreError(f"--store {self.path} is a folder; give a file, e.g. {self.path}/store.sqlite")
        try:
            self.conn = connect(self.path, timeout=self.busy_timeout)
        except sqlite3.Error as exc:
            raise self._open_error(exc) from None
        try:
            migrate(self.conn)
            # Prove the store takes a write now, not at the run's first event (a read-only file opens "fine").
            # Rewriting user_version dirties the header page, which a read-only file refuses; rolled back.
            with self._lock:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    version = self.conn.execute("PRAGMA user_version").fetchone()[0]
                    self.conn.execute(f"PRAGMA user_version = {int(version)}")
                finally:
                    self.conn.execute("ROLLBACK")
        except RuntimeError as exc:  # a schema newer than this code
            self.conn.close()
            raise StoreError(f"{self.path}: {exc}") from None
        except sqlite3.Error as exc:
            self.conn.close()
            raise self._open_error(exc) from None

    def _open_error(self, exc: sqlite3.Error) -> SplinebenchError:
        text = str(exc)
        if _is_busy(exc):
            return StoreWriteError(f"--store {self.path} stayed locked by another process for {self.busy_timeout:g} "
                                   f"s ({text}); try again, or raise {BUSY_TIMEOUT_ENV}")
        if "not a database" in text or "malformed" in text:
            return StoreError(f"--store {self.path} is not a splinebench store (SQLite says: {text}); "
                              "give a new path or an existing store")
        if "readonly" in text or "read-only" in text or not os.access(Path(self.path).parent, os.W_OK) or (
                Path(self.path).exists() and not os.access(self.path, os.W_OK)):
            return StoreError(f"--store {self.path} is read-only ({text}); give a writable path with --store")
        return StoreError(f"--store {self.path}: cannot open it for writing ({text}); give a writable path with "
                          "--store")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One transaction; SQLite waits up to the busy timeout for another writer, then the error is raised."""
        with self._lock:
            try:
                with self.conn:
                    yield
            except sqlite3.Error as exc:
                hint = (f" (locked by another process for more than {self.busy_timeout:g} s; {BUSY_TIMEOUT_ENV} "
                        "sets the wait)") if _is_busy(exc) else ""
                raise StoreWriteError(f"cannot write the store {self.path}: {exc}{hint}") from exc

    # -- the sink ---------------------------------------------------------------------------------------------
    def __call__(self, event: Any) -> None:
        self.write(event.to_dict() if hasattr(event, "to_dict") else dict(event))

    def write(self, payload: Payload) -> bool:
        """Store one event; returns False when ``(run_id, seq)`` is already stored (a replay), True otherwise.

        Raises :class:`StoreWriteError` when the event cannot be stored; it is never dropped silently.
        """
        return self._retrying(lambda: self._write(payload))

    def write_many(self, payloads: Iterable[Payload]) -> int:
        batch = list(payloads)
        return self._retrying(lambda: sum(self._write(p) for p in batch))

    def _retrying(self, step: Callable[[], Any]) -> Any:
        """Run ``step`` in a transaction; a busy store is retried with backoff until the busy timeout is spent.

        SQLite's own busy handler does the waiting; this loop covers the busy errors it returns early (a WAL
        snapshot that went stale, recovery by another connection).
        """
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.02
        while True:
            try:
                with self._transaction():
                    return step()
            except StoreWriteError as exc:
                cause = exc.__cause__
                if not (isinstance(cause, sqlite3.Error) and _is_busy(cause)) or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay)
            delay = min(2 * delay, 1.0)

    def _write(self, p: Payload) -> bool:
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO events(run_id, seq, ts, type, payload) VALUES (?,?,?,?,?)",
            (p["run_id"], p["seq"], p["ts"], p["type"], _event_json(p)),
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
            with self._transaction():
                self.conn.executemany("INSERT INTO power_samples(run_id, t, total_mw, rails) VALUES (?,?,?,?)", rows)

    def write_energy_window(self, run_id: str, window: dict[str, Any]) -> None:
        """An energy window measured outside the run's event stream (a remote run, metered from here)."""
        with self._transaction():
            _energy_measured(self.conn, {"run_id": run_id, **window})

    def attribute_energy(self, run_id: str) -> None:
        """Fill each result's energy from the stored epoch windows: its dense training up to the ticket + retraining.

        Used when the energy windows arrive after the results (remote runs metered from the workstation); a local
        run's engine fills the same columns as it goes.
        """
        with self._transaction():
            rows = self.conn.execute(
                "SELECT pruner, ratio, ticket, dense_phase, ticket_epoch FROM results WHERE run_id=? AND status='ok'",
                (run_id,),
            ).fetchall()
            for pruner, ratio, ticket, dense_phase, ticket_epoch in rows:
                dense = None
                if ticket != "init":
                    dense = self._epoch_joules(run_id, dense_phase or "dense", ticket_epoch)
                retrain = None if pruner == "dense" else self._epoch_joules(run_id, self._retrain_phase(
                    run_id, pruner, ratio), None)
                total = None if (dense is None and ticket != "init") or (retrain is None and pruner != "dense") \
                    else (dense or 0.0) + (retrain or 0.0)
                self.conn.execute(
                    "UPDATE results SET dense_energy_j=?, retrain_energy_j=?, total_energy_j=? "
                    "WHERE run_id=? AND pruner=? AND ratio=?",
                    (dense, retrain, total, run_id, pruner, ratio),
                )
                _mark_partial_energy(self.conn, run_id, pruner, ratio)

    def _retrain_phase(self, run_id: str, pruner: str, ratio: float) -> str:
        """The phase a branch retrained in, as its PhaseStarted named it (phase names are the run plan's)."""
        row = self.conn.execute(
            "SELECT phase FROM phases WHERE run_id=? AND kind='retrain' AND pruner=? AND ratio=?",
            (run_id, pruner, ratio),
        ).fetchone()
        return str(row[0]) if row else ""

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
        with self._transaction():
            self.conn.execute(f"UPDATE runs SET {columns} WHERE id=?", (*values, run_id))

    def truncate_after(self, run_id: str, seq: int) -> None:
        """Forget events after ``seq`` and rebuild the projections from the rest.

        Resuming from a checkpoint replays the steps after it; the events those steps emitted before the crash must
        go, or the store would hold them twice with different numbers.
        """
        with self._transaction():
            orders = layer_orders(self.conn, run_id)  # before the projections go: older stores' events lost it
            self.conn.execute("DELETE FROM events WHERE run_id=? AND seq>?", (run_id, seq))
            for table in PROJECTION_TABLES:
                self.conn.execute(f"DELETE FROM {table} WHERE run_id=?", (run_id,))
            # columns of `runs` that are projections too
            self.conn.execute("UPDATE runs SET best_accuracy=NULL, eb_epoch=NULL WHERE id=?", (run_id,))
            rows = self.conn.execute(
                "SELECT payload FROM events WHERE run_id=? ORDER BY seq", (run_id,)
            ).fetchall()
            for row in rows:
                payload = in_layer_order(json.loads(row[0]), orders)
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
        # an epoch from a user's own loop may not know its test accuracy (NULL): it must not erase the best so far
        "UPDATE runs SET best_accuracy = COALESCE(MAX(best_accuracy, ?), best_accuracy, ?) WHERE id=?",
        (p["test_acc"], p["test_acc"], p["run_id"])
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
    _mark_partial_energy(conn, p["run_id"], p["pruner"], p["ratio"])


#: A window whose event does not say (a remote run metered from here) is partial below this sample coverage.
DEFAULT_MIN_COVERAGE = 0.8


_LATENCY_KEYS = ("latency_ms", "latency_iqr_ms", "dense_latency_ms", "speedup", "speedup_iqr", "latency_batch",
                 "latency_repeats", "latency_method")


@_projects("energy_measured")
def _energy_measured(conn: sqlite3.Connection, p: Payload) -> None:
    coverage = p.get("coverage")
    if coverage is None:
        coverage = (p.get("provenance") or {}).get("coverage")
    partial = p.get("partial")
    if partial is None:
        partial = p.get("joules") is not None and coverage is not None and coverage < DEFAULT_MIN_COVERAGE
    conn.execute(
        """INSERT INTO energy(run_id, window, phase, epoch, t0, t1, joules, mean_power_w, idle_power_w, net_joules,
           provenance, why, coverage, partial) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        (p["run_id"], p["window"], p["phase"], p.get("epoch"), p["t0"], p["t1"], p.get("joules"),
         p.get("mean_power_w"), p.get("idle_power_w"), p.get("net_joules"), _json(p.get("provenance", {})),
         p.get("why"), coverage, int(bool(partial))),
    )


def _mark_partial_energy(conn: sqlite3.Connection, run_id: str, pruner: str, ratio: float) -> None:
    """A result's energy totals are partial when any epoch window they add up is: its dense phase up to the ticket
    epoch, and its retraining phase (found by pruner and ratio in ``phases``, so no phase name is spelt here)."""
    row = conn.execute("SELECT dense_phase, ticket_epoch, ticket FROM results WHERE run_id=? AND pruner=? AND ratio=?",
                       (run_id, pruner, ratio)).fetchone()
    if row is None:
        return
    dense_phase, ticket_epoch, ticket = row
    found = []
    if ticket != "init":
        found += conn.execute(
            "SELECT partial, coverage FROM energy WHERE run_id=? AND window='epoch' AND phase=? AND epoch<=?",
            (run_id, dense_phase or "dense", ticket_epoch if ticket_epoch is not None else 1 << 30)).fetchall()
    if pruner != "dense":
        found += conn.execute(
            "SELECT e.partial, e.coverage FROM energy e JOIN phases p ON p.run_id=e.run_id AND p.phase=e.phase "
            "WHERE e.run_id=? AND e.window='epoch' AND p.kind='retrain' AND p.pruner=? AND p.ratio=?",
            (run_id, pruner, ratio)).fetchall()
    coverages = [c for _, c in found if c is not None]
    conn.execute("UPDATE results SET energy_partial=?, energy_coverage=? WHERE run_id=? AND pruner=? AND ratio=?",
                 (int(any(flag for flag, _ in found)), min(coverages) if coverages else None, run_id, pruner, ratio))


def now() -> float:
    return time.time()
