"""Comparing runs: marking runs, the comparison screen, a sweep's seeds pooled, and export of what is shown."""

from __future__ import annotations

import csv

from textual.widgets import DataTable
from tui_helpers import FIXTURE_RUN, PROFILES, clone_run, pilot_test, screen_text, wait_for

from splinebench.store import StoreReader
from splinebench.tui import SplinebenchDashboard
from splinebench.tui.compare_data import leaderboard, load_experiments
from splinebench.tui.screens.compare import CompareScreen
from splinebench.tui.screens.run import RunScreen

SWEEP_TRIAL = "20261126-100000-bbbbbb"
OTHER = "20261126-110000-cccccc"


def _three_runs(store) -> None:
    """The recorded run and a second seed of it in sweep sw1 (2 points better), plus a run of its own."""
    clone_run(store, FIXTURE_RUN, SWEEP_TRIAL, seed=1, sweep_id="sw1", acc_shift=0.02)
    clone_run(store, FIXTURE_RUN, OTHER, seed=0, sweep_id=None, acc_shift=-0.05, later=120)


def test_a_sweeps_seeds_pool_into_one_experiment_with_an_interval(fixture_store):
    _three_runs(fixture_store)
    reader = StoreReader(fixture_store)
    experiments = load_experiments(reader, [FIXTURE_RUN, "bbbbbb", "cccccc"])
    reader.close()
    assert [len(e.runs) for e in experiments] == [2, 1]
    pooled, single = experiments
    assert pooled.seeds == [0, 1] and "2 seeds" in pooled.label
    epoch1 = dict(pooled.test_acc)[1]
    assert epoch1.n == 2 and epoch1.ci_low < epoch1.mean < epoch1.ci_high
    assert dict(single.test_acc)[1].ci_low is None
    assert pooled.eb_epochs == [3, 3] and pooled.eb.mean == 3
    columns, rows = leaderboard(experiments)
    assert columns[:3] == ["experiment", "pruner", "acc p=30%"] and "MACs p=30%" in columns
    spline = [r for r in rows if r[1] == "spline"]
    assert "±" in spline[0][2] and "±" not in spline[1][2]


@pilot_test
async def test_space_marks_runs_and_c_opens_the_comparison_and_e_exports_it(fixture_store):
    _three_runs(fixture_store)
    app = SplinebenchDashboard(str(fixture_store), profiles_dir=str(PROFILES))
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.runs_screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == 3, what="three runs")
        await pilot.press("c")  # nothing marked, the cursor on a sweep trial: the sweep opens, seeds pooled
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.experiments,
                       what="the sweep")
        assert [len(e.runs) for e in app.screen.experiments] == [2]
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("down", "down")
        await pilot.pause()
        assert app.runs_screen.selected_run_id() == OTHER
        await pilot.press("c")
        await pilot.pause()
        assert app.screen is app.runs_screen  # one run, no sweep, nothing marked: a hint, no screen
        await pilot.press("up", "up", "space", "space")
        await pilot.pause()
        assert len(app.runs_screen.marked) == 2
        assert screen_text(app).count("● quickstart") == 2
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.experiments,
                       what="the comparison")
        assert "test accuracy" in screen_text(app)
        assert "EB@3" in screen_text(app)
        await pilot.press("4")
        await pilot.pause()
        assert "dense (unpruned)" in screen_text(app)
        await pilot.press("1", "e")
        exports = fixture_store.parent / "exports"
        await wait_for(pilot, lambda: len(list(exports.glob("compare-*"))) == 3, what="the exported files")
        assert sorted(p.suffix for p in exports.iterdir()) == [".csv", ".png", ".svg"]
        rows = list(csv.DictReader(next(exports.glob("*.csv")).open()))
        assert rows and rows[0]["epoch"] == "1" and float(rows[0]["mean"]) > 0
        await pilot.press("escape")
        assert app.screen is app.runs_screen


@pilot_test
async def test_e_exports_the_open_run_panel_as_figure_and_csv(fixture_store):
    app = SplinebenchDashboard(str(fixture_store), profiles_dir=str(PROFILES))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.runs_screen.query_one(DataTable).row_count == 1, what="the run")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.feed.loaded, what="run")
        await pilot.press("3", "e")
        exports = fixture_store.parent / "exports"
        await wait_for(pilot, lambda: exports.exists() and len(list(exports.iterdir())) >= 3, timeout=30,
                       what="the exported matrix")
        suffixes = sorted(p.suffix for p in exports.iterdir())
        assert suffixes == [".csv", ".png", ".svg"]
        rows = list(csv.reader(next(exports.glob("*.csv")).open()))
        assert rows[0] == ["epoch_i", "epoch_j", "distance"] and len(rows) > 10


@pilot_test
async def test_ctrl_click_marks_a_run_as_space_does(fixture_store):
    _three_runs(fixture_store)
    app = SplinebenchDashboard(str(fixture_store), profiles_dir=str(PROFILES))
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.runs_screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == 3, what="three runs")
        await pilot.click(table, offset=(12, 3), control=True)  # the third row's name cell
        await pilot.pause()
        assert app.screen is app.runs_screen  # marking does not open the run
        assert app.runs_screen.marked == {OTHER}
