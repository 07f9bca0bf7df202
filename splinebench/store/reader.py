"""Read-only queries over the store, for the CLI, the dashboard and reports.

Readers never write and never import torch. Live views poll incrementally with ``since_id``/``since_seq`` so a
refresh costs only the rows added since the last one, not a re-read of whole tables.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from splinebench.errors import BadInputError
from splinebench.store.layer_order import in_layer_order, layer_orders
from splinebench.store.schema import SCHEMA_VERSION, connect


class StoreError(BadInputError):
    """The store is missing, unreadable, corrupt or too new."""


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class RunRow:
    id: str
    name: str
    status: str
    model: str
    dataset: str
    seed: int
    device: str
    pruners: list[str]
    ratios: list[float]
    planned_epochs: int | None
    host: str | None
    pid: int | None
    remote: dict[str, Any] | None
    sweep_id: str | None
    created_at: float
    updated_at: float
    finished_at: float | None
    eb_epoch: int | None
    best_accuracy: float | None
    error: str | None
    results_dir: str | None


#: tables with an ``id`` column that the dashboard polls incrementally
INCREMENTAL_TABLES = frozenset(
    {"epochs", "layer_distances", "net_distances", "early_birds", "models", "results", "energy", "power_samples"}
)


def _open_sqlite(path: str) -> tuple[sqlite3.Connection, int]:
    """A read-only connection to the store at ``path`` and its schema version (sqlite3.DatabaseError if it is not
    one)."""
    try:
        conn = connect(path, readonly=True)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.OperationalError:
        # A WAL store on read-only media with no -shm beside it (and none can be made): nothing can be writing it,
        # so it is read as immutable. With a -wal present, plain read-only mode works.
        if Path(path + "-wal").exists():
            raise
        conn = connect(path, readonly=True, immutable=True)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    try:
        conn.execute("SELECT 1 FROM runs LIMIT 1").fetchall()
    except sqlite3.DatabaseError:
        conn.close()
        raise
    return conn, version


class StoreReader:
    """Queries over one store file.

    Incremental queries are written ``WHERE id > ? AND +run_id = ?``: the unary ``+`` keeps SQLite from using the
    run_id index, so it walks the primary key from the last id seen and reads only the new rows.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        if not Path(self.path).is_file():
            raise StoreError(f"no store at {self.path} (run `splinebench run PROFILE` first, or pass --store PATH)")
        try:
            self.conn, version = _open_sqlite(self.path)
        except sqlite3.DatabaseError as exc:
            # Only a file SQLite refuses is looked at as a results bundle: reading a live store's bytes with
            # open()/close() would drop every POSIX lock this process's SQLite connections hold on it (fcntl locks
            # are per process), and a writer closing then deletes the WAL under a dashboard still reading it.
            from splinebench.store.bundle import BundleError, is_bundle, materialise

            if not is_bundle(self.path):
                raise StoreError(f"{self.path} is not a readable splinebench store: {exc}") from None
            try:
                self.conn, version = _open_sqlite(materialise(self.path))
            except BundleError as bundle_error:
                raise StoreError(str(bundle_error)) from None
            except sqlite3.DatabaseError as replay_error:
                raise StoreError(f"{self.path}: its runs could not be replayed: {replay_error}") from None
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} has schema {version}, newer than this splinebench ({SCHEMA_VERSION})")

    def close(self) -> None:
        self.conn.close()

    def data_version(self) -> int:
        """SQLite's change counter for this connection: it differs between two calls iff another connection
        committed in between. One pragma, no table read, so a live view can ask it many times a second and read
        rows only when something landed."""
        try:
            return int(self.conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} could not be read: {exc}") from None

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    # -- runs -------------------------------------------------------------------------------------------------
    def runs(self) -> list[RunRow]:
        return [self._run(r) for r in self.query("SELECT * FROM runs ORDER BY created_at")]

    def run(self, run_id: str) -> RunRow:
        """The run whose id is ``run_id`` or, failing that, the one run whose id contains it (ids start with the
        date, so the telling part is often in the middle); several matches is an error listing them."""
        rows = self.query("SELECT * FROM runs WHERE id=?", (run_id,))
        if not rows and run_id:
            rows = self.query("SELECT * FROM runs WHERE instr(id, ?) > 0 ORDER BY created_at DESC", (run_id,))
            if len(rows) > 1:
                shown = ", ".join(f"{r['id']} ({r['name']})" for r in rows[:10])
                more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
                raise StoreError(
                    f"run id {run_id!r} is ambiguous: it matches {len(rows)} runs: {shown}{more}; give more of the id"
                )
        if not rows:
            known = [r["id"] for r in self.query("SELECT id FROM runs ORDER BY created_at DESC LIMIT 5")]
            raise StoreError(f"no run {run_id!r} in {self.path} (latest: {', '.join(known) or 'none'})")
        return self._run(rows[0])

    def _run(self, r: sqlite3.Row) -> RunRow:
        status = r["status"]
        if status == "running" and not r["remote"] and r["host"] == os.uname().nodename and not pid_alive(r["pid"]):
            status = "interrupted"
        return RunRow(
            id=r["id"], name=r["name"], status=status, model=r["model"], dataset=r["dataset"], seed=r["seed"],
            device=r["device"], pruners=json.loads(r["pruners"] or "[]"), ratios=json.loads(r["ratios"] or "[]"),
            planned_epochs=r["planned_epochs"], host=r["host"], pid=r["pid"],
            remote=json.loads(r["remote"]) if r["remote"] else None, sweep_id=r["sweep_id"],
            created_at=r["created_at"], updated_at=r["updated_at"], finished_at=r["finished_at"],
            eb_epoch=r["eb_epoch"], best_accuracy=r["best_accuracy"], error=r["error"], results_dir=r["results_dir"],
        )

    def profile(self, run_id: str) -> dict[str, Any]:
        return json.loads(self.query("SELECT profile FROM runs WHERE id=?", (run_id,))[0][0])

    # -- per run ----------------------------------------------------------------------------------------------
    def results(self, run_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.query("SELECT * FROM results WHERE run_id=? ORDER BY pruner, ratio", (run_id,))]

    def epochs(self, run_id: str, since_id: int = 0) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.query("SELECT * FROM epochs WHERE id>? AND +run_id=? ORDER BY id", (since_id, run_id))
        ]

    def layer_distances(self, run_id: str, since_id: int = 0) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.query(
                "SELECT * FROM layer_distances WHERE id>? AND +run_id=? ORDER BY id", (since_id, run_id)
            )
        ]

    def net_distances(self, run_id: str, since_id: int = 0) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.query("SELECT * FROM net_distances WHERE id>? AND +run_id=? ORDER BY id", (since_id, run_id))
        ]

    def distance_matrix(self, run_id: str, phase: str = "dense") -> list[list[float]]:
        rows = self.query("SELECT i, j, distance FROM distance_matrix WHERE run_id=? AND phase=?", (run_id, phase))
        if not rows:
            return []
        n = max(max(r[0], r[1]) for r in rows) + 1
        matrix = [[float("nan")] * n for _ in range(n)]
        for i, j, d in rows:
            matrix[i][j] = d
        return matrix

    def early_birds(self, run_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.query("SELECT * FROM early_birds WHERE run_id=? ORDER BY id", (run_id,))]

    def phases(self, run_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.query("SELECT * FROM phases WHERE run_id=? ORDER BY started_at", (run_id,))]

    def plans(self, run_id: str) -> list[dict[str, Any]]:
        out = []
        for r in self.query("SELECT * FROM plans WHERE run_id=? ORDER BY pruner, ratio", (run_id,)):
            row = dict(r)
            row["layers"] = json.loads(row["layers"])
            out.append(row)
        return out

    def models(self, run_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.query("SELECT * FROM models WHERE run_id=? ORDER BY id", (run_id,))]

    def energy(self, run_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.query("SELECT * FROM energy WHERE run_id=? ORDER BY id", (run_id,))]

    def events(self, run_id: str, since_seq: int = 0) -> list[dict[str, Any]]:
        """The run's events as emitted (per-layer distances in network order, also from stores that sorted them)."""
        orders = layer_orders(self.conn, run_id)
        return [
            in_layer_order(json.loads(r[0]), orders)
            for r in self.query("SELECT payload FROM events WHERE run_id=? AND seq>? ORDER BY seq", (run_id, since_seq))
        ]

    def plan(self, run_id: str) -> dict[str, Any]:
        """The run plan its RunStarted carried ({} for runs recorded before RunStarted carried one)."""
        rows = self.query("SELECT payload FROM events WHERE run_id=? AND type='run_started' LIMIT 1", (run_id,))
        return dict(json.loads(rows[0][0]).get("plan") or {}) if rows else {}

    # -- incremental queries (the dashboard's polls) ------------------------------------------------------------
    def rows_since(self, table: str, run_id: str, since_id: int, columns: str = "*") -> list[dict[str, Any]]:
        """Rows of ``table`` for ``run_id`` with ``id > since_id``, in id order, walking the rowid range only."""
        if table not in INCREMENTAL_TABLES:
            raise ValueError(f"{table!r} has no id column to poll by")
        sql = f"SELECT {columns} FROM {table} WHERE id > ? AND +run_id = ? ORDER BY id"  # noqa: S608 - fixed names
        return [dict(r) for r in self.query(sql, (since_id, run_id))]

    def matrix_since(self, run_id: str, since_rowid: int) -> list[dict[str, Any]]:
        """New distance-matrix cells; the table has no id column, so its rowid (which grows with every insert,
        INSERT OR REPLACE too) serves as one, returned as ``id``."""
        return [dict(r) for r in self.query(
            "SELECT rowid AS id, phase, i, j, distance, subsampled FROM distance_matrix "
            "WHERE rowid > ? AND +run_id = ? ORDER BY rowid", (since_rowid, run_id))]

    def epoch_marks_since(self, since_id: int) -> list[dict[str, Any]]:
        """(id, run_id, phase, epoch) of every run's epochs stored after ``since_id`` (the runs list's progress)."""
        return [dict(r) for r in self.query(
            "SELECT id, run_id, phase, epoch FROM epochs WHERE id > ? ORDER BY id", (since_id,))]

    def all_phases(self) -> list[dict[str, Any]]:
        """(run_id, phase, kind, status) of every run's phases."""
        return [dict(r) for r in self.query("SELECT run_id, phase, kind, status FROM phases")]
    def environment(self, run_id: str) -> dict[str, Any] | None:
        """The environment fingerprint of RunStarted (versions, threads, CPU, GPU, deterministic flags), or None."""
        rows = self.query("SELECT payload FROM events WHERE run_id=? AND type='run_started' ORDER BY seq LIMIT 1",
                          (run_id,))
        return json.loads(rows[0][0]).get("environment") if rows else None

    def last_checkpoint(self, run_id: str) -> dict[str, Any] | None:
        rows = self.query(
            "SELECT * FROM checkpoints WHERE run_id=? ORDER BY rowid DESC LIMIT 1", (run_id,)
        )
        return dict(rows[0]) if rows else None
