"""The store: migrations, exactly-once events, truncation on resume, a reader beside a writer."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading

import pytest

from splinebench.engine.events import EpochFinished, EventBus, PartitionDistances, RunStarted
from splinebench.store import SCHEMA_VERSION, StoreError, StoreReader, StoreWriter, connect, migrate


def _start(bus: EventBus) -> None:
    bus.emit(RunStarted, name="t", profile={}, versions={}, model="m", dataset="d", seed=0, device="cpu",
             host="h", pid=1)


def _epoch(bus: EventBus, epoch: int) -> None:
    bus.emit(EpochFinished, phase="dense", epoch=epoch, train_loss=1.0 / epoch, train_acc=0.5, test_loss=1.0,
             test_acc=0.1 * epoch, lr=0.1, seconds=1.0, samples=10, training_flops=100.0)
    bus.emit(PartitionDistances, phase="dense", epoch=epoch, per_layer={"a": 0.2, "b": 0.4}, mean_of_layers=0.3,
             bit_weighted=0.25)


def test_a_new_store_is_migrated_to_the_current_schema(tmp_path):
    StoreWriter(tmp_path / "s.sqlite").close()
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_store_from_a_newer_splinebench_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    StoreWriter(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    with pytest.raises(RuntimeError, match="newer"):
        migrate(connect(str(path)))
    with pytest.raises(StoreError, match="newer"):
        StoreReader(path)


def test_replayed_events_are_stored_exactly_once(tmp_path):
    writer = StoreWriter(tmp_path / "s.sqlite")
    events: list = []
    bus = EventBus("r1")
    bus.subscribe(events.append)
    _start(bus)
    _epoch(bus, 1)
    payloads = [e.to_dict() for e in events]
    assert [writer.write(p) for p in payloads] == [True, True, True]
    assert writer.write_many(payloads) == 0  # a reconnect replays everything: nothing doubles
    reader = StoreReader(tmp_path / "s.sqlite")
    assert len(reader.epochs("r1")) == 1
    assert len(reader.layer_distances("r1")) == 2


def test_truncating_after_a_checkpoint_rebuilds_the_projections(tmp_path):
    writer = StoreWriter(tmp_path / "s.sqlite")
    bus = EventBus("r1")
    bus.subscribe(writer)
    _start(bus)
    _epoch(bus, 1)
    checkpoint_seq = bus.seq
    _epoch(bus, 2)
    writer.truncate_after("r1", checkpoint_seq)
    reader = StoreReader(tmp_path / "s.sqlite")
    assert [e["epoch"] for e in reader.epochs("r1")] == [1]
    assert {d["epoch"] for d in reader.layer_distances("r1")} == {1}
    assert reader.run("r1").best_accuracy == pytest.approx(0.1)
    assert writer.last_seq("r1") == checkpoint_seq


NETWORK_ORDER = ["relu1", "relu2", "relu10", "relu3"]  # not sorted: sorting would move relu10 before relu2


def _layered_epoch(bus: EventBus, epoch: int) -> None:
    bus.emit(PartitionDistances, phase="dense", epoch=epoch, per_layer={n: 0.1 * epoch for n in NETWORK_ORDER},
             mean_of_layers=0.1, bit_weighted=0.1)


def _layer_order(path, epoch: int) -> list[str]:
    return [r["layer"] for r in StoreReader(path).layer_distances("r1") if r["epoch"] == epoch]


@pytest.mark.parametrize("legacy", [False, True], ids=["new-store", "store-with-sorted-event-payloads"])
def test_rebuilt_projections_and_exported_events_keep_the_network_s_layer_order(tmp_path, legacy):
    """A resumed run's projections are rebuilt from its events, and a bundle is its events: either way "the 7th
    layer" must stay the 7th. (Event payloads used to be stored with sorted keys, which reordered per-layer dicts.)"""
    import json

    path = tmp_path / "s.sqlite"
    writer = StoreWriter(path)
    bus = EventBus("r1")
    bus.subscribe(writer)
    _start(bus)
    _layered_epoch(bus, 1)
    _layered_epoch(bus, 2)
    if legacy:  # what a store written before this fix holds
        for seq, payload in writer.conn.execute("SELECT seq, payload FROM events").fetchall():
            writer.conn.execute("UPDATE events SET payload=? WHERE seq=?",
                                (json.dumps(json.loads(payload), sort_keys=True), seq))
        writer.conn.commit()
    exported = [e["per_layer"] for e in StoreReader(path).events("r1") if e["type"] == "partition_distances"]
    assert [list(d) for d in exported] == [NETWORK_ORDER, NETWORK_ORDER]
    from splinebench.store.bundle import bundle_dict, write_bundle

    bundle = write_bundle(bundle_dict(StoreReader(path), ["r1"]), tmp_path / "runs.json.gz")
    assert _layer_order(bundle, 2) == NETWORK_ORDER
    writer.truncate_after("r1", bus.seq - 1)
    assert _layer_order(path, 1) == NETWORK_ORDER


