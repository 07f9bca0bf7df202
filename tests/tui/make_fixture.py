"""Rebuild ``fixtures/quickstart.sqlite``, the recorded store the snapshot tests draw.

    cd /tmp && splinebench run /path/to/profiles/quickstart.toml --store /tmp/tui-fixture/store.sqlite \\
        --set train.epochs=5 --set retrain.epochs=1
    python tests/tui/make_fixture.py /tmp/tui-fixture/store.sqlite

Only the store is kept (no checkpoints), with what changes from machine to machine taken out: the host
name, the process id, and the absolute folder the run wrote to. Timestamps stay as recorded (the dashboard
shows them as UTC, so they draw the same everywhere). Columns the current schema has and the recorded store
lacks (added to schema 1 since it was recorded) are added, empty.
"""

from __future__ import annotations

import socket
import sqlite3
import sys
from pathlib import Path

from splinebench.store import migrate

FIXTURE = Path(__file__).parent / "fixtures" / "quickstart.sqlite"


def main(source: str) -> None:
    folder = str(Path(source).resolve().parent) + "/"
    FIXTURE.unlink(missing_ok=True)
    conn = sqlite3.connect(source)
    conn.execute(f"VACUUM INTO '{FIXTURE}'")
    conn.close()
    out = sqlite3.connect(FIXTURE)
    with out:
        out.execute(
            "UPDATE runs SET host='fixture-host', pid=0, results_dir=REPLACE(results_dir, ?, '')", (folder,)
        )
        out.execute("UPDATE checkpoints SET path=REPLACE(path, ?, '')", (folder,))
        out.execute(
            "UPDATE events SET payload=REPLACE(REPLACE(payload, ?, ''), ?, 'fixture-host')",
            (folder, socket.gethostname()),
        )
        _add_missing_columns(out)
    out.execute("PRAGMA journal_mode=DELETE")
    out.execute("VACUUM")
    out.close()
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size // 1024} KiB)")


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Columns the current schema has and the recorded store lacks, added empty (nothing recorded them)."""
    current = sqlite3.connect(":memory:")
    migrate(current)
    for (table,) in current.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for row in current.execute(f"PRAGMA table_info({table})"):
            if row[1] not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {row[1]} {row[2]}")
    current.close()


if __name__ == "__main__":
    main(sys.argv[1])
