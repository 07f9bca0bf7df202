"""SVG snapshots of the dashboard on the recorded store (after a deliberate change: ``--snapshot-update``).

The app is started from the store's folder with a relative path, so no temporary path appears on screen; the
recorded store has its host, pid and folder stripped, and times are drawn in UTC.
"""

from __future__ import annotations

import shutil

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


def test_runs_screen(snap_compare, app) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_runs_listed)


def test_run_screen_layers_panel(snap_compare, app) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_panel(None))


def test_run_screen_net_distance_panel(snap_compare, app) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_panel("2"))


def test_run_screen_matrix_panel(snap_compare, app) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_panel("3"))


def test_run_screen_flops_panel(snap_compare, app) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_panel("4"))


def test_run_screen_leaderboard_panel(snap_compare, app) -> None:
    assert snap_compare(app, terminal_size=(100, 24), run_before=_open_panel("7"))
