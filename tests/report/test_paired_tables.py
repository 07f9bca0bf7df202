"""Three seeds: every improvement cell is a paired difference with its 95% interval and a verdict.

The intervals below are computed by hand with t(0.975, 2) = 4.3027 (three runs, two degrees of freedom).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from report_stores import synthetic_profile, write_run
from typer.testing import CliRunner

from splinebench.cli.report import report_command
from splinebench.report.collect import load_settings
from splinebench.report.paper_tables import reduction_table, table1_layerwise, table2_comparison
from splinebench.store import StoreReader

T2 = 4.3027

PRUNERS = [
    {"name": "spline", "ticket": "final", "label": "spline", "options": {"scope": "layerwise", "rho": 0.05}},
    {"name": "spline", "ticket": "final", "label": "spline-global",
     "options": {"scope": "global", "reducer": "pca", "dim": "smallest"}},
    {"name": "spline", "ticket": "final", "label": "spline-global-fa", "options": {"scope": "global", "reducer": "fa"}},
    {"name": "spline", "ticket": "final", "label": "spline-global-d27", "options": {"scope": "global", "dim": 27}},
    {"name": "ns", "ticket": "final", "options": {}},
    {"name": "thinet", "ticket": "final", "options": {}},
    {"name": "eb-mask", "ticket": "eb", "options": {}},
]
# accuracy per seed (0, 1, 2) at 30%, and total training MACs (the same on every seed)
ACCURACY = {
    "ns": ([0.900, 0.950, 0.850], 9e11),
    "spline": ([0.910, 0.962, 0.858], 8e11),  # ns + 1.0, 1.2, 0.8 points
    "spline-global": ([0.905, 0.950, 0.860], 3e11),  # ns + 0.5, 0.0, 1.0
    "spline-global-fa": ([0.900, 0.940, 0.850], 3e11),  # spline-global - 0.5, 1.0, 1.0
    "spline-global-d27": ([0.890, 0.930, 0.840], 4e11),
    "thinet": ([0.800, 0.800, None], 7e11),  # seed 2 has no result
    "eb-mask": ([0.920, 0.970, 0.870], 6e11),  # spline-global - 1.5, 2.0, 1.0
}


@pytest.fixture
def three_seeds(tmp_path):
    store = tmp_path / "s.sqlite"
    for seed in range(3):
        results = [(label, 0.3, accs[seed], macs) for label, (accs, macs) in ACCURACY.items()
                   if accs[seed] is not None]
        write_run(store, f"run-{seed}", synthetic_profile(seed=seed, pruners=PRUNERS), results)
    return store


def _setting(store):
    reader = StoreReader(store)
    try:
        settings = load_settings(reader, ["run-0", "run-1", "run-2"])
    finally:
        reader.close()
    assert len(settings) == 1
    return settings[0]


def test_table1_compares_layerwise_spline_with_ns_paired_by_seed(three_seeds):
    table = table1_layerwise(_setting(three_seeds))
    assert table is not None
    assert table.columns == ["ns", "spline", "Improv."]  # global entries are Table 2's, not Table 1's
    cell = table.cell("p=30%", "Improv.")
    # diffs 1.0, 1.2, 0.8: mean 1.0, std 0.2, half-width 4.3027 * 0.2 / sqrt(3) = 0.497 -> [0.50, 1.50]
    assert cell.value == pytest.approx(1.0)
    assert cell.ci_low == pytest.approx(1.0 - T2 * 0.2 / math.sqrt(3), abs=1e-3)
    assert cell.text == "+1.00±0.50 better"
    assert cell.n == 3
    # the two means alone (90.00±12.4 and 91.00±13.1) overlap: only the pairing decides it
    assert table.cell("p=30%", "ns").text == "90.00±12.42"


def test_table2_reports_the_paper_s_strongest_baseline_and_the_one_counting_the_eb_mask(three_seeds):
    table = table2_comparison(_setting(three_seeds))
    paper = table.cell("Spline Improv.", "acc p=30%")
    # best global variant (spline-global) vs ns (the best of the paper's four here): diffs 0.5, 0, 1.0
    # mean 0.5, std 0.5, half-width 4.3027 * 0.5 / sqrt(3) = 1.242 -> spans 0
    assert paper.text == "+0.50±1.24 within noise"
    every = table.cell("Spline Improv. (all baselines)", "acc p=30%")
    assert every.text == "-1.50±1.24 worse"  # eb-mask: diffs -1.5, -2.0, -1.0
    # cost: ns 9e11 / cheapest global spline 3e11 on every seed: exactly 3x, no spread
    assert table.cell("Spline Improv.", "cost p=30%").text == "3.0x±0.0 better"
    assert table.cell("Spline Improv. (all baselines)", "cost p=30%").text == "2.0x±0.0 better"
    notes = " ".join(table.notes)
    assert "LT, SNIP, NS, ThiNet" in notes and "EB mask" in notes and "n = 3 runs" in notes


def test_a_cell_with_a_missing_seed_says_how_many_it_pools(three_seeds):
    table = table2_comparison(_setting(three_seeds))
    assert table.cell("thinet", "acc p=30%").text == "80.00±0.00 (n=2)"


def test_reduction_table_pairs_each_variant_with_pca_to_the_smallest_dimension(three_seeds):
    table = reduction_table(_setting(three_seeds))
    assert table is not None
    assert [r.label for r in table.rows] == [
        "PCA, smallest (spline-global)", "FA, smallest (spline-global-fa)", "PCA, 27 (spline-global-d27)",
        "spline-global-fa - spline-global", "spline-global-d27 - spline-global",
    ]
    # diffs -0.5, -1.0, -1.0: mean -0.833, std 0.2887, half-width 4.3027 * 0.2887 / sqrt(3) = 0.717
    cell = table.cell("spline-global-fa - spline-global", "p=30%")
    assert cell.text == "-0.83±0.72 worse"
    assert table.cell("spline-global-d27 - spline-global", "p=30%").text == "-1.83±0.72 worse"  # -1.5, -2, -2


def test_one_seed_says_so_instead_of_a_verdict(tmp_path):
    store = tmp_path / "s.sqlite"
    write_run(store, "run-0", synthetic_profile(pruners=PRUNERS),
              [(label, 0.3, accs[0], macs) for label, (accs, macs) in ACCURACY.items()])
    reader = StoreReader(store)
    setting = load_settings(reader, ["run-0"])[0]
    reader.close()
    table = table2_comparison(setting)
    assert table.cell("Spline Improv.", "acc p=30%").text == "+0.50 one seed"
    assert table.cell("Spline Improv.", "cost p=30%").text == "3.0x one seed"
    assert any("One run: no interval" in note for note in table.notes)


def test_the_report_command_prints_verdicts_and_json_carries_the_interval(three_seeds, tmp_path):
    app = typer.Typer()
    app.command("report")(report_command)
    app.command("other")(report_command)  # two commands, so Typer keeps the "report" subcommand name
    result = CliRunner().invoke(app, ["report", "run-0", "run-1", "run-2", "--store", str(three_seeds)],
                                env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "within noise" in result.output and "better" in result.output
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["report", "run-0", "run-1", "run-2", "--store", str(three_seeds),
                                      "--format", "json", "--out", str(out), "--name", "t"])
    assert result.exit_code == 0, result.output
    tables = {t["key"]: t for t in json.loads((out / "t.json").read_text())["tables"]}
    rows = {r["label"]: r for r in tables["table1"]["rows"]}
    improv = rows["p=30%"]["cells"][-1]
    assert improv["ci_low"] == pytest.approx(1.0 - T2 * 0.2 / math.sqrt(3), abs=1e-3)
    assert improv["n"] == 3


def test_a_sweep_s_seeds_pool_into_one_setting(tmp_path):
    """A sweep trial's profile records its trial index and grid point; the report still pools a point's seeds."""
    root = Path(__file__).resolve().parents[2]
    script = Path(sys.executable).with_name("splinebench")
    store = tmp_path / "s.sqlite"
    sweep = subprocess.run(
        [str(script), "sweep", str(root / "profiles" / "quickstart.toml"), "--store", str(store), "--workers", "1",
         "--grid", "seed=0,1", "--set", "data.name='digits'", "--set", "train.epochs=2", "--set", "threads=1",
         "--set", "partition.probe_size=64", "--set", "retrain.epochs=1", "--set", "device='cpu'",
         "--set", "prune.ratios=[0.5]",
         "--set", "prune.pruners=[{name='spline', label='spline'}, {name='random', label='random'}]"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert sweep.returncode == 0, sweep.stderr
    reader = StoreReader(store)
    try:
        run_ids = [row.id for row in reader.runs()]
        assert len(run_ids) == 2
        settings = load_settings(reader, run_ids)
    finally:
        reader.close()
    assert len(settings) == 1 and len(settings[0].runs) == 2
    cell = table2_comparison(settings[0]).cell("spline", "acc p=50%")
    assert cell.n == 2 and cell.ci_low is not None
    sweep_id = run_ids[0].rsplit("-t", 1)[0]
    report = subprocess.run([str(script), "report", sweep_id, "--store", str(store)], capture_output=True, text=True,
                            cwd=tmp_path, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert report.returncode == 0, report.stderr  # a sweep id names all its trials
    assert "n = 2 runs" in " ".join(report.stdout.split())
