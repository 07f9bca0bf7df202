"""SVG snapshots of the dashboard on the recorded store (after a deliberate change: ``--snapshot-update``).

The app is started from the store's folder with a relative path, so no temporary path appears on screen; the
recorded store has its host, pid and folder stripped, and times are drawn in UTC.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import DataTable
from tui_helpers import FIXTURE_STORE, PROFILES, wait_for

from splinebench.tui import SplinebenchDashboard
from splinebench.tui.screens.run import RunScreen


@pytest.fixture
def app(tmp_path, monkeypatch) -> SplinebenchDashboard:
    shutil.copy(FIXTURE_STORE, tmp_path / "store.sqlite")
    monkeypatch.chdir(tmp_path)
    return SplinebenchDashboard("store.sqlite", profiles_dir=str(PROFILES))


async def _runs_listed(pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.runs_screen.query_one(DataTable).row_count == 1, what="the run row")


def _open_panel(key: str | None):
    async def run_before(pilot) -> None:
        app = pilot.app
        await _runs_listed(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.feed.loaded, what="run")
        if key is not None:
            await pilot.press(key)
        await pilot.pause(0.2)

    return run_before


SIZES = [(80, 24), (200, 60)]
SIZE_IDS = ["80x24", "200x60"]
PANEL_KEYS = {"layers": None, "net_distance": "2", "matrix": "3", "flops": "4", "energy": "5", "curves": "6",
              "leaderboard": "7"}


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_runs_screen(snap_compare, app, size) -> None:
    assert snap_compare(app, terminal_size=size, run_before=_runs_listed)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("panel", list(PANEL_KEYS))
def test_run_screen_panel(snap_compare, app, panel, size) -> None:
    assert snap_compare(app, terminal_size=size, run_before=_open_panel(PANEL_KEYS[panel]))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_compare_screen(snap_compare, app, size) -> None:
    from tui_helpers import FIXTURE_RUN, clone_run

    from splinebench.tui.screens.compare import CompareScreen

    clone_run(Path("store.sqlite"), FIXTURE_RUN, "20261126-100000-bbbbbb", seed=1, sweep_id="sw1", acc_shift=0.02)

    async def run_before(pilot) -> None:
        await wait_for(pilot, lambda: pilot.app.runs_screen.query_one(DataTable).row_count == 2, what="two runs")
        await pilot.press("c")  # the cursor is on a sweep trial: the sweep opens, its two seeds pooled
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CompareScreen) and pilot.app.screen.experiments,
                       what="the comparison")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
