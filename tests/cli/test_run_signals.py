"""Stopping through the real console script: SIGINT (even when a shell started the run with it ignored) and SIGTERM
end a run as Ctrl-C does, and `runs attach` on a remote run
that has ended is a no-op that says so."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tiny_profiles import tiny_profile_dict

from splinebench.store import StoreReader, StoreWriter

SCRIPT = Path(sys.executable).with_name("splinebench")


@pytest.mark.parametrize("sig", [signal.SIGINT, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)],
                         ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_a_run_started_in_the_background_and_records_it_interrupted(tmp_path, sig):
    profile = tmp_path / "long.json"
    profile.write_text(json.dumps(tiny_profile_dict(**{"train.epochs": 60})))
    store = tmp_path / "store.sqlite"
    # started the way a board starts it: a shell's background job, which begins with SIGINT ignored
    shell = subprocess.Popen(["sh", "-c", f"{SCRIPT} run {profile} --store {store} > {tmp_path}/log 2>&1 & echo $!"],
                             stdout=subprocess.PIPE, text=True)
    pid = int(shell.communicate(timeout=30)[0].strip())
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                if sqlite3.connect(store).execute("SELECT COUNT(*) FROM epochs").fetchone()[0] >= 1:
                    break
            except sqlite3.Error:
                pass
            time.sleep(0.2)
        os.kill(pid, sig)
        while time.time() < deadline and Path(f"/proc/{pid}").exists() and \
                Path(f"/proc/{pid}/cmdline").read_bytes():
            time.sleep(0.2)
    finally:
        if Path(f"/proc/{pid}/cmdline").exists() and Path(f"/proc/{pid}/cmdline").read_bytes():
            os.kill(pid, signal.SIGKILL)
    log = (tmp_path / "log").read_text()
    assert "Traceback" not in log
    run = StoreReader(store).runs()[0]
    assert f"run {run.id} interrupted; resume with `splinebench run --resume {run.id}`" in " ".join(log.split())
    assert run.status == "interrupted"


def test_attach_on_a_finished_remote_run_says_so_and_changes_nothing(tmp_path):
    store = tmp_path / "store.sqlite"
    writer = StoreWriter(store)
    run_id = "20261130-120000-cccccc"
    writer.write({"type": "run_started", "run_id": run_id, "seq": 1, "ts": 1.0, "name": "t", "profile": {},
                  "versions": {}, "model": "m", "dataset": "d", "seed": 0, "device": "cpu"})
    writer.write({"type": "run_finished", "run_id": run_id, "seq": 2, "ts": 2.0, "seconds": 1.0})
    writer.set_run_fields(run_id, remote={"url": "ssh://nobody@127.0.0.1:9", "host": "127.0.0.1:9", "pid": 4242,
                                          "remote_dir": "/nowhere", "remote_run_id": run_id})
    writer.close()
    result = subprocess.run([str(SCRIPT), "runs", "attach", run_id, "--store", str(store)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"run {run_id} is finished; nothing to attach to" in result.stderr
    assert "Traceback" not in result.stderr and "runs attach" not in result.stderr  # no advice that loops
    assert StoreReader(store).run(run_id).status == "finished"
