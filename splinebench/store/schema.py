"""The SQLite schema of the results store, and its migrations.

Design: ``events`` is the append-only source of truth, keyed by ``(run_id, seq)`` so a replayed event (a remote run
after a reconnect, a sweep worker's retry) is stored exactly once. Every other table is a *projection* of the events,
written in the same transaction, shaped for the questions people ask with plain ``sqlite3``: per-epoch metrics,
per-layer partition distances, the EB epoch, plans, FLOPs, energy. ``docs/store.md`` documents each column.

Migrations are a list of SQL scripts; ``user_version`` records how many have run. Never edit a shipped script:
append a new one.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: list[str] = [
    # 1: the initial schema
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        status TEXT NOT NULL,              -- running | finished | failed (interrupted is derived: running, dead pid)
        model TEXT, dataset TEXT, seed INTEGER, device TEXT,
        pruners TEXT,                      -- JSON list of pruner labels
        ratios TEXT,                       -- JSON list of ratios
        planned_epochs INTEGER,
        profile TEXT NOT NULL,             -- the fully resolved profile, JSON
        versions TEXT NOT NULL,            -- JSON: splinebench, torch, python, schema...
        host TEXT, pid INTEGER,
        results_dir TEXT,
        remote TEXT,                       -- JSON: host, remote run id, remote pid, clock offset (remote runs only)
        sweep_id TEXT,
        created_at REAL NOT NULL, updated_at REAL NOT NULL, finished_at REAL,
        eb_epoch INTEGER,
        best_accuracy REAL,
        error TEXT
    );
    CREATE TABLE events (
        run_id TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL, type TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
    CREATE INDEX events_type ON events(run_id, type);
    CREATE TABLE phases (
        run_id TEXT NOT NULL, phase TEXT NOT NULL, kind TEXT NOT NULL,
        pruner TEXT, ratio REAL, planned_epochs INTEGER,
        status TEXT NOT NULL,              -- running | finished
        epochs INTEGER, seconds REAL, training_flops REAL, stopped_early INTEGER,
        started_at REAL, finished_at REAL,
        PRIMARY KEY (run_id, phase)
    );
    CREATE TABLE epochs (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL, phase TEXT NOT NULL, epoch INTEGER NOT NULL,
        train_loss REAL, train_acc REAL, test_loss REAL, test_acc REAL, lr REAL,
        seconds REAL, samples INTEGER, training_flops REAL, ts REAL,
        UNIQUE (run_id, phase, epoch)
    );
    CREATE TABLE layer_distances (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL, phase TEXT NOT NULL, epoch INTEGER NOT NULL,
        layer_index INTEGER NOT NULL, layer TEXT NOT NULL, distance REAL NOT NULL
    );
    CREATE INDEX layer_distances_run ON layer_distances(run_id, phase, epoch);
    CREATE TABLE net_distances (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL, phase TEXT NOT NULL, epoch INTEGER NOT NULL,
        mean_of_layers REAL NOT NULL, bit_weighted REAL NOT NULL,
        UNIQUE (run_id, phase, epoch)
    );
    CREATE TABLE distance_matrix (
        run_id TEXT NOT NULL, phase TEXT NOT NULL, i INTEGER NOT NULL, j INTEGER NOT NULL, distance REAL NOT NULL,
        subsampled INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, phase, i, j)
    );
    CREATE TABLE early_birds (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL, detector TEXT NOT NULL, phase TEXT NOT NULL, epoch INTEGER NOT NULL,
        eps REAL, window INTEGER, fifo TEXT, ts REAL
    );
    CREATE TABLE plans (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL, pruner TEXT NOT NULL, ratio REAL NOT NULL, ticket TEXT, ticket_epoch INTEGER,
        structured INTEGER NOT NULL, asked_ratio REAL, achieved_ratio REAL, seconds REAL,
        layers TEXT NOT NULL,              -- JSON list: name, units_before, units_after, asked, achieved, reason
        UNIQUE (run_id, pruner, ratio)
    );
    CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL, tag TEXT NOT NULL,   -- "dense" or "<pruner>@<ratio>"
        pruner TEXT, ratio REAL,
        params INTEGER, flops REAL,                -- per-sample forward MACs (fvcore)
        params_before INTEGER, flops_before REAL,
        sparse_flops REAL,                         -- unstructured only: density-weighted MACs
        unsupported_ops TEXT,
        UNIQUE (run_id, tag)
    );
    CREATE TABLE results (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL, pruner TEXT NOT NULL, ratio REAL NOT NULL,
        status TEXT NOT NULL,              -- ok | failed
        accuracy REAL, loss REAL, ticket TEXT, eb_epoch INTEGER, dense_phase TEXT, ticket_epoch INTEGER,
        dense_training_flops REAL, retrain_training_flops REAL, total_training_flops REAL,
        params INTEGER, flops REAL, sparse_flops REAL,
        dense_energy_j REAL, retrain_energy_j REAL, total_energy_j REAL,
        error TEXT, stage TEXT,
        UNIQUE (run_id, pruner, ratio)
    );
    CREATE TABLE checkpoints (
        run_id TEXT NOT NULL, phase TEXT NOT NULL, epoch INTEGER NOT NULL, path TEXT NOT NULL,
        PRIMARY KEY (run_id, phase, epoch)
    );
    CREATE TABLE energy (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL, window TEXT NOT NULL, phase TEXT, epoch INTEGER,
        t0 REAL, t1 REAL, joules REAL, mean_power_w REAL, idle_power_w REAL, net_joules REAL,
        provenance TEXT, why TEXT
    );
    CREATE TABLE power_samples (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL, t REAL NOT NULL, total_mw REAL, rails TEXT
    );
    CREATE INDEX power_samples_run ON power_samples(run_id, t);
    CREATE TABLE sweeps (
        id TEXT PRIMARY KEY, name TEXT, profile TEXT, grid TEXT, status TEXT,
        created_at REAL, finished_at REAL
    );
    """,
    # 2: a sweep's summary (shared dense phases, FLOPs charged once per sweep, node of every task)
    """
    ALTER TABLE sweeps ADD COLUMN summary TEXT;
    """,
    # 3: energy that under-counts is marked: a window's sample coverage and whether it is partial; a result's
    #    totals are partial when any window they include is (with the lowest coverage among them)
    """
    ALTER TABLE energy ADD COLUMN coverage REAL;
    ALTER TABLE energy ADD COLUMN partial INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE results ADD COLUMN energy_partial INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE results ADD COLUMN energy_coverage REAL;
    """,
    # 4: measured inference latency and speed-up against the dense model, per result (ms per batch)
    """
    ALTER TABLE results ADD COLUMN latency_ms REAL;
    ALTER TABLE results ADD COLUMN latency_iqr_ms REAL;
    ALTER TABLE results ADD COLUMN dense_latency_ms REAL;
    ALTER TABLE results ADD COLUMN speedup REAL;
    ALTER TABLE results ADD COLUMN speedup_iqr REAL;
    ALTER TABLE results ADD COLUMN latency_batch INTEGER;
    ALTER TABLE results ADD COLUMN latency_repeats INTEGER;
    ALTER TABLE results ADD COLUMN latency_method TEXT;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)

#: Tables that are pure projections of ``events`` (rebuilt from them on resume).
PROJECTION_TABLES = (
    "phases", "epochs", "layer_distances", "net_distances", "distance_matrix", "early_birds",
    "plans", "models", "results", "checkpoints", "energy",
)


def connect(path: str, *, readonly: bool = False, timeout: float = 30.0, immutable: bool = False) -> sqlite3.Connection:
    """Open the store in WAL mode so one process writes while others (the dashboard) read.

    ``immutable`` (read-only only) is for a store on read-only media: SQLite then takes no locks and needs no -shm.
    """
    if readonly:
        from urllib.parse import quote

        uri = f"file:{quote(path)}?mode=ro" + ("&immutable=1" if immutable else "")
        conn = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, timeout=timeout, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date; returns the version reached. Refuses stores newer than this code."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"store schema version {version} is newer than this splinebench understands ({SCHEMA_VERSION}); "
            "upgrade splinebench"
        )
    for number in range(version, SCHEMA_VERSION):
        # One transaction per migration: a crash leaves the store at the previous version, never half-migrated.
        conn.executescript(f"BEGIN;\n{MIGRATIONS[number]}\nPRAGMA user_version = {number + 1};\nCOMMIT;")
    return SCHEMA_VERSION
