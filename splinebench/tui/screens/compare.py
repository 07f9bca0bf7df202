"""The comparison screen: several runs (or a sweep's seeds, pooled) side by side.

Opened from the runs screen with the runs marked by space (``c``). Panels: test accuracy and whole-net
partition distance per dense epoch, overlaid, each experiment's EB epoch marked in its own colour; per-layer
distance at each experiment's EB epoch (the ticket moment); and one leaderboard. A pooled experiment draws its
mean with the 95% interval as dotted lines. ``e`` exports the open panel (PNG, SVG and CSV) through the report's
figure code.
"""

from __future__ import annotations

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane, Tabs

from splinebench.store import StoreError, StoreReader
from splinebench.tui.colours import swatch
from splinebench.tui.compare_data import Experiment, leaderboard, load_experiments
from splinebench.tui.widgets.cell_plot import CellPlot
from splinebench.tui.widgets.plots import EB_COLOUR, PHASE_COLOURS, epoch_ticks

COMPARE_PANELS = (("cmp-acc", "Accuracy"), ("cmp-net", "Net distance"), ("cmp-layers", "Layers"),
                  ("cmp-board", "Leaderboard"))


class ComparePlot(CellPlot):
    """One metric per dense epoch, a line per experiment; a pooled one with its interval dotted."""

    def show(self, experiments: list[Experiment], metric: str, title: str) -> None:
        plt = self.plt
        plt.clear_figure()
        plt.title(title)
        plt.xlabel("dense epoch")
        last = 1
        for n, exp in enumerate(experiments):
            series = getattr(exp, metric)
            if not series:
                continue
            colour = PHASE_COLOURS[n % len(PHASE_COLOURS)]
            xs = [e for e, _ in series]
            # no plotext legend: it would sit on the data; the colour key is the line above the plot
            plt.plot(xs, [s.mean for _, s in series], color=colour, marker="braille")
            if any(s.ci_low is not None for _, s in series):
                for bound in ("ci_low", "ci_high"):
                    ys = [getattr(s, bound) if getattr(s, bound) is not None else s.mean for _, s in series]
                    plt.plot(xs, ys, color=colour, marker="dot")
            if exp.eb is not None:
                plt.vline(exp.eb.mean, colour)
            last = max(last, xs[-1])
        plt.xticks(epoch_ticks(1, last))
        self.replot()


class CompareScreen(Screen[None]):
    """Experiments side by side; number keys switch panels."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        *[Binding(str(n), f"panel('{pid}')", title, show=False) for n, (pid, title) in enumerate(COMPARE_PANELS, 1)],
        Binding("e", "export", "Export"),
    ]

    def __init__(self, run_ids: list[str]) -> None:
        super().__init__()
        self.run_ids = run_ids
        self.experiments: list[Experiment] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading ...", id="compare-legend")
        with TabbedContent(id="compare-panels", initial="cmp-acc"):
            with TabPane("1 Accuracy", id="cmp-acc"):
                yield ComparePlot(id="cmp-acc-plot")
            with TabPane("2 Net distance", id="cmp-net"):
                yield ComparePlot(id="cmp-net-plot")
            with TabPane("3 Layers", id="cmp-layers"):
                yield DataTable(id="cmp-layers-table", zebra_stripes=True, cursor_type="row")
            with TabPane("4 Leaderboard", id="cmp-board"):
                yield DataTable(id="cmp-board-table", zebra_stripes=True, cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"comparing {len(self.run_ids)} runs"
        self.query_one("#compare-panels", TabbedContent).query_one(Tabs).focus()
        self._load()

    @work(thread=True, exclusive=True, group="compare-load")
    def _load(self) -> None:
        try:
            reader = StoreReader(self.app.store.path)  # type: ignore[attr-defined]
            try:
                experiments = load_experiments(reader, self.run_ids)
            finally:
                reader.close()
        except StoreError as exc:
            self.app.call_from_thread(self.app.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self.show, experiments)

    def show(self, experiments: list[Experiment]) -> None:
        self.experiments = experiments
        parts = []
        for n, exp in enumerate(experiments):
            eb = exp.eb
            when = "no EB" if eb is None else f"EB@{eb.mean:.3g}"
            parts.append(f"{swatch(PHASE_COLOURS[n % len(PHASE_COLOURS)])} {escape(exp.label)}: {when}")
        self.query_one("#compare-legend", Static).update("  ".join(parts) + f"   {swatch(EB_COLOUR, '|')} EB epoch")
        self.query_one("#cmp-acc-plot", ComparePlot).show(experiments, "test_acc", "test accuracy (%)")
        self.query_one("#cmp-net-plot", ComparePlot).show(
            experiments, "net", "whole-net partition distance (mean of layers)"
        )
        layers = self.query_one("#cmp-layers-table", DataTable)
        layers.clear(columns=True)
        layers.add_column("layer")
        for exp in experiments:
            eb = exp.eb
            layers.add_column(f"{exp.label} @{'EB ' + format(eb.mean, '.3g') if eb else 'last'}")
        names = list(dict.fromkeys(name for exp in experiments for name, _ in exp.layers))
        for name in names:
            cells = []
            for exp in experiments:
                found = dict(exp.layers).get(name)
                cells.append("-" if found is None else f"{found.mean:.4f}")
            layers.add_row(name, *cells)
        board = self.query_one("#cmp-board-table", DataTable)
        board.clear(columns=True)
        columns, rows = leaderboard(experiments)
        board.add_columns(*columns)
        for row in rows:
            board.add_row(*row)

    def action_panel(self, pid: str) -> None:
        self.query_one("#compare-panels", TabbedContent).active = pid
        pane = self.query_one(f"#{pid}", TabPane)
        target = next((w for w in pane.query("*") if w.can_focus), None)
        (target or self.query_one("#compare-panels", TabbedContent).query_one(Tabs)).focus()

    def action_export(self) -> None:
        from splinebench.tui.export import export_comparison

        pid = self.query_one("#compare-panels", TabbedContent).active or "cmp-acc"
        try:
            paths = export_comparison(self.experiments, pid, self.app.store.path)  # type: ignore[attr-defined]
        except OSError as exc:
            self.notify(f"export failed: {exc}", severity="error")
            return
        self.notify("\n".join(str(p) for p in paths), title="Exported", timeout=8)
