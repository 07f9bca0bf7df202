"""A board that writes hostile or broken event lines, through the real CLI and a real sshd: one clear line per
rejected line, no traceback, nothing written for another run, an honest status, and `runs attach` that does not
meet the same line again."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_profiles import tiny_profile_dict

import splinebench
from splinebench.store import StoreReader, StoreWriter

pytestmark = pytest.mark.ssh
SCRIPT = Path(sys.executable).with_name("splinebench")
VICTIM = "20261130-110000-bbbbbb"
RUN = "@RUN@"  # the fake board puts the run id it was given here


def _started(run_id: str = RUN, **changes) -> dict:
    return {"type": "run_started", "run_id": run_id, "seq": 1, "ts": 100.0, "name": "tiny", "profile": {},
            "versions": {}, "model": "convnet-small", "dataset": "digits", "seed": 0, "device": "cpu", **changes}


def _evaluated(run_id: str, seq: int, accuracy: float) -> dict:
    return {"type": "evaluated", "run_id": run_id, "seq": seq, "ts": 120.0, "pruner": "spline", "ratio": 0.5,
            "accuracy": accuracy, "loss": 0.4, "ticket": "final", "eb_epoch": None, "dense_training_flops": 1e6,
            "retrain_training_flops": 1e5, "total_training_flops": 1.1e6, "params": 100, "flops": 1e4}


def _finished(seq: int) -> dict:
    return {"type": "run_finished", "run_id": RUN, "seq": seq, "ts": 130.0, "seconds": 30.0}


def _j(payload: dict) -> str:
    return json.dumps(payload)


CASES = [
    ("not JSON", ["{'seq': 2, oops"], "failed", 1, "not JSON"),
    ("no seq", [_j({k: v for k, v in _finished(2).items() if k != "seq"})], "failed", 1, "seq None"),
    ("string seq", [_j(_finished(2) | {"seq": "2"})], "failed", 1, "seq '2'"),
    ("seq beyond int64", [_j(_finished(2) | {"seq": 1 << 64})], "failed", 1, "SQLite's range"),
    ("unknown type", [_j(_finished(2) | {"type": "drop_everything"})], "failed", 1, "unknown event type"),
    ("missing field", [_j({k: v for k, v in _finished(2).items() if k != "seconds"})], "failed", 1,
     "required field 'seconds' missing"),
    ("another run", [_j(_evaluated(VICTIM, 5, 0.999)),
                     _j({"type": "run_failed", "run_id": VICTIM, "seq": 6, "ts": 1.0, "error": "x"})],
     "failed", 1, "event for another run"),
    ("duplicated seq", [_j(_started(name="impostor")), _j(_finished(2))], "finished", 0, ""),
    ("huge line", ['{"pad": "' + "x" * (5 << 20) + '"}'], "failed", 1, "longer than"),
    ("rich markup", [_j(_finished(2) | {"type": "[/bold]"})], "failed", 1, "unknown event type '[/bold]'"),
]


@pytest.fixture(scope="module")
def home(board, tmp_path_factory):
    """A HOME whose ~/.ssh/config reaches the board as `board` (the CLI takes no key options)."""
    home = tmp_path_factory.mktemp("home")
    (home / ".ssh").mkdir()
    (home / ".ssh" / "config").write_text(board.ssh_config_text("board"))
    return home


def _fake_board(tmp_path: Path, lines: list[str], started: dict | None = None) -> Path:
    """A `splinebench` for the board that answers --version like ours and writes ``lines`` as its event log."""
    data = tmp_path / "lines.json"
    data.write_text(json.dumps([_j(started or _started()), *lines]))
    fake = tmp_path / "fake-splinebench"
    fake.write_text(f"""#!{sys.executable}
import json, sys, time
if "--version" in sys.argv:
    print("splinebench {splinebench.__version__} (schema {splinebench.SCHEMA_VERSION})")
    sys.exit(0)
run_id = sys.argv[sys.argv.index("--run-id") + 1]
with open("events.jsonl", "ab") as log:
    for line in json.load(open({str(data)!r})):
        log.write(line.replace("@RUN@", run_id).encode() + b"\\n")
        log.flush()
time.sleep(0.3)
""")
    fake.chmod(0o755)
    return fake


def _cli(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={"HOME": str(home), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
                               "SSH_AUTH_SOCK": "", "OMP_NUM_THREADS": "1"})


def _victim_store(path: Path) -> None:
    writer = StoreWriter(path)
    writer.write(_started(VICTIM))
    writer.write(_evaluated(VICTIM, 2, 0.878))
    writer.write({"type": "run_finished", "run_id": VICTIM, "seq": 3, "ts": 130.0, "seconds": 30.0})
    writer.close()


DEFAULT_ROWS = {"another run"}  # the rest run with -m slow (each row is two CLI starts)
ROWS = [pytest.param(*c, id=c[0], marks=() if c[0] in DEFAULT_ROWS else pytest.mark.slow) for c in CASES]


@pytest.mark.parametrize(("case", "lines", "status", "code", "said"), ROWS)
def test_a_hostile_board_gets_one_clear_line_and_an_honest_run(board, home, tmp_path, case, lines, status, code,
                                                                said):
    store = tmp_path / "store.sqlite"
    _victim_store(store)
    victim_before = StoreReader(store).results(VICTIM)
    profile = tmp_path / "tiny.json"
    profile.write_text(json.dumps(tiny_profile_dict()))
    result = _cli("run", str(profile), "--on", "ssh://board", "--remote-cmd", str(_fake_board(tmp_path, lines)),
                  "--remote-dir", str(tmp_path / "on-board"), "--energy", "none", "--store", str(store),
                  home=home, cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, result.stderr
    if said:
        assert said in " ".join(result.stderr.split())
    assert StoreReader(store).results(VICTIM) == victim_before  # the unrelated run: untouched
    run = next(r for r in StoreReader(store).runs() if r.id != VICTIM)
    assert run.status == status
    if status == "failed":
        assert run.error.startswith("remote-protocol-error")
    db = sqlite3.connect(store)
    assert db.execute("SELECT COUNT(*) FROM events WHERE run_id NOT IN (?, ?)", (VICTIM, run.id)).fetchone()[0] == 0
    # attaching again: a no-op that says so, status unchanged, exit 0 (no advice that loops back to attach)
    again = _cli("runs", "attach", run.id, "--store", str(store), home=home, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "nothing to attach" in again.stderr and "Traceback" not in again.stderr
    assert StoreReader(store).run(run.id).status == status


@pytest.mark.slow  # kept out of the default run for time; `scripts/test -m slow` runs it
def test_a_board_whose_first_line_is_bad_records_nothing_and_says_so(board, home, tmp_path):
    store = tmp_path / "store.sqlite"
    _victim_store(store)
    profile = tmp_path / "tiny.json"
    profile.write_text(json.dumps(tiny_profile_dict()))
    fake = _fake_board(tmp_path, [], started=_started(seed="zero"))
    result = _cli("run", str(profile), "--on", "ssh://board", "--remote-cmd", str(fake), "--remote-dir",
                  str(tmp_path / "on-board"), "--energy", "none", "--store", str(store), home=home, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "nothing of remote run" in result.stderr and "run_started.seed" in result.stderr
    assert "Traceback" not in result.stderr
    assert [r.id for r in StoreReader(store).runs()] == [VICTIM]
