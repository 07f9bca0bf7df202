"""Remote runs against a real sshd on loopback: same results as local, exactly-once events across a cut link."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from tiny_profiles import tiny_profile_dict

from splinebench.engine.run import execute
from splinebench.errors import BadInputError
from splinebench.measure.ssh import HostKeyError
from splinebench.profiles import profile_from_dict
from splinebench.remote import ConnectOptions, RemoteError, RemoteOptions, run_remote, stop

pytestmark = pytest.mark.ssh
ROOT = Path(__file__).resolve().parents[2]


def _profile(**changes):
    return profile_from_dict(tiny_profile_dict(**changes))


def _options(board, tmp_path: Path, **kw) -> RemoteOptions:
    connect = ConnectOptions(board.url, known_hosts=[str(board.known_hosts)], client_keys=[str(board.client_key)],
                             config=[])
    meter = {"known_hosts": [str(board.known_hosts)], "client_keys": [str(board.client_key)], "config": [],
             "interval_ms": 100}
    return RemoteOptions(connect, remote_dir=str(tmp_path / "on-board"), meter_options=meter, poll_s=0.2, **kw)


def _running(board, pid: int) -> bool:
    """Whether ``pid`` runs on the board (a zombie waiting for the container's init to reap it does not)."""
    return board.ssh(f"test -s /proc/{int(pid)}/cmdline").returncode == 0


def _metrics(store: Path, run_id: str) -> dict[str, list[tuple]]:
    db = sqlite3.connect(store)
    out = {
        "epochs": db.execute("SELECT phase, epoch, train_loss, test_acc FROM epochs WHERE run_id=? "
                             "ORDER BY phase, epoch", (run_id,)).fetchall(),
        "distances": db.execute("SELECT phase, epoch, layer, distance FROM layer_distances WHERE run_id=? "
                                "ORDER BY phase, epoch, layer", (run_id,)).fetchall(),
        "eb": db.execute("SELECT eb_epoch FROM runs WHERE id=?", (run_id,)).fetchall(),
        "plans": db.execute("SELECT pruner, ratio, layers FROM plans WHERE run_id=? ORDER BY pruner", (run_id,))
        .fetchall(),
        "results": db.execute("SELECT pruner, ratio, accuracy, total_training_flops FROM results WHERE run_id=? "
                              "ORDER BY pruner, ratio", (run_id,)).fetchall(),
    }
    db.close()
    return out


def test_a_remote_run_records_here_what_a_local_run_records(board, tmp_path):
    profile = _profile()
    local_id, ok = execute(profile, str(tmp_path / "local" / "store.sqlite"))
    assert ok
    store = tmp_path / "here" / "store.sqlite"
    remote_id, ok = run_remote(profile, str(store), _options(board, tmp_path))
    assert ok
    assert _metrics(store, remote_id) == _metrics(tmp_path / "local" / "store.sqlite", local_id)
    db = sqlite3.connect(store)
    remote = db.execute("SELECT remote, status FROM runs WHERE id=?", (remote_id,)).fetchone()
    assert '"pid"' in remote[0] and remote[1] == "finished"
    # the board's power, cut into the remote epochs on the board's clock
    joules = db.execute("SELECT COUNT(*), MIN(joules) FROM energy WHERE run_id=? AND window='epoch'",
                        (remote_id,)).fetchone()
    assert joules[0] > 0 and joules[1] > 0
    assert db.execute("SELECT COUNT(*) FROM results WHERE run_id=? AND total_energy_j > 0", (remote_id,)
                      ).fetchone()[0] > 0
    # checkpoints and tickets came back
    assert list((tmp_path / "here" / "runs" / remote_id / "tickets").glob("*.pt"))


@pytest.mark.slow  # minutes of the default run's budget; `scripts/test -m slow` runs it
def test_cutting_the_link_mid_run_loses_no_event_and_doubles_none(board, tmp_path):
    profile = _profile(**{"train.epochs": 15, "data.name": "mnist-5k"})  # long enough to cut the link mid-run
    store = tmp_path / "store.sqlite"
    options = _options(board, tmp_path, energy="none")
    cut = threading.Event()

    def cut_link_once_training_runs() -> None:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                n = sqlite3.connect(store).execute("SELECT COUNT(*) FROM epochs").fetchone()[0]
            except sqlite3.Error:
                n = 0
            if n >= 1:
                board.kill_hard()  # the listener and every per-connection sshd: the link drops
                time.sleep(2.0)
                board.start()
                cut.set()
                return
            time.sleep(0.1)

    cutter = threading.Thread(target=cut_link_once_training_runs)
    cutter.start()
    run_id, ok = run_remote(profile, str(store), options)
    cutter.join()
    assert cut.is_set()
    assert ok
    db = sqlite3.connect(store)
    seqs = [r[0] for r in db.execute("SELECT seq FROM events WHERE run_id=? ORDER BY seq", (run_id,))]
    assert seqs == list(range(1, len(seqs) + 1))
    assert db.execute("SELECT type FROM events WHERE run_id=? ORDER BY seq DESC LIMIT 1", (run_id,)).fetchone()[0] \
        == "run_finished"
    reference_id, _ = execute(profile, str(tmp_path / "ref.sqlite"))
    assert _metrics(store, run_id)["results"] == _metrics(tmp_path / "ref.sqlite", reference_id)["results"]
    remote = db.execute("SELECT remote FROM runs WHERE id=?", (run_id,)).fetchone()[0]
    assert remote.count("offset_s") >= 2  # the clock offset was measured again after the reconnect


@pytest.mark.slow  # minutes of the default run's budget; `scripts/test -m slow` runs it
def test_runs_stop_leaves_no_remote_process(board, tmp_path):
    profile = _profile(**{"train.epochs": 40, "data.name": "mnist-5k"})
    store = tmp_path / "store.sqlite"
    options = _options(board, tmp_path)
    result: dict = {}

    def follow() -> None:
        result["run"] = run_remote(profile, str(store), options)

    follower = threading.Thread(target=follow)
    follower.start()
    deadline = time.time() + 120
    pid = None
    while time.time() < deadline and pid is None:
        try:
            row = sqlite3.connect(store).execute("SELECT id, remote FROM runs").fetchone()
        except sqlite3.Error:
            row = None
        if row and row[1]:
            import json

            pid, run_id = json.loads(row[1])["pid"], row[0]
        time.sleep(0.2)
    assert pid is not None
    message = stop(str(store), run_id, options)
    assert "stopped remote run" in message
    assert "with SIGINT" in message  # the detached run heeds SIGINT (a shell's `&` starts it with SIGINT ignored)
    follower.join(timeout=60)
    assert not follower.is_alive()
    assert not _running(board, pid)  # splinebench is gone
    state = board.workdir / "tegrastats-state" / "running"
    assert not state.exists() or not any(state.iterdir())  # and so is tegrastats
    assert result["run"][1] is False
    # recorded on both sides: here, and in the board's own store
    assert sqlite3.connect(store).execute("SELECT status FROM runs WHERE id=?", (run_id,)).fetchone()[0] \
        == "interrupted"
    on_board = sqlite3.connect(tmp_path / "on-board" / run_id / "store.sqlite")
    assert on_board.execute("SELECT status FROM runs WHERE id=?", (run_id,)).fetchone()[0] == "interrupted"
    # stopping it again: says so, changes nothing
    assert "is not running; it is interrupted here" in stop(str(store), run_id, options)


@pytest.mark.slow  # minutes of the default run's budget; `scripts/test -m slow` runs it
def test_ctrl_c_with_stop_on_exit_stops_the_remote_run(board, tmp_path):
    import json
    import os
    import signal

    profile = _profile(**{"train.epochs": 40, "data.name": "mnist-5k"})
    store = tmp_path / "store.sqlite"
    options = _options(board, tmp_path, energy="none", stop_on_exit=True)
    seen: dict = {}

    def press_ctrl_c_once_it_runs() -> None:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                row = sqlite3.connect(store).execute("SELECT id, remote FROM runs").fetchone()
            except sqlite3.Error:
                row = None
            if row and row[1]:
                seen["run_id"], seen["pid"] = row[0], json.loads(row[1])["pid"]
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.2)

    presser = threading.Thread(target=press_ctrl_c_once_it_runs)
    presser.start()
    with pytest.raises(KeyboardInterrupt):
        run_remote(profile, str(store), options)
    presser.join()
    assert not _running(board, seen["pid"])
    assert sqlite3.connect(store).execute("SELECT status FROM runs WHERE id=?", (seen["run_id"],)).fetchone()[0] \
        == "interrupted"


def test_an_unknown_host_key_is_refused(board, tmp_path):
    options = _options(board, tmp_path)
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    options.connect.known_hosts = [str(empty)]
    with pytest.raises(HostKeyError, match="accept"):
        run_remote(_profile(), str(tmp_path / "s.sqlite"), options)


def test_a_missing_remote_command_is_a_clear_error(board, tmp_path):
    with pytest.raises(RemoteError, match="not found"):
        run_remote(_profile(), str(tmp_path / "s.sqlite"), _options(board, tmp_path, remote_cmd="/nowhere/splinebench"))


def test_a_remote_splinebench_of_another_schema_is_refused(board, tmp_path):
    fake = tmp_path / "old-splinebench"
    fake.write_text("#!/bin/sh\necho 'splinebench 0.0.1 (schema 0)'\n")
    fake.chmod(0o755)
    with pytest.raises(RemoteError, match=r"version mismatch: here splinebench .*\(schema 0\)"):
        run_remote(_profile(), str(tmp_path / "s.sqlite"), _options(board, tmp_path, remote_cmd=str(fake)))


def test_bad_input_errors_are_bad_input():
    assert issubclass(RemoteError, BadInputError) and issubclass(HostKeyError, BadInputError)
