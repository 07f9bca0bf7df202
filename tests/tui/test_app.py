"""The real dashboard driven through Textual's pilot, on the recorded store (no subprocesses)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, TabbedContent
from tui_helpers import FIXTURE_RUN, PROFILES, pilot_test, screen_text, wait_for

from splinebench.store import StoreWriter
from splinebench.tui import SplinebenchDashboard
from splinebench.tui.screens.dialogs import HelpScreen, StoreProblemScreen
from splinebench.tui.screens.launch import LaunchScreen
from splinebench.tui.screens.run import RunScreen
from splinebench.tui.synthetic import SyntheticRun
from splinebench.tui.widgets.early_bird import EarlyBirdBar
from splinebench.tui.widgets.heat_strip import LayerHeatStrip


def _app(store: Path | str) -> SplinebenchDashboard:
    return SplinebenchDashboard(str(store), profiles_dir=str(PROFILES))


async def _open_fixture_run(pilot, app: SplinebenchDashboard) -> RunScreen:
    await wait_for(pilot, lambda: app.runs_screen.query_one(DataTable).row_count == 1, what="the run row")
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.feed.loaded, what="a run")
    assert isinstance(app.screen, RunScreen)
    return app.screen


@pilot_test
async def test_the_runs_screen_lists_the_recorded_run_with_status_eb_epoch_and_best_accuracy(fixture_store):
    app = _app(fixture_store)
    async with app.run_test(size=(160, 24)) as pilot:
        await wait_for(pilot, lambda: app.runs_screen.query_one(DataTable).row_count == 1, what="the run row")
        text = screen_text(app)
        assert FIXTURE_RUN in text
        assert "finished" in text
        assert "61.20" in text  # best accuracy
        assert "5/5 rt 6/6" in text  # dense epochs and retrain phases done


@pilot_test
async def test_enter_opens_the_run_and_number_keys_switch_panels(fixture_store):
    app = _app(fixture_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_fixture_run(pilot, app)
        assert "features.block3.act" in screen_text(app)
        expected = {
            "2": "whole-net distance",
            "3": "epoch x epoch distance",
            "4": "MACs (fvcore)",
            "5": "no meter",
            "6": "test accuracy",
            "7": "eb-spline",
        }
        for key, visible in expected.items():
            await pilot.press(key)
            await pilot.pause()
            assert visible in screen_text(app), f"panel {key} does not show {visible!r}"
        assert screen.query_one(TabbedContent).active == "leaderboard"
        await pilot.press("escape")
        assert not isinstance(app.screen, RunScreen)


@pilot_test
async def test_the_early_bird_is_marked_on_the_bar_and_in_the_heat_strip(fixture_store):
    app = _app(fixture_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_fixture_run(pilot, app)
        bar = screen.query_one(EarlyBirdBar)
        assert bar.has_class("fired")
        assert "EARLY BIRD at epoch 3" in screen_text(app)
        assert screen.query_one(LayerHeatStrip).eb_epoch == 3
        assert "▼EB" in screen_text(app)


@pilot_test
async def test_the_layer_under_the_cursor_is_named_with_its_distance(fixture_store):
    app = _app(fixture_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_fixture_run(pilot, app)
        await pilot.press("down", "down", "home")
        text = screen_text(app)
        assert "features.block3.act @ epoch 1: 0.4763" in text


@pilot_test
async def test_the_layer_filter_keeps_only_matching_layers(fixture_store):
    app = _app(fixture_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_fixture_run(pilot, app)
        await pilot.press("slash", "2", "enter")
        strip = screen.query_one(LayerHeatStrip)
        assert [strip.series.layer_names[i] for i in strip._visible] == ["features.block2.act"]


@pilot_test
async def test_the_runs_filter_hides_runs_that_do_not_match(fixture_store):
    app = _app(fixture_store)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.runs_screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == 1, what="the run row")
        await pilot.press("slash", "z", "z", "z")
        assert table.row_count == 0
        await pilot.press("escape")
        assert table.row_count == 1


@pilot_test
async def test_sort_cycles_through_keys_and_says_which(fixture_store):
    app = _app(fixture_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.runs_screen.query_one(DataTable).row_count == 1, what="the run row")
        await pilot.press("s")
        assert "sort: status" in screen_text(app)


@pilot_test
async def test_question_mark_opens_help_and_escape_closes_it(fixture_store):
    app = _app(fixture_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@pilot_test
async def test_the_command_palette_opens_a_run_by_id(fixture_store):
    app = _app(fixture_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.runs_screen.query_one(DataTable).row_count == 1, what="the run row")
        await pilot.press("ctrl+p")
        await pilot.press(*"7d4035")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), what="the run screen")
        assert app.screen.run_id == FIXTURE_RUN


@pilot_test
async def test_the_launch_screen_offers_the_quickstart_profile_and_shows_the_command(fixture_store):
    app = _app(fixture_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        assert isinstance(app.screen, LaunchScreen)
        app.screen.query_one("#overrides").load_text("train.epochs=2")
        await pilot.pause()
        text = screen_text(app)
        assert "quickstart" in text
        assert "--set train.epochs=2" in text


@pilot_test
async def test_an_override_that_is_not_key_value_is_refused_before_anything_starts(fixture_store):
    app = _app(fixture_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        app.screen.query_one("#overrides").load_text("train.epochs")
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, LaunchScreen)
        assert "not KEY=VALUE" in screen_text(app)
        assert not app.launcher.children


@pilot_test
async def test_a_missing_store_says_so_and_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = _app("nothing-here.sqlite")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "No store at" in text and "nothing-here.sqlite" in text
        assert "Press n to launch a run" in text


@pilot_test
async def test_a_corrupt_store_shows_a_problem_screen_not_a_traceback(tmp_path):
    bad = tmp_path / "store.sqlite"
    bad.write_bytes(b"\x00garbage, not sqlite\x00" * 200)
    app = _app(bad)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StoreProblemScreen)
        text = screen_text(app)
        assert "not a readable splinebench store" in text
        await pilot.press("q")
    assert app.return_code in (0, None)


def _synthetic_store(tmp_path: Path, run: SyntheticRun, epochs: int) -> tuple[StoreWriter, Path]:
    path = tmp_path / "store.sqlite"
    writer = StoreWriter(path)
    writer.write_many(run.start())
    for epoch in range(1, epochs + 1):
        writer.write_many(run.epoch(epoch))
    return writer, path


@pilot_test
async def test_an_early_bird_firing_while_watching_notifies_and_marks_the_run(tmp_path):
    run = SyntheticRun(layers=6, epochs=60, eps=0.05)
    writer, path = _synthetic_store(tmp_path, run, 2)
    app = SplinebenchDashboard(str(path), profiles_dir=str(PROFILES), poll_interval=0.05)
    notes: list[str] = []
    app.notify = lambda message, **kw: notes.append(f"{kw.get('title')}: {message}")  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.runs_screen.query_one(DataTable).row_count == 1, what="the run row")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.feed.loaded, what="a run")
        screen = app.screen
        assert not screen.query_one(EarlyBirdBar).has_class("fired")
        assert "EB FIFO 2/2" in screen_text(app)
        epoch = 2
        while run.fired is None:
            epoch += 1
            writer.write_many(run.epoch(epoch))
        await wait_for(pilot, lambda: screen.query_one(EarlyBirdBar).has_class("fired"), what="the EB marker")
        await wait_for(pilot, lambda: any(n.startswith("Early bird") for n in notes), what="the notification")
        assert screen.query_one(LayerHeatStrip).eb_epoch == run.fired
        assert f"dense {epoch}/60" in screen_text(app)


@pilot_test
async def test_the_energy_panel_shows_power_per_rail_and_joules_per_phase_when_the_run_has_a_meter(tmp_path):
    run = SyntheticRun(layers=4, epochs=10)
    writer, path = _synthetic_store(tmp_path, run, 3)
    writer.write(run.dense_energy())
    writer.write_power_samples(run.run_id, run.power_samples(20))
    app = _app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.runs_screen.query_one(DataTable).row_count == 1, what="the run row")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.feed.loaded, what="a run")
        await pilot.press("5")
        text = screen_text(app)
        assert "no meter" not in text
        assert "VDD_CPU" in text and "VDD_GPU" in text
        assert "1.23 kJ" in text  # dense phase, gross
        assert "834 J" in text  # net of idle


@pilot_test
async def test_a_remote_run_names_the_host_it_trains_on(fixture_store):
    writer = StoreWriter(fixture_store)
    writer.set_run_fields(FIXTURE_RUN, remote={"host": "nvidia@orin:22", "pid": 4242, "url": "ssh://nvidia@orin"})
    writer.close()
    app = _app(fixture_store)
    async with app.run_test(size=(200, 24)) as pilot:
        await _open_fixture_run(pilot, app)
        assert "on nvidia@orin:22" in screen_text(app)


@pilot_test
async def test_a_loaded_run_is_frozen_out_of_full_collections(fixture_store):
    """Full collections over the whole app took 60-80 ms in the middle of redraws (tui/memory.py): once a run's
    screen has loaded, what exists then is exempt from them."""
    import gc

    app = _app(fixture_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        gc.unfreeze()
        await _open_fixture_run(pilot, app)
        await wait_for(pilot, lambda: gc.get_freeze_count() > 0, what="the loaded run frozen")
        assert gc.get_freeze_count() > len(gc.get_objects())  # most of what exists is exempt from collections
    gc.unfreeze()


def test_settling_memory_still_reclaims_garbage_made_before_an_earlier_freeze() -> None:
    """Freezing must not leak: a cycle that was alive at one settle and dropped since is collected at the next."""
    import gc
    import weakref

    from splinebench.tui.memory import settle_memory

    class Node:
        pass

    node = Node()
    node.self = node  # a cycle: only the collector can reclaim it
    alive = weakref.ref(node)
    try:
        settle_memory()
        assert gc.get_freeze_count() > 0
        del node
        gc.collect()
        assert alive() is not None  # frozen: an ordinary collection skips it
        settle_memory()
        assert alive() is None
    finally:
        gc.unfreeze()


@pilot_test
async def test_the_runs_table_waits_under_a_run_screen_and_catches_up_when_shown_again(tmp_path):
    """Textual repaints the screen on top wherever the one below changed, so updating the runs table every epoch
    under a run's screen redrew that whole screen: the table is brought up to date when it is shown again."""
    run = SyntheticRun(layers=4, epochs=20)
    writer, path = _synthetic_store(tmp_path, run, 2)
    app = SplinebenchDashboard(str(path), profiles_dir=str(PROFILES), poll_interval=0.05)
    async with app.run_test(size=(120, 24)) as pilot:
        table = app.runs_screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == 1, what="the run row")
        progress = lambda: str(table.get_cell(run.run_id, "progress"))  # noqa: E731
        shown = progress()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.feed.loaded, what="a run")
        for epoch in (3, 4, 5):
            writer.write_many(run.epoch(epoch))
        await wait_for(pilot, lambda: "dense 5/20" in screen_text(app), what="the run screen at epoch 5")
        assert progress() == shown  # the hidden table was not touched
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.runs_screen, what="the runs screen")
        assert shown.startswith("2/20") and progress().startswith("5/20")
