"""Bad input through the real entry point: exit code 2, one line naming the problem, no traceback, nothing recorded."""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from run_cli import QUICKSTART, SCRIPT, splinebench


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "no/such/profile.toml"], "profile file not found: no/such/profile.toml"),
        (["run", QUICKSTART, "--set", "train.epochz=3"], "unknown key 'train.epochz'"),
        (["run", QUICKSTART, "--set", "train.epochs='three'"], "key 'train.epochs'"),
        (["run", QUICKSTART, "--set", "model.name='vgg61'"], "unknown model 'vgg61'. Did you mean: |vgg16"),
        (["run", QUICKSTART, "--set", "data.name='mnist5k'"], "unknown dataset 'mnist5k'. Did you mean: |mnist-5k"),
        (["run", QUICKSTART, "--set", "prune.pruners=[{name='splin'}]"],
         "unknown pruner 'splin'. Did you mean: |spline"),
        (["run", QUICKSTART, "--set", "prune.pruners=[{name='ns', options={sparsty=1e-4}}]"],
         "prune.pruners[0].options: pruner 'ns' has no option 'sparsty'. Did you mean: sparsity?|it takes: sparsity"),
        (["run", QUICKSTART, "--set", "prune.pruners=[{name='spline', options={scope='global', dim='smalest'}}]"],
         "prune.pruners[0].options: spline pruner dim must be 'smallest', 'none' or a positive int"),
        (["run", QUICKSTART, "--set", "prune.ratios=[1.5]"], "key 'prune.ratios'"),
        (["runs", "show", "nope", "--store", "missing.sqlite"], "no store at missing.sqlite"),
        (["run", "--resume", "nope", "--store", "missing.sqlite"], "no store at missing.sqlite"),
        # a profile (or --set) cannot choose what runs in the board's shell; nothing is contacted (port 9: discard)
        (["run", QUICKSTART, "--on", "ssh://nobody@127.0.0.1:9", "--set", "remote_cmd='rm -rf ~'"],
         "remote_cmd = 'rm -rf ~' would run as a command in the board's shell|--remote-cmd 'rm -rf ~'"),
        (["run", QUICKSTART, "--set", "remote='ssh://nobody@127.0.0.1:9'", "--set", "remote_cmd='curl x | sh'"],
         "quickstart.toml: remote_cmd = 'curl x | sh'|--remote-cmd 'curl x | sh'"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_problem(tmp_path, args, expected):
    result = splinebench(*args, "--store", str(tmp_path / "s.sqlite"), cwd=tmp_path) if args[0] == "run" and \
        "--store" not in args else splinebench(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    for part in expected.split("|"):  # the message, then the close names it must suggest
        assert part in message
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3  # one logical line (rich may wrap it)
    assert not (tmp_path / "s.sqlite").exists() or "--resume" in args  # nothing half-recorded


def test_a_profile_with_a_toml_error_names_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nepochs = 3\n")
    result = splinebench("run", str(bad), "--store", str(tmp_path / "s.sqlite"), cwd=tmp_path)
    assert result.returncode == 2
    assert "bad.toml: not valid TOML" in result.stderr


def test_a_wrong_type_in_the_profile_file_names_file_key_and_expectation(tmp_path):
    bad = tmp_path / "typo.toml"
    bad.write_text('[train]\nepochs = "many"\n')
    result = splinebench("run", str(bad), "--store", str(tmp_path / "s.sqlite"), cwd=tmp_path)
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "typo.toml: key 'train.epochs': Input should be a valid integer" in message


# --- stores that cannot be used, and runs that are in use --------------------------------------------------------


def _synthetic_run(store: Path, run_id: str = "r1", name: str = "tiny", label: str = "spline") -> Path:
    """A store holding one run (events written by the real writer), without training anything."""
    from splinebench.engine.events import Evaluated, RunStarted
    from splinebench.store import StoreWriter

    run_dir = store.parent / "runs" / run_id
    writer = StoreWriter(store)
    writer(RunStarted(run_id=run_id, seq=1, ts=1.0, name=name, profile={"name": name}, versions={}, model="m[i]",
                      dataset="d", seed=0, device="cpu", results_dir=str(run_dir), pruners=[label], ratios=[0.5]))
    for seq, (pruner, ratio) in enumerate([("dense", 0.0), (label, 0.5)], start=2):
        writer(Evaluated(run_id=run_id, seq=seq, ts=float(seq), pruner=pruner, ratio=ratio, accuracy=0.9, loss=0.1,
                         ticket="final", eb_epoch=None, dense_training_flops=1.0, retrain_training_flops=1.0,
                         total_training_flops=2.0, params=10, flops=5.0))
    writer.close()
    return run_dir


def _not_sqlite(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("these are my notes, not a database\n" * 20)


def _parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")


def _a_folder(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()


def _held_run(tmp_path: Path) -> subprocess.Popen[str]:
    run_dir = _synthetic_run(tmp_path / "held.sqlite")
    code = ("import sys, time; from splinebench.engine.run_lock import RunLock; RunLock(sys.argv[1], 'r1').acquire();"
            "print('locked', flush=True); time.sleep(600)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(run_dir)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def _contents(folder: Path) -> dict[Path, object]:
    """Every file's bytes; a store's rows instead (a reader may create its -wal/-shm, which hold no new data)."""
    out: dict[Path, object] = {}
    for path in folder.rglob("*"):
        if path.name.endswith(("-wal", "-shm")) or not path.is_file():
            continue
        if path.suffix == ".sqlite" and path.read_bytes()[:16] == b"SQLite format 3\x00":
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            out[path] = list(db.iterdump())
            db.close()
        else:
            out[path] = path.read_bytes()
    return out


STORE_CASES = [
    (["run", QUICKSTART, "--store", "notes.txt"], _not_sqlite, {}, "--store notes.txt is not a splinebench store"),
    (["runs", "list", "--store", "notes.txt"], _not_sqlite, {}, "notes.txt is not a readable splinebench store"),
    (["runs", "show", "r1", "--store", "notes.txt"], _not_sqlite, {}, "notes.txt is not a readable splinebench store"),
    (["run", QUICKSTART, "--store", "afile/store.sqlite"], _parent_is_a_file, {},
     "--store afile/store.sqlite: cannot create its folder"),
    (["run", QUICKSTART, "--store", "folder"], _a_folder, {}, "--store folder is a folder"),
    (["run", QUICKSTART, "--store", "s.sqlite"], None, {"SPLINEBENCH_STORE_BUSY_TIMEOUT": "soon"},
     "SPLINEBENCH_STORE_BUSY_TIMEOUT='soon': expected a number of seconds"),
    (["run", "--resume", "r1", "--store", "held.sqlite"], _held_run, {}, "run r1 is in use by PID "),
]


@pytest.mark.parametrize(("args", "setup", "env", "expected"), STORE_CASES,
                         ids=["run-not-sqlite", "list-not-sqlite", "show-not-sqlite", "parent-is-a-file", "a-folder",
                              "bad-busy-timeout", "resume-in-use"])
def test_a_store_that_cannot_be_used_is_refused_in_one_line(tmp_path, args, setup, env, expected):
    made = setup(tmp_path) if setup else None
    before = _contents(tmp_path)
    try:
        result = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                                env={**os.environ, **env})
    finally:
        if isinstance(made, subprocess.Popen):
            made.kill()
            made.wait(timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert expected in " ".join(result.stderr.split())
    assert len(result.stderr.strip().splitlines()) <= 3
    assert _contents(tmp_path) == before  # nothing written, nothing created


def _can_bind_read_only() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind /tmp /tmp && mount -o remount,bind,ro /tmp"],
                           capture_output=True)
    return probe.returncode == 0


def _read_only(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run splinebench with ``folder`` mounted read-only (a private mount namespace: nothing changes outside)."""
    command = " ".join(shlex.quote(a) for a in (str(SCRIPT), *args))
    script = f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && exec {command}"
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, cwd=folder.parent,
                          timeout=120)


@pytest.mark.skipif(not _can_bind_read_only(), reason="needs `unshare -m` and bind mounts (root in a container)")
@pytest.mark.parametrize("wal_files", [True, pytest.param(False, marks=pytest.mark.slow)],
                         ids=["with-wal-and-shm", "checkpointed"])
def test_a_store_on_read_only_media_can_be_listed_but_not_run_into(tmp_path, wal_files):
    folder = tmp_path / "ro"
    folder.mkdir()
    store = folder / "store.sqlite"
    _synthetic_run(store, name="on-a-dvd")
    if wal_files:  # as left by a writer that was killed: -wal and -shm beside the store
        keep = sqlite3.connect(store)
        keep.execute("PRAGMA journal_mode=WAL")
        keep.execute("UPDATE runs SET name='from-the-wal'")
        keep.commit()
        os.link(store.with_name("store.sqlite-wal"), tmp_path / "wal")
        os.link(store.with_name("store.sqlite-shm"), tmp_path / "shm")
        keep.close()  # deletes -wal and -shm; put them back as a crash would have left them
        os.link(tmp_path / "wal", store.with_name("store.sqlite-wal"))
        os.link(tmp_path / "shm", store.with_name("store.sqlite-shm"))
    before = {p: p.read_bytes() for p in folder.iterdir()}
    listed = _read_only(folder, "runs", "list", "--store", str(store))
    assert listed.returncode == 0, listed.stderr
    assert ("from-the-wal" if wal_files else "on-a-dvd") in listed.stdout
    shown = _read_only(folder, "runs", "show", "r1", "--store", str(store))
    assert shown.returncode == 0, shown.stderr
    refused = _read_only(folder, "run", QUICKSTART, "--store", str(store))
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    assert f"--store {store} is read-only" in " ".join(refused.stderr.split())
    assert {p: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.slow  # minutes of the default run's budget; `scripts/test -m slow` runs it
def test_markup_in_names_labels_and_ids_prints_as_itself(tmp_path):
    store = tmp_path / "s.sqlite"
    _synthetic_run(store, run_id="[bold]r1", name="[/bold]", label="[red]sp[/]")
    listed = splinebench("runs", "list", "--store", str(store), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "[/bold]" in listed.stdout and "[bold]r1" in listed.stdout and "m[i]" in listed.stdout
    shown = splinebench("runs", "show", "[bold]r1", "--store", str(store), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "[red]sp[/]" in shown.stdout and "run [bold]r1" in shown.stdout
    missing = splinebench("runs", "show", "[/nope]", "--store", str(store), cwd=tmp_path)
    assert missing.returncode == 2 and "no run '[/nope]'" in missing.stderr
