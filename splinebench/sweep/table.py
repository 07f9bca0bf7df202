"""The store's ``sweeps`` table and the trials of a sweep (standard library only: reports and the dashboard use it).

A sweep row keeps what ``--resume`` needs to rebuild the plan: the base profile (after ``--set``; its ``sweep``
table holds the resolved grid, the executor settings and the storage root) and the grid. Its trials are the runs
whose ``sweep_id`` is the sweep's id. The sweep summary (shared dense phases, training MACs charged once and in
full, the node of every task) is written to ``summary.json`` beside the tasks, and to the row's ``summary`` column
where the schema has one.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from typing import Any

from splinebench.errors import BadInputError
from splinebench.store import StoreReader, StoreWriter

Store = str | os.PathLike[str] | StoreReader | StoreWriter


class _Opened:
    """A reader or writer as given, or a reader opened (and closed) for one call."""

    def __init__(self, store: Store) -> None:
        self.owned = not isinstance(store, (StoreReader, StoreWriter))
        self.handle = StoreReader(store) if self.owned else store  # type: ignore[arg-type]

    def __enter__(self) -> sqlite3.Connection:
        return self.handle.conn

    def __exit__(self, *exc: object) -> None:
        if self.owned:
            self.handle.close()


def _find(conn: sqlite3.Connection, sweep_id: str) -> sqlite3.Row:
    rows = conn.execute("SELECT * FROM sweeps WHERE id=?", (sweep_id,)).fetchall()
    if not rows:
        rows = conn.execute("SELECT * FROM sweeps WHERE id LIKE ? ORDER BY created_at", (sweep_id + "%",)).fetchall()
    if len(rows) > 1:
        raise BadInputError(f"sweep id {sweep_id!r} is ambiguous: {', '.join(r['id'] for r in rows[:5])}")
    if not rows:
        known = [r[0] for r in conn.execute("SELECT id FROM sweeps ORDER BY created_at DESC LIMIT 5")]
        raise BadInputError(f"no sweep {sweep_id!r} in the store (latest: {', '.join(known) or 'none'})")
    return rows[0]


def sweep_row(store: Store, sweep_id: str) -> dict[str, Any]:
    """The sweep's row, found by id or a unique prefix of it; ``profile``, ``grid`` (and ``summary``) decoded."""
    with _Opened(store) as conn:
        row = dict(_find(conn, sweep_id))
    for key in ("profile", "grid", "summary"):
        if row.get(key):
            row[key] = json.loads(row[key])
    return row


def sweep_runs(store: Store, sweep_id: str) -> list[str]:
    """Run ids of the sweep's trials, in trial order (for ``splinebench report SWEEP_ID``)."""
    with _Opened(store) as conn:
        found = _find(conn, sweep_id)["id"]
        return [r[0] for r in conn.execute("SELECT id FROM runs WHERE sweep_id=? ORDER BY id", (found,))]


def sweeps(store: Store) -> list[dict[str, Any]]:
    """Every sweep, oldest first, with its number of trials."""
    with _Opened(store) as conn:
        rows = conn.execute(
            "SELECT s.id, s.name, s.status, s.created_at, s.finished_at, COUNT(r.id) AS trials "
            "FROM sweeps s LEFT JOIN runs r ON r.sweep_id = s.id GROUP BY s.id ORDER BY s.created_at"
        ).fetchall()
        return [dict(r) for r in rows]


def _has_column(conn: sqlite3.Connection, column: str) -> bool:
    return any(r[1] == column for r in conn.execute("PRAGMA table_info(sweeps)"))


def record_sweep(writer: StoreWriter, sweep_id: str, name: str, profile: dict[str, Any],
                 grid: dict[str, list[Any]]) -> None:
    with writer.conn:
        writer.conn.execute(
            "INSERT OR IGNORE INTO sweeps(id, name, profile, grid, status, created_at) VALUES (?,?,?,?,?,?)",
            (sweep_id, name, json.dumps(profile, sort_keys=True), json.dumps(grid), "running", time.time()),
        )
        writer.conn.execute("UPDATE sweeps SET status='running', finished_at=NULL WHERE id=?", (sweep_id,))


def finish_sweep(writer: StoreWriter, sweep_id: str, status: str, summary: dict[str, Any]) -> None:
    with writer.conn:
        writer.conn.execute("UPDATE sweeps SET status=?, finished_at=? WHERE id=?", (status, time.time(), sweep_id))
        if _has_column(writer.conn, "summary"):
            writer.conn.execute("UPDATE sweeps SET summary=? WHERE id=?", (json.dumps(summary), sweep_id))
