"""80x24 fits: footers show Enter, Help and Quit; wide tables scroll instead of cutting; plot keys sit off the
data; retraining continues after the dense epochs on one axis."""

from __future__ import annotations

from textual.widgets import DataTable
from tui_helpers import PROFILES, pilot_test, screen_text, wait_for

from splinebench.tui import SplinebenchDashboard
from splinebench.tui.screens.run import RunScreen


def _footer(app) -> str:
    return screen_text(app).rstrip("\n").splitlines()[-1]


@pilot_test
async def test_at_80x24_footers_fit_and_tables_scroll(fixture_store):
    app = SplinebenchDashboard(str(fixture_store), profiles_dir=str(PROFILES))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.runs_screen.query_one(DataTable).row_count == 1, what="the run row")
        footer = _footer(app)
        for word in ("Open", "Filter", "Compare", "Help", "Quit"):
            assert word in footer, footer
        assert "mnist-5k" not in screen_text(app)  # the dataset column is off to the right ...
        await pilot.press(*["right"] * 40)  # one column of characters per press
        await pilot.pause()
        assert "mnist-5k" in screen_text(app)  # ... and the table scrolls to it
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.feed.loaded, what="run")
        assert "Help" in _footer(app) and "Quit" in _footer(app), _footer(app)
        await pilot.press("7")
        await pilot.pause()
        assert "MACs p=70%" not in screen_text(app)
        await pilot.press(*["right"] * 40)
        await pilot.pause()
        assert "MACs p=70%" in screen_text(app)


@pilot_test
async def test_curves_keep_their_key_off_the_plot_and_retraining_follows_the_dense_epochs(fixture_store):
    app = SplinebenchDashboard(str(fixture_store), profiles_dir=str(PROFILES))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.runs_screen.query_one(DataTable).row_count == 1, what="the run row")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.feed.loaded, what="run")
        await pilot.press("6")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        key_row = next(n for n, line in enumerate(lines) if "■ dense" in line)
        plot_top = next(n for n, line in enumerate(lines) if "┌" in line)
        assert key_row < plot_top  # the key is above the plot, not on the data
        assert not any("⢕⢕" in line for line in lines)  # no plotext legend inside
        ticks = lines[plot_top + 1:]
        axis = next(line for line in ticks if "└" in line)
        labels = ticks[ticks.index(axis) + 1].split()
        assert labels[-1] == "6"  # 5 dense epochs, then the retrain epoch as epoch 6, not on top of epoch 1
