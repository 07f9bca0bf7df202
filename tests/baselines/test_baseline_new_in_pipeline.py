"""The Torch-Pruning family, GraSP and SynFlow run under splinebench's own schedule, FLOP meter and applier."""

from __future__ import annotations

import pytest

from splinebench.engine.run import execute
from splinebench.profiles import Profile
from splinebench.store import StoreReader

STRUCTURED = ["tp:taylor", "tp:fpgm", "tp:hessian", "tp:lamp"]
AT_INIT = ["grasp", "synflow"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    pruners = [{"name": n} for n in STRUCTURED] + [{"name": "grasp"}, {"name": "synflow", "options": {"iterations": 5}}]
    profile = Profile.model_validate({
        "name": "new-baselines-tiny", "device": "cpu", "seeds": [0], "threads": 1,
        "model": {"name": "convnet-small"}, "data": {"name": "digits", "batch_size": 128},
        "train": {"epochs": 1, "lr": 0.05}, "partition": {"probe_size": 32}, "early_bird": {"enabled": False},
        "prune": {"ratios": [0.5], "pruners": pruners},
        "retrain": {"epochs": 1, "lr": 0.01},
    })
    store = tmp_path_factory.mktemp("store") / "results.sqlite"
    run_id, ok = execute(profile, str(store))
    assert ok
    reader = StoreReader(str(store))
    try:
        rows = {r["pruner"]: r for r in reader.results(run_id)}
        plans = {r["pruner"]: dict(r) for r in reader.query("SELECT * FROM plans WHERE run_id=?", (run_id,))}
    finally:
        reader.close()
    return rows, plans


@pytest.mark.parametrize("name", STRUCTURED)
def test_torch_pruning_criteria_remove_channels_and_cut_flops(results, name):
    rows, plans = results
    assert rows[name]["status"] == "ok", rows[name]["error"]
    assert rows[name]["flops"] < rows["dense"]["flops"] and rows[name]["sparse_flops"] is None
    assert plans[name]["achieved_ratio"] > 0 and plans[name]["structured"] == 1


@pytest.mark.parametrize("name", AT_INIT)
def test_pruning_at_init_masks_weights_and_reports_sparse_flops(results, name):
    rows, plans = results
    assert rows[name]["status"] == "ok", rows[name]["error"]
    assert rows[name]["ticket"] == "init" and rows[name]["flops"] == rows["dense"]["flops"]
    assert rows[name]["sparse_flops"] < rows[name]["flops"]
    assert plans[name]["achieved_ratio"] == pytest.approx(0.5, abs=0.01)
