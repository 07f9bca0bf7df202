"""The dashboard with real training runs: launched from it, stopped, resumed, and watched while another process
writes the store. Each starts ``splinebench run`` on a shortened quickstart (tens of seconds on two cores); they
are the dashboard's acceptance tests, so they stay in the default run.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable, TextArea
from tui_helpers import PROFILES, pilot_test, screen_text, wait_for

from splinebench.tui import SplinebenchDashboard
from splinebench.tui.screens.run import RunScreen
from splinebench.tui.screens.runs import RunsScreen
from splinebench.tui.widgets.early_bird import EarlyBirdBar
from splinebench.tui.widgets.heat_strip import LayerHeatStrip

SHORT = ["train.epochs=4", "retrain.epochs=1", "prune.ratios=[0.5]"]
RUN_TIMEOUT = 240.0  # generous: two cores shared with whatever else the machine runs


def _status(app: SplinebenchDashboard, run_id: str) -> str | None:
    summary = app.runs_feed.summaries.get(run_id)
    return summary.run.status if summary else None


@pilot_test
async def test_a_run_launched_from_the_dashboard_shows_distances_and_the_eb_marker_and_can_be_stopped_and_resumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = SplinebenchDashboard(str(tmp_path / "store.sqlite"), profiles_dir=str(PROFILES))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n")
        # eps 0.9: the spline EB fires as soon as its FIFO of two distances is full, at epoch 2.
        app.screen.query_one("#overrides", TextArea).load_text("\n".join([*SHORT, "early_bird.eps=0.9"]))
        await pilot.press("ctrl+s")
        assert len(app.launcher.children) == 1

        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), RUN_TIMEOUT, what="the launched run")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        run_id = screen.run_id
        await wait_for(pilot, lambda: bool(screen.feed.epochs.get("dense")), RUN_TIMEOUT, what="an epoch")
        await wait_for(pilot, lambda: bool(screen.query_one(LayerHeatStrip).series.per_epoch), RUN_TIMEOUT,
                       what="per-layer distances in the heat strip")

        await wait_for(pilot, lambda: screen.query_one(EarlyBirdBar).has_class("fired"), RUN_TIMEOUT,
                       what="the EB marker")
        assert "EARLY BIRD at epoch 2" in screen_text(app)
        assert screen.query_one(LayerHeatStrip).eb_epoch == 2

        await pilot.press("x")
        await pilot.press("y")
        await wait_for(pilot, lambda: _status(app, run_id) == "interrupted", 60, what="the run to stop")
        await wait_for(pilot, lambda: not app.launcher.children, 10, what="the process to be reaped")

        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)
        await pilot.press("r")
        await wait_for(pilot, lambda: _status(app, run_id) == "running", 60, what="the resumed run")
        await wait_for(pilot, lambda: _status(app, run_id) == "finished", RUN_TIMEOUT, what="the resumed run")
        assert app.runs_feed.summaries[run_id].run.eb_epoch == 2


@pilot_test
async def test_a_store_written_by_a_separate_run_process_is_shown_live(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    command = [sys.executable, "-m", "splinebench.cli.app", "run", str(PROFILES / "quickstart.toml"),
               "--store", str(store), *[arg for item in SHORT for arg in ("--set", item)]]
    log = open(tmp_path / "run.log", "wb")  # noqa: SIM115 - closed in finally, after the process
    process = subprocess.Popen(command, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        app = SplinebenchDashboard(str(store), profiles_dir=str(PROFILES))  # the store does not exist yet
        async with app.run_test(size=(100, 30)) as pilot:
            table = app.runs_screen.query_one(DataTable)
            await wait_for(pilot, lambda: table.row_count == 1, RUN_TIMEOUT, what="the run in the list")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), 10, what="the run screen")
            screen = app.screen
            assert isinstance(screen, RunScreen)

            def dense_epochs() -> int:
                return len(screen.feed.epochs.get("dense", {}))

            await wait_for(pilot, lambda: dense_epochs() >= 1, RUN_TIMEOUT, what="a first epoch")
            seen = dense_epochs()
            await wait_for(pilot, lambda: dense_epochs() > seen, RUN_TIMEOUT, what="another epoch, live")
            assert f"dense {dense_epochs()}/4" in screen_text(app)
            assert len(screen.query_one(LayerHeatStrip).series.per_epoch) >= dense_epochs() - 1
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
