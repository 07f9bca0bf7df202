"""Focus never goes astray: after help, the command palette or the launch dialog, on every panel, the keys in the
footer act at once (the bug: focus landed in the hidden layer-filter box, which then swallowed digits, q and ?)."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, TabbedContent
from tui_helpers import PROFILES, pilot_test, screen_text, wait_for

from splinebench.tui import SplinebenchDashboard
from splinebench.tui.panels import PANELS
from splinebench.tui.screens.dialogs import HelpScreen
from splinebench.tui.screens.launch import LaunchScreen
from splinebench.tui.screens.run import RunScreen

DIALOGS = {"help": ("question_mark", HelpScreen), "palette": ("ctrl+p", None), "launch": ("n", LaunchScreen)}


async def _open_and_close(pilot, app, dialog: str) -> None:
    key, screen_type = DIALOGS[dialog]
    screen = app.screen
    await pilot.press(key)
    await wait_for(pilot, lambda: app.screen is not screen, what=f"the {dialog} to open")
    if screen_type is not None:
        assert isinstance(app.screen, screen_type)
    await pilot.press("escape")
    await wait_for(pilot, lambda: app.screen is screen, what=f"the {dialog} to close")
    await pilot.pause()


# one dialog in the default run (each case walks every panel); the others with -m slow
@pytest.mark.parametrize("dialog", [d if d == "launch" else pytest.param(d, marks=pytest.mark.slow) for d in DIALOGS])
@pilot_test
async def test_footer_keys_work_on_every_panel_after_a_dialog_closes(fixture_store, dialog):
    app = SplinebenchDashboard(str(fixture_store), profiles_dir=str(PROFILES))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.runs_screen.query_one(DataTable).row_count == 1, what="the run row")
        await _open_and_close(pilot, app, dialog)
        assert isinstance(app.focused, DataTable), f"runs screen after {dialog}: focus on {app.focused}"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.feed.loaded, what="the run")
        run_screen = app.screen
        assert isinstance(run_screen, RunScreen)
        tabs = run_screen.query_one(TabbedContent)
        for n, pid in enumerate([p.pid for p in PANELS], 1):
            await pilot.press(str(n))
            await pilot.pause()
            assert tabs.active == pid
            await _open_and_close(pilot, app, dialog)
            where = f"panel {pid} after the {dialog}"
            assert app.focused is not None and not isinstance(app.focused, Input), f"{where}: focus {app.focused}"
            window = run_screen.window_index
            await pilot.press("w")  # a footer key
            await pilot.pause()
            assert run_screen.window_index != window, f"{where}: w did nothing"
            other = PANELS[n % len(PANELS)].pid
            await pilot.press(str(n % len(PANELS) + 1))  # a number key moves to the next panel ...
            await pilot.pause()
            assert tabs.active == other, f"{where}: the number key was lost"
            await pilot.press(str(n))  # ... and back
            await pilot.pause()
        await pilot.press("1")
        await pilot.pause()
        assert "no per-layer distances yet" not in screen_text(app)
        assert "Help" in screen_text(app).splitlines()[-1]  # the footer still offers ? Help
