"""The sweep command's face: bad input exits 2 naming the key and the trial, nothing recorded; the dry run."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from sweep_helpers import QUICKSTART

from splinebench.cli.sweep import main
from splinebench.errors import BadInputError
from splinebench.sweep.driver import SweepRequest, plan_sweep

SMALL = ["--set", "data.name='digits'", "--set", "train.epochs=2", "--set", "device='cpu'"]


def _main(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["splinebench-sweep", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, " ".join(captured.err.split())


@pytest.mark.parametrize(("grid", "expected"), [
    ("train.epochz=1,2", ["sweep trial 0: train.epochz=1", "unknown key 'train.epochz'"]),
    ("train.epochs=2,three", ["sweep trial 1: train.epochs=\"three\"", "key 'train.epochs'"]),
    ("model.name=convnet-small,vgg61", ["sweep trial 1: model.name=\"vgg61\"", "unknown model 'vgg61'"]),
])
def test_a_bad_grid_exits_2_naming_the_key_and_the_trial_and_records_nothing(monkeypatch, capsys, tmp_path, grid,
                                                                             expected):
    store = tmp_path / "store.sqlite"
    code, _, err = _main(monkeypatch, capsys, QUICKSTART, *SMALL, "--grid", grid, "--store", str(store))
    assert code == 2
    for part in expected:
        assert part in err
    assert "Traceback" not in err
    assert not store.exists()


def test_without_ray_the_ray_executor_says_how_to_install_it(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    with pytest.raises(BadInputError, match=r"pip install splinebench\[ray\]"):
        plan_sweep(SweepRequest(store=str(tmp_path / "s.sqlite"), profile=QUICKSTART, executor="ray"))


def test_resuming_an_unknown_sweep_exits_2(monkeypatch, capsys, tmp_path):
    code, _, err = _main(monkeypatch, capsys, "--resume", "nope", "--store", str(tmp_path / "missing.sqlite"))
    assert code == 2 and "no store at" in err


def test_the_dry_run_lists_trials_and_tasks_with_the_macs_charged_once_and_in_full(monkeypatch, capsys, tmp_path):
    store = tmp_path / "store.sqlite"
    code, out, _ = _main(monkeypatch, capsys, QUICKSTART, *SMALL, "--grid", "seed=0,1", "--grid",
                         "prune.ratios=[0.3],[0.5]", "--dry-run", "--json", "--store", str(store))
    assert code in (0, None)
    plan = json.loads(out)
    assert len(plan["trials"]) == 4 and len(plan["dense_tasks"]) == 2
    macs = plan["estimated_training_macs"]
    assert 0 < macs["charged_once"] < macs["in_full"]
    dense = sum(macs["dense"].values())
    assert macs["in_full"] - macs["charged_once"] == pytest.approx(dense)  # two trials per dense phase
    assert not Path(store).exists()
