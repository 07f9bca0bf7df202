"""The store never loses an event: a write that fails stops the run loudly (exit 1, one line, marked failed where the
store still takes a write); a store that is busy for a while is waited for; a full disk leaves an honest status."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from run_cli import cli, numbers, one_line, read_until, run, run_args, run_row, start

from splinebench.errors import RunAbortedError


def test_an_event_the_store_cannot_take_stops_the_run_marked_failed_in_its_place(tmp_path, tiny_profile,
                                                                                monkeypatch):
    from splinebench.engine.run import execute
    from splinebench.store import StoreWriter

    monkeypatch.setenv("SPLINEBENCH_STORE_BUSY_TIMEOUT", "0")
    real_write = StoreWriter._write

    def locked_at_seq_7(self, payload):
        if payload["seq"] == 7 and payload["type"] != "run_failed":
            raise sqlite3.OperationalError("database is locked")
        return real_write(self, payload)

    monkeypatch.setattr(StoreWriter, "_write", locked_at_seq_7)
    watched = []
    store = tmp_path / "store.sqlite"
    with pytest.raises(RunAbortedError, match=r"event 7 \(.*could not be stored: .*database is locked.*marked failed"):
        execute(tiny_profile(), str(store), [watched.append], run_id="r1")
    row = run_row(store, "r1")
    assert row["seqs"] == list(range(1, 8))  # no hole: run_failed took the lost event's number
    assert row["types"][-1] == "run_failed" and row["status"] == "failed"
    assert "database is locked" in row["error"]
    assert [e.seq for e in watched] == row["seqs"]  # the watchers saw exactly what the store holds
    assert (tmp_path / "runs" / "r1" / "run.lock").exists()


@pytest.mark.slow  # minutes of the default run's budget; `scripts/test -m slow` runs it
def test_a_store_locked_longer_than_the_busy_timeout_stops_the_run_loudly(tmp_path, reference_run):
    store = tmp_path / "store.sqlite"
    proc = start(cli(*run_args(store)), cwd=tmp_path, SPLINEBENCH_STORE_BUSY_TIMEOUT="2")
    seen = read_until(proc, lambda e: e["type"] == "epoch_finished")
    holder = sqlite3.connect(store, timeout=60)
    holder.execute("BEGIN IMMEDIATE")  # another process takes the write lock and keeps it until the run gave up
    out, err = proc.communicate(timeout=120)
    holder.rollback()
    holder.close()
    assert proc.returncode == 1, err[-2000:]
    assert "Traceback" not in err
    message = one_line(err)
    assert "could not be stored" in message and "database is locked" in message
    assert "shows as interrupted" in message  # the lock outlived the attempt to mark it failed too
    run_id = seen[0]["run_id"]
    row = run_row(store, run_id)
    printed = [e["seq"] for e in seen] + [int(line.split('"seq": ')[1].split(",")[0]) for line in out.splitlines()]
    assert row["seqs"] == list(range(1, len(row["seqs"]) + 1))
    assert set(printed) <= set(row["seqs"])  # every event a watcher saw is in the store
    listed = run(cli("runs", "list", "--store", str(store)), cwd=tmp_path)
    assert "interrupted" in listed.stdout

    resumed = run(cli("run", "--resume", run_id, "--store", str(store)), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert numbers(store, run_id) == reference_run


@pytest.mark.slow  # kept out of the default run for time; `scripts/test -m slow` runs it
def test_a_short_lock_is_waited_out_and_the_run_finishes_complete(tmp_path, reference_run):
    store = tmp_path / "store.sqlite"
    proc = start(cli(*run_args(store)), cwd=tmp_path, SPLINEBENCH_STORE_BUSY_TIMEOUT="60")
    seen = read_until(proc, lambda e: e["type"] == "epoch_finished")
    holder = sqlite3.connect(store, timeout=60)
    holder.execute("BEGIN IMMEDIATE")
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=1.5)  # the run stays blocked on its next write meanwhile
    holder.rollback()
    holder.close()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert numbers(store, seen[0]["run_id"]) == reference_run


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.slow  # kept out of the default run for time; `scripts/test -m slow` runs it
@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs `unshare -m` and tmpfs mounts (root in a container)")
def test_a_full_disk_at_a_checkpoint_fails_honestly_and_resumes_identically(tmp_path, reference_run):
    # The run folder lives on a 200 KiB tmpfs: the first ticket (111 KB) fits, the first epoch checkpoint does not.
    store_dir, mount, saved = tmp_path / "store", tmp_path / "mnt", tmp_path / "saved"
    for folder in (store_dir, mount, saved):
        folder.mkdir()
    (store_dir / "runs").symlink_to(mount)
    store = store_dir / "store.sqlite"
    command = " ".join(f"'{a}'" for a in cli(*run_args(store)))
    script = f"mount -t tmpfs -o size=200k tmpfs '{mount}' && {command}; rc=$?; cp -a '{mount}/.' '{saved}/'; exit $rc"
    full = run(["unshare", "-m", "sh", "-c", script], cwd=tmp_path)
    assert full.returncode == 1, full.stderr[-2000:]
    assert "Traceback" not in full.stderr
    message = one_line(full.stderr)
    assert "cannot write checkpoint" in message and "No space left on device" in message and "marked failed" in message
    assert not list(saved.rglob("*.tmp"))
    run_id = full.stdout.splitlines()[0].split('"run_id": "')[1].split('"')[0]
    assert run_row(store, run_id)["status"] == "failed"

    (store_dir / "runs").unlink()  # space freed: the run folder as the full disk left it, on a roomy disk
    shutil.copytree(saved, store_dir / "runs")
    resumed = run(cli("run", "--resume", run_id, "--store", str(store)), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert numbers(store, run_id) == reference_run
    assert not list(Path(store_dir / "runs").rglob("*.tmp"))
