"""The CLI's small edges, through the real entry points: help text, flag style, run ids, order, words, progress."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from splinebench.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "tui" / "fixtures" / "quickstart.sqlite"
SCRIPT = Path(sys.executable).with_name("splinebench")
RUN_ID = "20261126-093117-7d4035"


def splinebench(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"COLUMNS": "200", "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd, timeout=300, env=env)


def _commands(group, path=()):
    """Every leaf command of the app, with its path of names."""
    for name, cmd in getattr(group, "commands", {}).items():
        if getattr(cmd, "commands", None):
            yield from _commands(cmd, (*path, name))
        else:
            yield (*path, name), cmd


COMMANDS = sorted(_commands(typer.main.get_command(app)), key=lambda c: c[0])


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_option_has_help_and_flags_come_in_on_off_pairs(path):
    cmd = dict(COMMANDS)[path]
    for param in cmd.params:
        if param.param_type_name != "option" or param.name == "help":
            continue
        assert (param.help or "").strip(), f"{' '.join(path)} {param.opts[0]} has no help text"
        if getattr(param, "is_bool_flag", False) and not param.is_eager:
            assert param.secondary_opts, f"{' '.join(path)} {param.opts[0]} is not an --x/--no-x pair"


@pytest.mark.parametrize("args", [["run"], ["runs", "list"], ["runs", "show"], ["runs", "attach"], ["sweep"]])
def test_help_shows_no_type_tag_on_flags(args):
    result = splinebench(*args, "--help")
    assert result.returncode == 0, result.stderr
    assert "<bool>" not in result.stdout
    assert "--json" in result.stdout and "--no-json" in result.stdout
    assert "<str>" in result.stdout  # options that take a value still say what they take


def test_sweep_help_keeps_the_bracketed_table_name():
    result = splinebench("sweep", "--help")
    assert "its [sweep] table" in " ".join(result.stdout.split())


@pytest.mark.slow  # minutes of the default run's budget; `scripts/test -m slow` runs it
def test_runs_json_options_say_what_they_print():
    for args in (["runs", "list"], ["runs", "show"], ["runs", "attach"]):
        out = " ".join(splinebench(*args, "--help").stdout.split())
        assert "JSON" in out.split("--json", 1)[1][:120], args


@pytest.fixture
def two_runs(tmp_path: Path) -> Path:
    """The recorded quickstart store plus a copy of its run started a day later under another id."""
    store = tmp_path / "store.sqlite"
    shutil.copy(FIXTURE, store)
    db = sqlite3.connect(store)
    columns = [r[1] for r in db.execute("PRAGMA table_info(runs)")]
    select = ", ".join(
        {"id": "'20261127-101500-abcdef'", "name": "'second'", "created_at": "created_at + 86400"}.get(c, c)
        for c in columns
    )
    db.execute(f"INSERT INTO runs ({', '.join(columns)}) SELECT {select} FROM runs WHERE id=?", (RUN_ID,))
    db.commit()
    db.close()
    return store


def test_runs_show_matches_any_unique_part_of_the_id(two_runs):
    result = splinebench("runs", "show", "7d40", "--store", str(two_runs), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["run"]["id"] == RUN_ID


def test_an_ambiguous_id_lists_the_candidates_and_exits_2(two_runs):
    result = splinebench("runs", "show", "2026112", "--store", str(two_runs))
    assert result.returncode == 2
    assert RUN_ID in result.stderr and "20261127-101500-abcdef" in result.stderr
    assert "Traceback" not in result.stderr


def test_runs_list_puts_the_newest_run_first(two_runs):
    listed = json.loads(splinebench("runs", "list", "--store", str(two_runs), "--json").stdout)
    assert [r["id"] for r in listed] == ["20261127-101500-abcdef", RUN_ID]
    table = splinebench("runs", "list", "--store", str(two_runs)).stdout
    assert table.index("20261127-101500-abcdef") < table.index(RUN_ID)


def test_runs_show_calls_the_cost_columns_macs_as_the_dashboard_does(two_runs):
    out = splinebench("runs", "show", RUN_ID, "--store", str(two_runs)).stdout
    assert "MACs p=30%" in out
    assert "cost p=" not in out


@pytest.mark.slow
def test_stderr_gets_a_line_per_epoch_when_it_is_not_a_terminal(tmp_path):
    overrides = ["data.name='digits'", "train.epochs=3", "retrain.epochs=1", "prune.ratios=[0.5]",
                 "partition.probe_size=64", "threads=1", "device='cpu'"]
    args = ["run", str(ROOT / "profiles" / "quickstart.toml"), "--store", str(tmp_path / "s.sqlite")]
    for o in overrides:
        args += ["--set", o]
    result = splinebench(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    for epoch in (1, 2, 3):
        assert any(line.startswith(f"dense epoch {epoch}/3: loss ") for line in lines), result.stderr


def test_progress_writes_a_plain_line_per_epoch_to_a_pipe():
    import io

    from rich.console import Console

    from splinebench.cli.progress import RichProgress
    from splinebench.engine.events import EpochFinished, PhaseStarted

    pipe = io.StringIO()
    progress = RichProgress(Console(file=pipe, force_terminal=False))
    with progress:
        progress(PhaseStarted(run_id="r", phase="dense", kind="dense", epochs=2))
        for epoch in (1, 2):
            progress(EpochFinished(run_id="r", phase="dense", epoch=epoch, train_loss=0.5, train_acc=0.8,
                                   test_loss=0.4, test_acc=0.9, lr=0.1, seconds=1.0, samples=10, training_flops=1.0))
            if epoch == 1:
                assert "dense epoch 1/2: loss 0.500 acc 90.0%" in pipe.getvalue()  # now, not at the end
    assert "dense epoch 2/2" in pipe.getvalue()
