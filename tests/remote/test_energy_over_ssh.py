"""The SSH energy meter end to end, through the real entry point, set up as a new user would (own key, known_hosts,
~/.ssh/config alias): a run metered over SSH, and `energy measure` around a board command."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ssh
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("splinebench")
BOARD_POWER_W = 5.0  # the "constant" tegrastats trace: VDD_IN 5000 mW


@pytest.fixture
def user_home(board, tmp_path):
    """A HOME whose ~/.ssh holds a key, known_hosts and an alias `board` for the loopback sshd."""
    home = tmp_path / "home"
    ssh_dir = home / ".ssh"
    ssh_dir.mkdir(parents=True)
    shutil.copy(board.client_key, ssh_dir / "id_ed25519")
    (ssh_dir / "id_ed25519").chmod(0o600)
    shutil.copy(board.known_hosts, ssh_dir / "known_hosts")
    (ssh_dir / "config").write_text(
        f"Host board\n  HostName {board.host}\n  Port {board.port}\n  User {board.user}\n"
        f"  IdentityFile {ssh_dir / 'id_ed25519'}\n  UserKnownHostsFile {ssh_dir / 'known_hosts'}\n"
    )
    return home


def _cli(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "OMP_NUM_THREADS": "1"}
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env, cwd=home, timeout=timeout)


@pytest.mark.slow  # minutes of the default run's budget; `scripts/test -m slow` runs it
def test_a_run_metered_over_ssh_has_energy_per_phase_and_in_runs_show(user_home):
    store = user_home / "store.sqlite"
    result = _cli(user_home, "run", str(ROOT / "profiles" / "quickstart.toml"), "--store", str(store),
                  "--energy", "ssh://board", "--set", "data.name='digits'", "--set", "train.epochs=3",
                  "--set", "retrain.epochs=1", "--set", "prune.ratios=[0.5]", "--set", "partition.probe_size=64")
    assert result.returncode == 0, result.stderr[-3000:]
    db = sqlite3.connect(store)
    run_id = db.execute("SELECT id FROM runs").fetchone()[0]
    phases = db.execute("SELECT phase, joules, mean_power_w, idle_power_w FROM energy WHERE run_id=? "
                        "AND window='phase'", (run_id,)).fetchall()
    assert {p[0] for p in phases} >= {"dense", "retrain:spline@0.5"}
    for _, joules, mean_w, idle_w in phases:
        if joules is not None:
            assert mean_w == pytest.approx(BOARD_POWER_W, rel=0.02) and idle_w == pytest.approx(BOARD_POWER_W, rel=0.02)
    assert db.execute("SELECT COUNT(*) FROM results WHERE run_id=? AND total_energy_j IS NOT NULL",
                      (run_id,)).fetchone()[0] >= 1
    shown = _cli(user_home, "runs", "show", run_id, "--store", str(store))
    assert shown.returncode == 0
    assert " J" in shown.stdout or "kJ" in shown.stdout  # energy columns


def test_energy_measure_around_a_board_command_stores_the_trapezoid_energy(user_home):
    store = user_home / "store.sqlite"
    result = _cli(user_home, "energy", "measure", "ssh://board", "--store", str(store), "--interval", "100",
                  "--", "sh", "-c", "echo epoch 1; sleep 1; echo epoch 2; sleep 1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "epoch 2" in result.stdout  # the command's output is streamed here
    db = sqlite3.connect(store)
    (t0, t1, joules, provenance), = db.execute(
        "SELECT t0, t1, joules, provenance FROM energy WHERE window='run'").fetchall()
    seconds = t1 - t0
    assert 2.0 <= seconds < 4.0
    # constant 5 W: the trapezoid over the window is 5 W x its length, within one sample interval
    assert joules == pytest.approx(BOARD_POWER_W * seconds, abs=BOARD_POWER_W * 0.1 + 1e-6)
    epochs = db.execute("SELECT epoch, joules FROM energy WHERE window='epoch' ORDER BY epoch").fetchall()
    assert [e[0] for e in epochs] == [1, 2]
    assert json.loads(provenance)["meter"] == "tegrastats-ssh"
    assert db.execute("SELECT COUNT(*) FROM power_samples").fetchone()[0] >= 10
