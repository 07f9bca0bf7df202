"""A live run holds its run folder's lock: a second resume, or a resume while the run still runs, is refused (exit 2,
nothing written); the lock of a dead run is taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from run_cli import cli, numbers, one_line, read_until, run, run_args, run_row, start

from splinebench.engine.run_lock import RunLock, RunLockedError


def _refused(result: subprocess.CompletedProcess[str], pid: int) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    message = one_line(result.stderr)
    assert f"is in use by PID {pid} on" in message and "run.lock" in message


def test_resuming_a_run_that_still_runs_is_refused_and_writes_nothing(tmp_path):
    store = tmp_path / "store.sqlite"
    proc = start(cli(*run_args(store)), cwd=tmp_path)
    seen = read_until(proc, lambda e: e["type"] == "checkpoint_saved")
    run_id = seen[0]["run_id"]
    os.kill(proc.pid, signal.SIGSTOP)  # hold it still, lock and all, while a resume is tried
    try:
        before = run_row(store, run_id)
        second = run(cli("run", "--resume", run_id, "--store", str(store)), cwd=tmp_path)
        assert run_row(store, run_id) == before  # not truncated, not re-marked: nothing written
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    _refused(second, proc.pid)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    row = run_row(store, run_id)
    assert row["status"] == "finished" and "run_failed" not in row["types"]
    assert row["seqs"] == list(range(1, len(row["seqs"]) + 1))


@pytest.mark.slow  # minutes of the default run's budget; `scripts/test -m slow` runs it
def test_a_second_resume_is_refused_while_the_first_runs(tmp_path, reference_run):
    store = tmp_path / "store.sqlite"
    original = start(cli(*run_args(store)), cwd=tmp_path)
    seen = read_until(original, lambda e: e["type"] == "checkpoint_saved")
    original.kill()  # kill -9: its lock goes with it
    original.wait(timeout=60)
    run_id = seen[0]["run_id"]

    first = start(cli("run", "--resume", run_id, "--store", str(store), "--json"), cwd=tmp_path)
    read_until(first, lambda e: e["type"] == "run_resumed")  # the lock is taken before run_resumed is sent
    os.kill(first.pid, signal.SIGSTOP)
    try:
        second = run(cli("run", "--resume", run_id, "--store", str(store)), cwd=tmp_path)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    _refused(second, first.pid)
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]
    assert numbers(store, run_id) == reference_run


HOLDER = """
import sys, time
from splinebench.engine.run_lock import RunLock
RunLock(sys.argv[1], "r").acquire()
print("locked", flush=True)
time.sleep(600)
"""


def test_the_lock_of_a_live_process_refuses_and_that_of_a_killed_one_is_taken_over(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError, match=f"in use by PID {holder.pid} on "):
            RunLock(tmp_path, "r").acquire()
    finally:
        holder.kill()  # kill -9: the stale lock file stays, naming a dead PID
        holder.wait(timeout=60)
    assert RunLock(tmp_path, "r").holder()["pid"] == holder.pid
    lock = RunLock(tmp_path, "r").acquire()
    try:
        assert lock.holder()["pid"] == os.getpid()
    finally:
        lock.release()
