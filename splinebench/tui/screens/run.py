"""The run screen: one run, live while it trains — partition distances, EB trigger, FLOPs, energy, curves,
results.

The screen owns a :class:`~splinebench.tui.feed.RunFeed`. The first load (every row of a possibly long run)
runs in a thread worker on its own read-only connection, so opening a 160-epoch run never freezes the
keyboard; after that the app calls ``poll`` whenever the store changed (see ``SplinebenchDashboard.on_store_changed``),
the feed reads only the new rows, and each panel gets only the topics it draws.
Panels not on screen are marked stale and brought up to date when their tab is opened, so a live run costs one
panel's redraw per epoch.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Input, TabbedContent, TabPane, Tabs

from splinebench.store import StoreError, StoreReader
from splinebench.tui.feed import PartitionSeries, RunFeed
from splinebench.tui.memory import settle_memory
from splinebench.tui.panel import PanelContext
from splinebench.tui.panels import PANELS
from splinebench.tui.widgets.early_bird import EarlyBirdBar
from splinebench.tui.widgets.heat_strip import LayerHeatStrip
from splinebench.tui.widgets.run_header import RunHeader

#: Time windows ``w`` cycles through for the line plots (newest N epochs; None = all).
WINDOWS: tuple[int | None, ...] = (None, 10, 30)


class RunScreen(Screen[None]):
    """Everything about one run; number keys switch panels."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        *[
            Binding(str(n), f"panel('{panel.pid}')", panel.title, show=False)
            for n, panel in enumerate(PANELS, 1)
        ],
        Binding("tab", "next_panel", "Next panel", show=False),
        Binding("w", "widen", "Window"),
        Binding("slash", "filter_layers", "Filter"),
        Binding("p", "next_phase", "Phase", show=False),
        Binding("x", "stop", "Stop", show=False),  # in ? help; off the footer so that Help and Quit fit at 80
        Binding("e", "export", "Export"),
    ]

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.feed = RunFeed(run_id)
        self.phase = ""
        self.window_index = 0
        self.stale: set[str] = {panel.pid for panel in PANELS}
        self.redraws = 0  # panel redraws done, for tests and the benchmark

    def compose(self) -> ComposeResult:
        yield Header()
        yield RunHeader(id="run-header")
        yield EarlyBirdBar(id="eb-bar")
        # Disabled while hidden: a hidden box that can take focus swallows digits, q and ? after any dialog.
        yield Input(placeholder="filter layers by name (Enter or Esc to close)", id="layer-filter", disabled=True)
        with TabbedContent(id="panels", initial=PANELS[0].pid):
            for n, panel in enumerate(PANELS, 1):
                with TabPane(f"{n} {panel.title}", id=panel.pid):
                    yield from panel.compose()
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.run_id
        self.query_one(RunHeader).show(None, 0, None)
        self._load()
        self.query_one(LayerHeatStrip).focus()

    def on_screen_resume(self) -> None:
        """Back from help, the palette or a dialog: focus goes to the open panel unless it is somewhere sensible,
        so the footer's keys work at once."""
        self.call_after_refresh(self._settle_focus)

    def _settle_focus(self) -> None:
        focused = self.focused
        if focused is None or not focused.focusable or isinstance(focused, Input) and focused.disabled:
            self.focus_panel()

    def focus_panel(self, pid: str | None = None) -> None:
        """Focus the open panel's own widget (the heat strip, a table), or the tab bar when it has none."""
        pane = self.query_one(f"#{pid or self._active_panel()}", TabPane)
        target: Widget | None = next((w for w in pane.query("*") if w.can_focus and not w.disabled), None)
        (target or self.query_one("#panels", TabbedContent).query_one(Tabs)).focus()

    # -- data ------------------------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="run-load")
    def _load(self) -> None:
        """The first, possibly large, read on a connection of its own, off the event loop."""
        try:
            reader = StoreReader(self.app.store.path)  # type: ignore[attr-defined]
            try:
                changes = self.feed.poll(reader, force=True)
            finally:
                reader.close()
        except StoreError as exc:
            self.app.call_from_thread(self.app.store_failed, exc)  # type: ignore[attr-defined]
            return
        self.app.call_from_thread(self._loaded, changes)

    def _loaded(self, changes: set[str]) -> None:
        self.apply(changes)
        self.poll()  # what landed while the first read ran (the app's watch saw it before the feed was ready)
        self.call_after_refresh(settle_memory)  # the run's widgets and history are built: exempt them

    def poll(self) -> None:
        reader = self.app.store.reader  # type: ignore[attr-defined]
        if not self.feed.loaded or reader is None:
            return
        try:
            changes = self.feed.poll(reader)
        except StoreError as exc:
            self.app.store_failed(exc)  # type: ignore[attr-defined]
            return
        if changes:
            self.apply(changes)

    def apply(self, changes: set[str]) -> None:
        """Redraw what ``changes`` touches: the header and EB bar always, the open panel now, others when
        opened."""
        phases = self.feed.dense_phases()
        if not self.phase or self.phase not in phases:
            self.phase = phases[0] if phases else "dense"
        if changes & {"run", "epochs", "phases"}:
            self.query_one(RunHeader).show(
                self.feed.run, len(self.feed.epochs.get("dense", {})), self._current_phase()
            )
        if changes & {"net", "matrix", "early_birds", "phases"}:
            self.query_one(EarlyBirdBar).show(self.feed.early_bird_view(self.phase), self.phase)
        for panel in PANELS:
            if changes & panel.topics:
                self.stale.add(panel.pid)
        self._draw_stale()

    def _current_phase(self) -> str | None:
        running = [p for p, row in self.feed.phases.items() if row["status"] == "running"]
        return running[-1] if running else None

    def _active_panel(self) -> str:
        return self.query_one(TabbedContent).active or "layers"

    def _draw_stale(self) -> None:
        active = self._active_panel()
        if active in self.stale and self.feed.loaded:
            self.stale.discard(active)
            self.draw_panel(active)

    def draw_panel(self, pid: str) -> None:
        feed = self.feed
        context = PanelContext(feed=feed, phase=self.phase, series=feed.partition.get(self.phase, PartitionSeries()),
                               eb=feed.eb_epoch(self.phase), window=WINDOWS[self.window_index],
                               reader=self.app.store.reader)  # type: ignore[attr-defined]
        self.redraws += 1
        panel = next(p for p in PANELS if p.pid == pid)
        panel.draw(self.query_one(f"#{pid}", TabPane), context)

    def redraw_all(self) -> None:
        """Draw every panel now (the benchmark's worst case; the app itself only draws the open one)."""
        for panel in PANELS:
            self.draw_panel(panel.pid)
        self.stale.clear()

    @on(TabbedContent.TabActivated)
    def _tab_opened(self) -> None:
        self._draw_stale()

    # -- actions ---------------------------------------------------------------------------------------------
    def action_back(self) -> None:
        layer_filter = self.query_one("#layer-filter", Input)
        if layer_filter.display:
            self._close_filter()
            return
        self.app.pop_screen()

    def action_panel(self, pid: str) -> None:
        self.query_one(TabbedContent).active = pid
        self.focus_panel(pid)

    def action_next_panel(self) -> None:
        ids = [panel.pid for panel in PANELS]
        current = ids.index(self._active_panel())
        self.action_panel(ids[(current + 1) % len(ids)])

    def action_widen(self) -> None:
        self.window_index = (self.window_index + 1) % len(WINDOWS)
        window = WINDOWS[self.window_index]
        self.notify(
            f"plots show {'all epochs' if window is None else f'the last {window} epochs'}", timeout=2
        )
        self.stale |= {"distance", "curves"}
        self._draw_stale()

    def action_next_phase(self) -> None:
        phases = self.feed.dense_phases()
        if len(phases) > 1:
            self.phase = phases[(phases.index(self.phase) + 1) % len(phases)]
            self.apply({"phases"})

    def action_filter_layers(self) -> None:
        self.action_panel("layers")
        layer_filter = self.query_one("#layer-filter", Input)
        layer_filter.disabled = False
        layer_filter.display = True
        layer_filter.focus()

    @on(Input.Changed, "#layer-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(LayerHeatStrip).set_filter(event.value)

    @on(Input.Submitted, "#layer-filter")
    def _close_filter(self) -> None:
        layer_filter = self.query_one("#layer-filter", Input)
        layer_filter.display = False
        layer_filter.disabled = True
        self.query_one(LayerHeatStrip).focus()

    def action_stop(self) -> None:
        self.app.request_stop(self.run_id)  # type: ignore[attr-defined]

    def action_export(self) -> None:
        self.notify("exporting ...", timeout=2)
        self._export(self._active_panel())

    @work(thread=True, group="export")
    def _export(self, panel: str) -> None:
        """PNG, SVG and CSV of the open panel, drawn by the report's figure code on a connection of its own."""
        from splinebench.tui.export import export_run_panel

        path = self.app.store.path  # type: ignore[attr-defined]
        try:
            reader = StoreReader(path)
            try:
                paths = export_run_panel(reader, self.feed.run.id if self.feed.run else self.run_id, panel, path)
            finally:
                reader.close()
        except (StoreError, OSError) as exc:
            self.app.call_from_thread(self.notify, f"export failed: {exc}", severity="error")
            return
        self.app.call_from_thread(self.notify, "\n".join(str(p) for p in paths), title="Exported", timeout=8)
