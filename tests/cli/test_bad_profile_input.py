"""Every profile mistake is caught by preflight, before anything runs: exit 2, one line with the close names, no store.

The same table style as test_bad_input.py, for what the run plan (engine/plan.py) resolves and checks.
"""

from __future__ import annotations

import pytest
from run_cli import QUICKSTART, splinebench


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", QUICKSTART, "--set", "train.epoch=3"], "unknown key 'train.epoch'. Did you mean: train.epochs?"),
        (["run", QUICKSTART, "--set", "early_bird.epss=0.1"], "unknown key 'early_bird.epss'. Did you mean: |eps"),
        (["run", QUICKSTART, "--set", "prune.pruners=[{name='spline', ratios=[1.5, -2]}]"],
         "key 'prune.pruners.0.ratios'|strictly between 0 and 1"),
        (["run", QUICKSTART, "--set", "prune.pruners=[{name='spline', retrain={lrr=0.1}}]"],
         "unknown key 'lrr'. Did you mean: lr?"),
        (["run", QUICKSTART, "--set", "prune.pruners=[{name='spline', retrain={lr=-1}}]"],
         "prune.pruners.0.retrain.lr"),
        (["run", QUICKSTART, "--set", "prune.pruners=[{name='spline'}, {name='spline'}]"],
         "pruner labels must be unique"),
        (["run", QUICKSTART, "--set", "prune.pruners=[{name='snip', ticket='eb'}]"],
         "prune.pruners[0] (eb-snip): ticket = 'eb'|acts at initialisation"),
        (["run", QUICKSTART, "--set", "early_bird.enabled=false"], "prune.pruners[1] (eb-spline): ticket = 'eb'"),
        (["run", QUICKSTART, "--set", "prune.calibration_batches=2"], "calibration_batches is not a setting"),
        (["run", QUICKSTART, "--tui", "--json"], "--tui cannot honour --json"),
        (["run", QUICKSTART, "--tui", "--energy", "none", "--run-id", "x"], "--tui cannot honour --energy, --run-id"),
        (["run", "--tui", "--resume", "abc"], "--tui cannot honour --resume"),
    ],
)
def test_a_profile_mistake_exits_2_before_anything_runs(tmp_path, args, expected):
    result = splinebench(*args, "--store", str(tmp_path / "s.sqlite"), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    for part in expected.split("|"):
        assert part in message, message
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3
    assert not (tmp_path / "s.sqlite").exists()  # nothing recorded