def test_a_reader_sees_new_rows_while_a_writer_is_writing(tmp_path):
    path = tmp_path / "s.sqlite"
    writer = StoreWriter(path)
    bus = EventBus("r1")
    bus.subscribe(writer)
    _start(bus)
    reader = StoreReader(path)
    seen: list[int] = []
    last_id = 0

    def write() -> None:
        for epoch in range(1, 51):
            _epoch(bus, epoch)

    thread = threading.Thread(target=write)
    thread.start()
    while thread.is_alive() or len(seen) < 50:
        rows = reader.epochs("r1", since_id=last_id)  # incremental: only what is new
        for row in rows:
            seen.append(row["epoch"])
            last_id = row["id"]
        if not thread.is_alive() and not rows and len(seen) >= 50:
            break
    thread.join()
    assert seen == list(range(1, 51))


_WRITE_ONE_RUN = """
import sys
from splinebench.engine.events import EventBus, RunStarted
from splinebench.store import StoreWriter
writer = StoreWriter(sys.argv[1])
bus = EventBus(sys.argv[2])
bus.subscribe(writer)
bus.emit(RunStarted, name="t", profile={}, versions={}, model="m", dataset="d", seed=0, device="cpu", host="h", pid=1)
print("written", flush=True)
sys.stdin.readline()  # stay open until told
writer.close()
"""


def test_readers_opened_beside_a_live_writer_see_the_next_run_after_it_closed(tmp_path):
    """The dashboard opens readers (runs list, store watch, run screen) while a run writes; that run stops and a
    resumed one writes and closes. Every open reader must see it. (Sniffing the file's bytes for a bundle with
    open()/close() used to drop this process's SQLite locks, so the closing writer deleted the WAL under the open
    readers: they read a stale store until restarted.)"""
    path = str(tmp_path / "s.sqlite")

    def start_writer(run_id: str) -> subprocess.Popen[str]:
        process = subprocess.Popen([sys.executable, "-c", _WRITE_ONE_RUN, path, run_id], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None and process.stdout.readline().strip() == "written"
        return process

    def close(process: subprocess.Popen[str]) -> None:
        process.communicate("\n", timeout=120)
        assert process.returncode == 0

    first = start_writer("first")
    readers = [StoreReader(path), StoreReader(path)]
    assert all([r.id for r in reader.runs()] == ["first"] for reader in readers)
    close(first)
    versions = [reader.data_version() for reader in readers]
    close(start_writer("second"))
    for reader, version in zip(readers, versions, strict=True):
        assert reader.data_version() != version
        assert sorted(r.id for r in reader.runs()) == ["first", "second"]


def test_unknown_and_ambiguous_run_ids_are_clear_errors(tmp_path):
    writer = StoreWriter(tmp_path / "s.sqlite")
    for run_id in ("2026-a1", "2026-a2"):
        bus = EventBus(run_id)
        bus.subscribe(writer)
        _start(bus)
    reader = StoreReader(tmp_path / "s.sqlite")
    assert reader.run("2026-a1").id == "2026-a1"
    with pytest.raises(StoreError, match="ambiguous"):
        reader.run("2026-a")
    with pytest.raises(StoreError, match="no run 'zzz'"):
        reader.run("zzz")


def test_a_corrupt_file_is_reported_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a readable splinebench store"):
        StoreReader(bad)


def test_a_store_of_an_older_schema_is_migrated_and_keeps_its_runs(tmp_path):
    from splinebench.store.schema import MIGRATIONS

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(f"BEGIN;{MIGRATIONS[0]}PRAGMA user_version = 1;COMMIT;")  # a schema-1 store
    conn.close()
    writer = StoreWriter(path)  # opening it migrates
    bus = EventBus("r1")
    bus.subscribe(writer)
    _start(bus)
    columns = [r[1] for r in writer.conn.execute("PRAGMA table_info(sweeps)")]
    assert "summary" in columns
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert StoreReader(path).run("r1").status == "running"
